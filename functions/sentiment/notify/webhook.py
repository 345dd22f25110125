"""One POST of a JSON message to a chat webhook, and what its answer means.

Standard library only (``http.client``): one connection per post (alerts are rare), no redirects
followed, TLS verified with the system's CA store. Bounded: connecting, sending and waiting for the
status line each time out after ``timeout`` seconds, and at most ``ANSWER_BYTES`` of the answer
are read (and only when it is an error worth quoting).

- 2xx: delivered;
- ``already_exists`` (Google Chat: 409 for a ``messageId`` it has): delivered before, so delivered;
- 408, 425, 429, 5xx, a timeout, a refused or reset connection, a DNS or TLS failure:
  ``WebhookUnavailable`` (the handler raises: Pub/Sub retries with backoff, then dead-letters);
- any other 4xx (400 bad payload, 401/403 forbidden, 404 no such webhook, 410 archived channel,
  413 too large...) and 3xx: ``WebhookRefused`` (the handler parks the alert with the reason).

The webhook URL is a credential (whoever has it can post): it is never logged or put in an
error; ``where`` names its scheme and host only.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import ConfigError, WebhookRefused, WebhookUnavailable
from . import markup

ANSWER_BYTES = 2_048
RETRYABLE = frozenset({408, 425, 429})
USER_AGENT = "air-paradis-sentiment-notifier"


@dataclass(frozen=True)
class Delivery:
    status: int
    duplicate: bool  # the webhook already had this message (idempotency parameters)
    elapsed_ms: float


class Webhook:
    def __init__(self, url: str, timeout: float, already_exists: frozenset[int] = frozenset()):
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError("the webhook URL must be an http(s) URL with a host")
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.path = parts.path or "/"
        self.query = parse_qsl(parts.query, keep_blank_values=True)
        self.timeout = timeout
        self.already_exists = already_exists
        self.where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")

    def _target(self, extra: dict[str, str] | None) -> str:
        overridden = set(extra or {})
        query = [(k, v) for k, v in self.query if k not in overridden] + list((extra or {}).items())
        return self.path + (f"?{urlencode(query)}" if query else "")

    def _connection(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def post(self, message: dict[str, Any], query: dict[str, str] | None = None) -> Delivery:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        started = time.perf_counter()
        connection = self._connection()
        try:
            connection.request("POST", self._target(query), body=body, headers={
                "Content-Type": "application/json; charset=UTF-8", "User-Agent": USER_AGENT})
            response = connection.getresponse()
            status = response.status
            answer = b"" if 200 <= status < 300 else response.read(ANSWER_BYTES)
            retry_after = response.getheader("Retry-After")
        except TimeoutError:
            raise WebhookUnavailable(f"{self.where} did not answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as error:  # refused, reset, DNS, TLS, a broken answer
            raise WebhookUnavailable(f"{self.where} could not be reached: {type(error).__name__}: "
                                     f"{markup.clean(str(error))[:200]}") from None
        finally:
            connection.close()
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        if 200 <= status < 300:
            return Delivery(status, False, elapsed)
        if status in self.already_exists:
            return Delivery(status, True, elapsed)
        said = markup.clean(answer.decode("utf-8", "replace"))[:300] or "(no answer body)"
        if status in RETRYABLE or status >= 500:
            wait = f"; Retry-After: {markup.clean(retry_after)[:20]}" if retry_after else ""
            raise WebhookUnavailable(f"{self.where} answered {status}{wait}: {said}")
        if 300 <= status < 400:
            raise WebhookRefused(status, f"{self.where} answered {status} (a redirect, not followed: the webhook "
                                         "URL has probably moved and must be updated)")
        raise WebhookRefused(status, f"{self.where} refused the message with {status}: {said}")

"""Reading model bundles from Google Cloud Storage with three plain HTTPS GETs (standard library only).

The serving path needs to read three small objects (LATEST, a manifest, a model) once per load.
The google-cloud-storage client would cost a cold start ~140 ms of imports (google-auth, requests,
urllib3, cryptography) for that; this module speaks the JSON API directly:

    GET {endpoint}/storage/v1/b/{bucket}/o/{object}?alt=media    Authorization: Bearer <token>

The token comes from the metadata server, as on every Google runtime; where there is none (a
workstation), from Application Default Credentials (google-auth, imported only then). With
``STORAGE_EMULATOR_HOST`` the emulator is read anonymously. Every call is bounded: a fetch fails
in seconds, not in minutes of retries, because a request or a Pub/Sub delivery is waiting for it.

Writing (publishing a bundle, with generation preconditions) is the converter's job, not this one's.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from .errors import ObjectNotFound, StorageError

log = logging.getLogger(__name__)

GOOGLE_ENDPOINT = "https://storage.googleapis.com"
TIMEOUT_SECONDS = 10.0  # per socket operation (connect, each read)
DEADLINE_SECONDS = 15.0  # one read, retries included
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
CHUNK_BYTES = 1 << 20
TOKEN_MARGIN_SECONDS = 60  # refresh a token this long before it expires


@dataclass(frozen=True)
class GcsPath:
    bucket: str
    name: str  # object name or prefix, without a leading slash

    @classmethod
    def parse(cls, uri: str) -> GcsPath:
        if not uri.startswith("gs://"):
            raise ValueError(f"not a gs:// URI: {uri!r}")
        bucket, _, name = uri[len("gs://"):].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        return cls(bucket, name.strip("/"))

    def child(self, name: str) -> GcsPath:
        return GcsPath(self.bucket, f"{self.name}/{name}" if self.name else name)

    @property
    def parent(self) -> GcsPath:
        return GcsPath(self.bucket, self.name.rpartition("/")[0])

    @property
    def basename(self) -> str:
        return self.name.rpartition("/")[2]

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.name}"


Location = Path | GcsPath  # where a bundle or a store lives: a local directory or a GCS prefix


def parse_location(uri: str | Location) -> Location:
    if isinstance(uri, (Path, GcsPath)):
        return uri
    return GcsPath.parse(uri) if uri.startswith("gs://") else Path(uri)


class MetadataToken:
    """Access tokens of the runtime's service account, cached until shortly before they expire."""

    def __init__(self, metadata_host: str, clock: Callable[[], float] = time.monotonic):
        self.metadata_host = metadata_host
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._adc = None  # google-auth credentials, when there is no metadata server

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires:
                self._token, lifetime = self._fetch()
                self._expires = self._clock() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        if self._adc is None:
            try:
                return self._from_metadata()
            except OSError as error:  # no metadata server here: a workstation
                log.debug("no metadata server at %s (%s): using Application Default Credentials",
                          self.metadata_host, error)
        return self._from_adc()

    def _from_metadata(self) -> tuple[str, float]:
        host, _, port = self.metadata_host.partition(":")
        connection = http.client.HTTPConnection(host, int(port or 80), timeout=2.0)
        try:
            connection.request("GET", "/computeMetadata/v1/instance/service-accounts/default/token",
                               headers={"Metadata-Flavor": "Google"})
            response = connection.getresponse()
            body = response.read(64 * 1024)
        finally:
            connection.close()
        if response.status != 200:
            raise StorageError(f"the metadata server refused a token: HTTP {response.status}")
        try:
            payload = json.loads(body)
            return str(payload["access_token"]), float(payload.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise StorageError("the metadata server's token answer is not the expected JSON") from None

    def _from_adc(self) -> tuple[str, float]:
        try:
            import google.auth
            from google.auth.transport.requests import Request

            if self._adc is None:
                self._adc, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/devstorage.read_only"])
            self._adc.refresh(Request())
        except Exception as error:
            raise StorageError(f"no credentials to read Cloud Storage: {error}"[:500]) from None
        expiry = getattr(self._adc, "expiry", None)
        lifetime = (expiry.timestamp() - time.time()) if expiry else 300.0
        return self._adc.token, lifetime


class GcsReader:
    """GET objects over the JSON API; retries transient answers within ``deadline`` seconds."""

    def __init__(self, endpoint: str = GOOGLE_ENDPOINT, token: Callable[[], str] | None = None,
                 timeout: float = TIMEOUT_SECONDS, deadline: float = DEADLINE_SECONDS):
        base = endpoint if "://" in endpoint else f"http://{endpoint}"
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a storage endpoint: {endpoint!r}")
        self.endpoint = base.rstrip("/")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._token = token
        self.timeout, self.deadline = timeout, deadline

    @classmethod
    def from_config(cls, config) -> GcsReader:
        """The emulator anonymously when one is configured, else Google's endpoint with a token."""
        if config.storage_emulator_host:
            return cls(config.storage_emulator_host)
        return cls(GOOGLE_ENDPOINT, MetadataToken(config.metadata_host))

    def read(self, path: GcsPath, max_bytes: int) -> bytes:
        """The object's bytes; ``StorageError`` beyond ``max_bytes``, ``ObjectNotFound`` if absent."""
        chunks: list[bytes] = []
        self._get(path, chunks.append, max_bytes)
        return b"".join(chunks)

    def exists(self, path: GcsPath) -> bool:
        """Whether the object exists (its metadata, not its bytes, are read)."""
        try:
            self._get(path, lambda chunk: None, 1 << 20, media=False)
        except ObjectNotFound:
            return False
        return True

    def _get(self, path: GcsPath, consume: Callable[[bytes], None], max_bytes: int, media: bool = True) -> None:
        """One GET, retried while the failure is transient and the deadline allows. ``consume`` sees the
        chunks of one whole successful answer only (a failed attempt's bytes are discarded)."""
        url = f"/storage/v1/b/{quote(path.bucket, safe='')}/o/{quote(path.name, safe='')}"
        url += "?alt=media" if media else "?fields=name"
        deadline = time.monotonic() + self.deadline
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            chunks: list[bytes] = []
            try:
                self._attempt(url, path, chunks.append, max_bytes)
            except _Retryable as error:
                if deadline - time.monotonic() < delay:
                    raise StorageError(f"reading {path} failed after {attempt} attempts: {error}") from None
                log.warning("reading %s: %s; retrying in %.1f s", path, error, delay)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            for chunk in chunks:
                consume(chunk)
            return

    def _attempt(self, url: str, path: GcsPath, consume: Callable[[bytes], None], max_bytes: int) -> None:
        headers = {"User-Agent": "air-paradis-sentiment"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token()}"
        kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=self.timeout)
        try:
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            if response.status == 404:
                raise ObjectNotFound(f"no object {path}")
            if response.status in RETRYABLE_STATUSES:
                raise _Retryable(f"HTTP {response.status}")
            if response.status != 200:
                detail = response.read(500).decode("utf-8", "replace").strip()
                raise StorageError(f"reading {path}: HTTP {response.status} {detail[:200]}")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise StorageError(f"{path} has {int(declared):,} bytes; the limit is {max_bytes:,}")
            received = 0
            while chunk := response.read(CHUNK_BYTES):
                received += len(chunk)
                if received > max_bytes:
                    raise StorageError(f"{path} is larger than {max_bytes:,} bytes")
                consume(chunk)
            if declared and declared.isdigit() and received != int(declared):
                raise _Retryable(f"connection closed after {received} of {declared} bytes")
        except (OSError, http.client.HTTPException) as error:
            raise _Retryable(f"{type(error).__name__}: {error}") from None
        finally:
            connection.close()


class _Retryable(Exception):
    """A failed attempt that a new one may fix (connection error, timeout, 429, 5xx)."""

"""A chat webhook stand-in: a real HTTP server that records every post and answers as told.

    python -m devstack.webhook_receiver --port 8090          # what the local stack starts

- ``POST <any path>``: a post to the webhook. It is recorded (time, path, query, JSON body) and
  answered with the next scripted answer, else ``200 ok``. Like Google Chat, a post whose
  ``requestId`` was seen before gets the first one's answer and creates nothing, and a post whose
  ``messageId`` was seen before is refused with ``409 ALREADY_EXISTS`` (both are recorded, marked
  ``duplicate``); Slack's incoming webhooks have no such parameters.
- ``GET /_control/received``: the posts recorded so far (JSON array); ``DELETE`` forgets them.
- ``POST /_control/script``: a JSON array of answers for the next posts, in order:
  ``{"status": 503, "body": "...", "delay": 2.5, "headers": {...}}`` (``delay``: seconds before
  answering, to provoke a client's timeout; ``"close": true``: drop the connection unanswered).

Tests start it in a thread (``Receiver(...).start()``); the local stack as a process
(``WebhookReceiverProcess``). It binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .emulators import _Process

CONTROL = "/_control"
MAX_BODY_BYTES = 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up (a timeout test) is normal
            super().handle_error(request, client_address)


class Receiver:
    def __init__(self, port: int = 0, echo: bool = False):
        self.posts: list[dict] = []
        self.script: deque[dict] = deque()
        self.request_ids: dict[str, dict] = {}
        self.message_ids: set[str] = set()
        self.lock = threading.Lock()
        self.echo = echo  # a line on stdout per post (the process's log)
        self.server = _Server(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="webhook-receiver")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what a test does ---------------------------------------------------------------------------

    def answer_next(self, *answers: dict) -> None:
        with self.lock:
            self.script.extend(answers)

    def received(self, include_duplicates: bool = False) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if include_duplicates or not p["duplicate"]]

    def wait_for(self, count: int, timeout: float = 30.0, include_duplicates: bool = False) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            posts = self.received(include_duplicates)
            if len(posts) >= count:
                return posts
            time.sleep(0.05)
        return self.received(include_duplicates)

    # -- one post -----------------------------------------------------------------------------------

    def record(self, path: str, query: dict[str, str], raw: bytes) -> dict:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self.lock:
            scripted = self.script.popleft() if self.script else None
            duplicate, answer = False, scripted or {"status": 200, "body": "ok"}
            request_id, message_id = query.get("requestId"), query.get("messageId")
            if scripted is None and request_id and request_id in self.request_ids:
                duplicate, answer = True, self.request_ids[request_id]
            elif scripted is None and message_id and message_id in self.message_ids:
                duplicate, answer = True, {"status": 409, "body": json.dumps({"error": {
                    "code": 409, "status": "ALREADY_EXISTS", "message": f"Message {message_id} already exists"}})}
            elif scripted is None and (request_id or message_id):  # a Chat-like post: answer a Message
                answer = {"status": 200, "body": json.dumps({"name": f"spaces/local/messages/{len(self.posts)}",
                                                             "thread": {"name": "spaces/local/threads/t"}})}
            status = int(answer.get("status", 200))
            if 200 <= status < 300 and not duplicate:
                if request_id:
                    self.request_ids[request_id] = answer
                if message_id:
                    self.message_ids.add(message_id)
            post = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "path": path, "query": query,
                    "body": body, "status": status, "duplicate": duplicate}
            self.posts.append(post)
        if self.echo:
            print(json.dumps({"severity": "INFO", "message": f"post to {path}: answered {status}"
                              + (" (duplicate)" if duplicate else "")}), flush=True)
        return answer


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # the receiver logs posts itself
            pass

        def _reply(self, status: int, body: bytes | str, headers: dict | None = None) -> None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if data[:1] in (b"{", b"[") else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, str(value))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, MAX_BODY_BYTES))

        def do_GET(self) -> None:
            if urlsplit(self.path).path == f"{CONTROL}/received":
                self._reply(200, json.dumps(receiver.received(include_duplicates=True), ensure_ascii=False))
            else:
                self._reply(404, "not found")

        def do_DELETE(self) -> None:
            with receiver.lock:
                receiver.posts.clear()
            self._reply(200, "[]")

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            raw = self._body()
            if parts.path == f"{CONTROL}/script":
                receiver.answer_next(*json.loads(raw))
                self._reply(200, "ok")
                return
            answer = receiver.record(parts.path, dict(parse_qsl(parts.query)), raw)
            if answer.get("delay"):
                time.sleep(float(answer["delay"]))
            if answer.get("close"):
                self.close_connection = True
                self.connection.close()
                return
            self._reply(int(answer.get("status", 200)), answer.get("body", ""), answer.get("headers"))

    return Handler


class WebhookReceiverProcess(_Process):
    """The receiver as a process of the local stack (its posts are kept in memory; the log names them)."""

    name = "webhook-receiver"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "devstack.webhook_receiver", "--port", str(self.port)]

    def ready_url(self) -> str:
        return f"{self.url}{CONTROL}/received"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def webhook_url(self, format_: str) -> str:
        """The URL the notifier posts to; a Google Chat one has the shape of a space's webhook."""
        if format_ == "google_chat":
            return f"{self.url}/v1/spaces/local/messages?key=local-key&token=local-token"
        return f"{self.url}/services/T0LOCAL/B0LOCAL/local-token"


def received_from(url: str, timeout: float = 5.0) -> list[dict]:
    """The posts a receiver at ``url`` recorded (for a receiver in another process)."""
    import urllib.request

    with urllib.request.urlopen(f"{url.rstrip('/')}{CONTROL}/received", timeout=timeout) as response:
        return json.load(response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.webhook_receiver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    receiver = Receiver(args.port, echo=True)
    print(json.dumps({"severity": "INFO", "message": f"webhook receiver on {receiver.url}"}), flush=True)
    receiver.server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

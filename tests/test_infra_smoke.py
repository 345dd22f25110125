"""infra/checks/smoke_test.sh against a local stand-in of the HTTP function (loopback only).

The stand-in answers like the deployed function: 403 without the expected identity token, then
/health, /predict and /model. `gcloud` is replaced by a script printing that token.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "infra" / "checks" / "smoke_test.sh"
TOKEN = "test-identity-token"


def stand_in(require_token: bool, prediction: dict) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _allowed(self) -> bool:
            if require_token and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._reply(403, {"error": "forbidden"})
                return False
            return True

        def _reply(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self._allowed():
                self._reply(200, {"status": "ok"} if self.path == "/health" else {"model_version": "v1"})

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self._allowed():
                self._reply(200 if self.path == "/predict" else 404, prediction)

    return Handler


@pytest.fixture
def fake_gcloud(tmp_path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(f"#!/bin/sh\necho {TOKEN}\n")
    gcloud.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}


@contextmanager
def serve(require_token: bool, prediction: dict) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), stand_in(require_token, prediction))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


GOOD = {"sentiment": "positive", "probability_positive": 0.93, "model_version": "v1"}


def run(url: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), url, *flags], capture_output=True, text=True, env=env, timeout=60)


def test_a_private_healthy_function_passes(fake_gcloud):
    with serve(require_token=True, prediction=GOOD) as url:
        result = run(url + "/", fake_gcloud)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "unauthenticated requests are refused (HTTP 403)" in result.stdout
        assert "/predict -> positive" in result.stdout


def test_a_function_answering_without_a_token_fails(fake_gcloud):
    with serve(require_token=False, prediction=GOOD) as url:
        result = run(url, fake_gcloud)
        assert result.returncode == 1
        assert "must not be public" in result.stderr
        assert run(url, fake_gcloud, "--public").returncode == 0  # unless it was made public deliberately


def test_a_prediction_without_a_model_version_fails(fake_gcloud):
    with serve(require_token=True, prediction={"sentiment": "positive", "probability_positive": 0.9}) as url:
        result = run(url, fake_gcloud)
        assert result.returncode == 1
        assert "unexpected body" in result.stderr

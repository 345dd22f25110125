"""infra/checks/smoke_test.sh against a local stand-in of the HTTP function (loopback only).

The stand-in answers like the deployed function: 403 without the expected identity token, then
/health, /predict and /model. `gcloud` is replaced by a script on PATH that behaves like gcloud for
the account it is told is active: a default build account is refused identity tokens (it cannot mint
them), a user-managed service account gets one for the audience it names, a person's credentials get
one only without an audience.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
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


STAND_IN_GCLOUD = """#!/bin/sh
# Stand-in for gcloud (tests/test_infra_smoke.py): the active account is $STAND_IN_ACCOUNT; every
# identity token asked for is logged to $STAND_IN_LOG as its audience (empty: none).
case "$1 $2" in
  "auth list") echo "$STAND_IN_ACCOUNT"; exit 0 ;;
  "auth print-identity-token")
    audience=""
    for argument in "$@"; do
      case "$argument" in --audiences=*) audience="${argument#--audiences=}" ;; esac
    done
    echo "$audience" >> "$STAND_IN_LOG"
    case "$STAND_IN_ACCOUNT" in
      *@cloudbuild.gserviceaccount.com|*-compute@developer.gserviceaccount.com)
        echo "ERROR: (gcloud.auth.print-identity-token) Permission 'iam.serviceAccounts.getOpenIdToken' denied" >&2
        exit 1 ;;
      *.gserviceaccount.com) echo "TOKEN"; exit 0 ;;
      *)
        if [ -n "$audience" ]; then
          echo "ERROR: (gcloud.auth.print-identity-token) Invalid account type for '--audiences'." >&2
          exit 1
        fi
        echo "TOKEN"; exit 0 ;;
    esac ;;
esac
echo "stand-in gcloud: unexpected arguments: $*" >&2
exit 2
"""
DEPLOYER = "sentiment-deployer@air-paradis.iam.gserviceaccount.com"
DEFAULT_ACCOUNTS = ["123456789012@cloudbuild.gserviceaccount.com", "123456789012-compute@developer.gserviceaccount.com"]


@pytest.fixture
def stand_in_gcloud(tmp_path) -> Callable[[str], dict[str, str]]:
    """An environment whose gcloud is the stand-in, with ``account`` active (the log: tmp_path/audiences)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(STAND_IN_GCLOUD.replace("TOKEN", TOKEN))
    gcloud.chmod(0o755)

    def environment(account: str) -> dict[str, str]:
        return {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "STAND_IN_ACCOUNT": account,
                "STAND_IN_LOG": str(tmp_path / "audiences")}

    return environment


@pytest.fixture
def fake_gcloud(stand_in_gcloud) -> dict[str, str]:
    return stand_in_gcloud(DEPLOYER)


def audiences(env: dict[str, str]) -> list[str]:
    log = Path(env["STAND_IN_LOG"])
    return log.read_text().splitlines() if log.exists() else []


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


def test_the_deployer_asks_for_a_token_for_the_function_itself(fake_gcloud):
    with serve(require_token=True, prediction=GOOD) as url:
        result = run(url + "/", fake_gcloud)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"identity token of {DEPLOYER}" in result.stdout
    assert audiences(fake_gcloud) == [url]  # the service URL: what Cloud Run checks the audience against


@pytest.mark.parametrize("account", DEFAULT_ACCOUNTS)
def test_a_default_build_account_fails_with_what_to_fix(stand_in_gcloud, account):
    env = stand_in_gcloud(account)
    with serve(require_token=True, prediction=GOOD) as url:
        result = run(url, env)
    assert result.returncode == 1
    assert f"{account} cannot mint an identity token for {url}" in result.stderr
    assert "getOpenIdToken' denied" in result.stderr  # gcloud's own reason, passed on
    assert "roles/iam.serviceAccountOpenIdTokenCreator" in result.stderr and "serviceAccount" in result.stderr
    assert "/health" not in result.stdout


def test_a_person_gets_a_token_without_an_audience(stand_in_gcloud):
    env = stand_in_gcloud("someone@example.com")
    with serve(require_token=True, prediction=GOOD) as url:
        result = run(url, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert audiences(env) == [""]


def test_no_active_account_is_reported(stand_in_gcloud):
    with serve(require_token=True, prediction=GOOD) as url:
        result = run(url, stand_in_gcloud(""))
    assert result.returncode == 1
    assert "no active gcloud account" in result.stderr

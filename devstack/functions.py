"""The two Cloud Functions served by functions-framework as real processes, as in production."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

from .emulators import _Process

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "functions" / "main.py"


class FunctionServer(_Process):
    """``functions-framework --target T`` (gunicorn, as in Cloud Functions) with the given env."""

    def __init__(self, target: str, signature_type: str = "http", env: dict[str, str] | None = None,
                 port: int | None = None, log_dir: Path | None = None):
        self.name = target.replace("_", "-")
        super().__init__(port, log_dir)
        self.target, self.signature_type, self.extra_env = target, signature_type, env or {}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "functions_framework", "--target", self.target,
                "--signature-type", self.signature_type, "--source", str(MAIN),
                "--host", "127.0.0.1", "--port", str(self.port)]

    def ready_url(self) -> str:
        # the HTTP function serves /health; the CloudEvent one answers any GET with 405: it is up
        return f"{self.url}/health"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}

    def get_json(self, path: str, timeout: float = 30.0) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as response:
            return json.load(response)

"""Structured logs of a real functions-framework process: our JSON lines, and functions-framework's
execution-id logging kept (``LOG_EXECUTION_ID=true``, as Cloud Functions sets it)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from devstack.functions import FunctionServer

pytestmark = pytest.mark.slow


def lines_of(server: FunctionServer, wanted, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for line in server.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and wanted(entry):
                found.append(entry)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize("execution_ids", [True, False], ids=["LOG_EXECUTION_ID=true", "without"])
def test_request_log_lines_are_json_and_keep_the_execution_id(tmp_path, execution_ids):
    env = {"METRICS_EXPORTER": "none", "GOOGLE_CLOUD_PROJECT": "", "LOG_EXECUTION_ID": str(execution_ids).lower()}
    with FunctionServer("predict_http", "http", env, log_dir=tmp_path) as server:
        request = urllib.request.Request(f"{server.url}/predict", data=b'{"text": "lost my bag again"}',
                                         headers={"Content-Type": "application/json", "X-Request-Id": "abc-123",
                                                  "Function-Execution-Id": "exec-42"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        (entry,) = lines_of(server, lambda e: e.get("message") == "POST /predict 200")
    assert entry["severity"] == "INFO" and entry["request_id"] == "abc-123" and entry["status"] == 200
    assert entry["logger"] == "sentiment.http_api" and "latency_ms" in entry
    labels = entry.get("logging.googleapis.com/labels", {})
    assert (labels.get("execution_id") == "exec-42") is execution_ids

"""Structured logs: one JSON object per line, with the fields Cloud Logging reads from stdout.

``severity`` and ``message`` are Cloud Logging's own; ``logging.googleapis.com/trace`` ties a line
to its request's trace. The request id of the current request or message (a context variable) is
added to every line, and so are the ``extra={...}`` fields of a log call.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

TEXT_PREFIX = 40  # characters of a tweet that may appear in an INFO log line
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def preview(text: str) -> str:
    """A short prefix of a tweet for logs: full texts stay out of INFO logs."""
    return text if len(text) <= TEXT_PREFIX else text[:TEXT_PREFIX] + "…"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "logger": record.name,
        }
        if (rid := request_id.get()) is not None:
            entry["request_id"] = rid
        if (trace_name := trace.get()) is not None:
            entry["logging.googleapis.com/trace"] = trace_name
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


_configured = False


def configure(level: str = "INFO") -> None:
    """Route the root logger to stdout as JSON lines (once per process; later calls set the level)."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level)
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    _configured = True


class Timer:
    """Milliseconds since creation, for latency fields."""

    def __init__(self):
        self.started = time.perf_counter()

    @property
    def ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

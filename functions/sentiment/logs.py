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
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

TEXT_PREFIX = 40  # characters of a tweet that may appear in an INFO log line
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def preview(text: str) -> str:
    """A short prefix of a tweet for logs: full texts stay out of INFO logs."""
    return text if len(text) <= TEXT_PREFIX else text[:TEXT_PREFIX] + "…"


def render(severity: str, message: str, **fields: Any) -> str:
    """One line of JSON; values JSON cannot hold (datetimes, paths) are written with ``str``."""
    return json.dumps({"severity": severity, "message": message, **fields},
                      ensure_ascii=False, separators=(",", ":"), default=str)


class StructuredLog:
    """Writes structured lines to a stream (default: the current ``sys.stdout``) outside ``logging``
    (the metrics exporter's lines), one locked write per line so threads never interleave them."""

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, severity: str, message: str, **fields: Any) -> None:
        line = render(severity, message, **fields) + "\n"
        stream = self._stream if self._stream is not None else sys.stdout  # looked up late: tests swap stdout
        with self._lock:
            stream.write(line)
            stream.flush()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
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
        return render(record.levelname, record.getMessage(), **entry)


_configured = False


def configure(level: str = "INFO") -> None:
    """Write the root logger's records as JSON lines (once per process; later calls set the level).

    A stream handler already on the root logger is kept and given the JSON format: with
    ``LOG_EXECUTION_ID=true`` functions-framework installs one whose stream adds each request's
    execution id to the line. Without one, a handler writing to stdout is added.
    """
    global _configured
    root = logging.getLogger()
    root.setLevel(level)
    if _configured:
        return
    streams = [h for h in root.handlers if type(h) is logging.StreamHandler]  # not pytest's subclasses
    for handler in streams:
        handler.setFormatter(JsonFormatter())
    if not streams:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    _configured = True


class Timer:
    """Milliseconds since creation, for latency fields."""

    def __init__(self):
        self.started = time.perf_counter()

    @property
    def ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

"""Structured log lines: one JSON object per line, in the shape Cloud Logging parses.

On Cloud Functions (and Cloud Run) a JSON line written to stdout becomes a structured entry:
``severity`` sets the entry's severity, ``message`` its summary line, every other field lands in
``jsonPayload``. Locally the same lines are plain, greppable JSON.

The metrics lines are written here rather than through ``logging`` so that their shape does not depend
on how the process configured its log handlers (``logs.configure`` formats ordinary log records).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO


def render(severity: str, message: str, **fields: Any) -> str:
    """One line of JSON; values JSON cannot hold (datetimes, paths) are written with ``str``."""
    return json.dumps({"severity": severity, "message": message, **fields},
                      ensure_ascii=False, separators=(",", ":"), default=str)


class StructuredLog:
    """Writes structured lines to a stream (default: the current ``sys.stdout``), one write per line.

    The lock keeps lines whole when several request threads write at once.
    """

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, severity: str, message: str, **fields: Any) -> None:
        line = render(severity, message, **fields) + "\n"
        stream = self._stream if self._stream is not None else sys.stdout  # looked up late: tests swap stdout
        with self._lock:
            stream.write(line)
            stream.flush()


"""The backtest's input: JSON lines, decoded strictly, and scored with the bundle when they carry no score."""

from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue

from sentiment.errors import Rejected
from sentiment.payloads import decode_json

from .events import needs_scoring

REJECTED = "rejected"
MAX_LINE_VALUES = 4_096
MAX_LINE_BYTES = 1024 * 1024

__all__ = ["DecodeLine", "needs_scoring", "score_unscored"]


class DecodeLine(beam.DoFn):
    """One line of bytes to a JSON object; blank lines are skipped, anything else unreadable is rejected."""

    def process(self, line: bytes):
        if not line.strip():
            return
        try:
            if len(line) > MAX_LINE_BYTES:
                raise Rejected(413, "too_large", f"the line has {len(line):,} bytes; at most {MAX_LINE_BYTES:,}")
            row = decode_json(line, MAX_LINE_VALUES)
            if not isinstance(row, dict):
                raise Rejected(400, "bad_field", f"a line must hold a JSON object, not {type(row).__name__}")
        except Rejected as rejected:
            yield pvalue.TaggedOutput(REJECTED, {"reason": rejected.reason, "error": rejected.message,
                                                 "row": line[:500].decode("utf-8", "replace")})
            return
        yield row


def score_unscored(rows, model: str | None):
    """(scored rows, rejected rows) for rows without a score, through the bulk-scoring transform."""
    from .scoring import ScoreTweets

    result = rows | "Score" >> ScoreTweets(model)
    return result.scored, result[REJECTED]

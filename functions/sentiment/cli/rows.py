"""The CLI's output: every input row written back (CSV or JSONL) with its scores, and the summary.

Reading the rows is the library's (``sentiment.rows``), shared with the bulk pipeline.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from typing import IO

from ..rows import Row, printable

PROBABILITY, SENTIMENT, ERROR = "probability_positive", "sentiment", "error"
MAX_REPORTED = 20  # bad rows listed one per line on stderr; the rest are counted


@dataclass
class Summary:
    rows: int = 0
    scored: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)

    def report(self, stream: IO[str]) -> None:
        for line, reason in self.bad[:MAX_REPORTED]:
            print(f"line {line}: {reason}", file=stream)
        if len(self.bad) > MAX_REPORTED:
            print(f"... and {len(self.bad) - MAX_REPORTED} more bad rows", file=stream)
        print(f"scored {self.scored} of {self.rows} rows; {len(self.bad)} not scored", file=stream)


class Writer:
    """CSV or JSONL output; JSONL rows carry an ``error`` key when not scored."""

    def __init__(self, stream: IO[str], as_csv: bool, fieldnames: list[str] | None):
        self.stream, self.as_csv = stream, as_csv
        self.csv = None
        if as_csv:
            self.csv = csv.DictWriter(stream, fieldnames=[*fieldnames, PROBABILITY, SENTIMENT],
                                      extrasaction="ignore", lineterminator="\n")
            self.csv.writeheader()

    def write(self, row: Row, probability: float | None, sentiment: str | None) -> None:
        record = {k: printable(v) for k, v in row.record.items()} if row.record is not None else {}
        if self.as_csv:
            record = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in record.items()}
            record[PROBABILITY] = "" if probability is None else f"{probability:.6f}"
            record[SENTIMENT] = sentiment or ""
            self.csv.writerow(record)
            return
        if row.record is None and row.raw is not None:
            record["raw"] = printable(row.raw)
        record[PROBABILITY] = probability
        record[SENTIMENT] = sentiment
        if row.error:
            record[ERROR] = row.error
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def rename_clashes(header: list[str]) -> list[str]:
    """An input column named like an output column is kept as ``input_<name>``."""
    return [f"input_{name}" if name in (PROBABILITY, SENTIMENT) else name for name in header]


def rename_fields(row: Row, mapping: dict[str, str]) -> Row:
    if row.record is not None:
        row.record = {mapping.get(k, k): v for k, v in row.record.items()}
    return row

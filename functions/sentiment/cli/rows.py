"""The CLI's output: every input row written back (CSV or JSONL) with its scores, and the summary.

Reading the rows is the library's (``sentiment.rows``), shared with the bulk pipeline.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from typing import IO

from ..prediction import CLASSES, Prediction
from ..rows import Row, printable

ERROR = "error"
# What a scored row gains: the fields of ``Prediction.to_dict()``. In a CSV the probabilities of the three
# classes are columns named as their JSON path (``probabilities.negative``, ...); the two columns of the
# two-class era come first, where scripts of that era find them.
PROBABILITY, SENTIMENT, PROBABILITIES, VERSION = "probability_positive", "sentiment", "probabilities", "model_version"
CSV_COLUMNS = (PROBABILITY, SENTIMENT, *(f"{PROBABILITIES}.{name}" for name in CLASSES), VERSION)
JSON_FIELDS = (SENTIMENT, PROBABILITIES, PROBABILITY, VERSION)  # as in every other output
# An input field named like an output one is kept as ``input_<name>``, in either format.
CLASHES = {name: f"input_{name}" for name in dict.fromkeys((*CSV_COLUMNS, *JSON_FIELDS))}
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
            self.csv = csv.DictWriter(stream, fieldnames=[*fieldnames, *CSV_COLUMNS],
                                      extrasaction="ignore", lineterminator="\n")
            self.csv.writeheader()

    def write(self, row: Row, prediction: Prediction | None) -> None:
        """The row as it came, plus the prediction's fields (empty, or null in JSON, when not scored)."""
        record = {k: printable(v) for k, v in row.record.items()} if row.record is not None else {}
        scored = prediction.to_dict() if prediction is not None else {}
        if self.as_csv:
            record = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in record.items()}
            record.update(dict.fromkeys(CSV_COLUMNS, ""))
            if scored:
                record.update({PROBABILITY: f"{scored[PROBABILITY]:.6f}", SENTIMENT: scored[SENTIMENT],
                               VERSION: scored[VERSION]})
                record.update({f"{PROBABILITIES}.{name}": f"{value:.6f}" for name, value in
                               scored[PROBABILITIES].items()})
            self.csv.writerow(record)
            return
        if row.record is None and row.raw is not None:
            record["raw"] = printable(row.raw)
        record.update({name: scored.get(name) for name in JSON_FIELDS})
        if row.error:
            record[ERROR] = row.error
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def rename_clashes(header: list[str]) -> list[str]:
    """An input column named like an output column is kept as ``input_<name>``."""
    return [CLASHES.get(name, name) for name in header]


def rename_fields(row: Row, mapping: dict[str, str] = CLASHES) -> Row:
    if row.record is not None:
        row.record = {mapping.get(k, k): v for k, v in row.record.items()}
    return row

"""Rows of tweet files: CSV or JSONL in (a file or stdin), CSV or JSONL out, every row kept.

A line that is not a record (malformed CSV, not JSON, not an object, undecodable) still becomes a
``Row`` with its line number and the reason, so the writer can put it out and nothing is dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import InputError
from ..prediction import CLASSES, Prediction

ERROR = "error"
# What a scored row gains: the fields of ``Prediction.to_dict()``. In a CSV the probabilities of the three
# classes are columns named as their JSON path (``probabilities.negative``, ...); the two columns of the
# two-class era come first, where scripts of that era find them.
PROBABILITY, SENTIMENT, PROBABILITIES, VERSION = "probability_positive", "sentiment", "probabilities", "model_version"
CSV_COLUMNS = (PROBABILITY, SENTIMENT, *(f"{PROBABILITIES}.{name}" for name in CLASSES), VERSION)
JSON_FIELDS = (SENTIMENT, PROBABILITIES, PROBABILITY, VERSION)  # as in every other output
MAX_REPORTED = 20  # bad rows listed one per line on stderr; the rest are counted


@dataclass
class Row:
    line: int  # 1-based line where the record starts
    record: dict[str, Any] | None  # None when the line is not a record at all
    raw: str | None = None  # the undecodable line, kept for the output
    error: str | None = None


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


def open_text(binary: IO[bytes], encoding: str) -> IO[str]:
    """Decode leniently (bad bytes become surrogates, caught per row); honour a UTF-16 BOM."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        head = binary.peek(4)[:4] if hasattr(binary, "peek") else b""
        encoding = "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    return io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")


def _undecodable(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def read_csv(stream: IO[str], text_column: str) -> tuple[list[str], Iterator[Row]]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the input is empty (no header line)") from None
    except csv.Error as error:
        raise InputError(f"line 1: cannot read the CSV header: {error}") from None
    if text_column not in header:
        raise InputError(f"no column {text_column!r} in the CSV header (columns: {', '.join(header)[:300]})")
    if len(set(header)) != len(header):
        raise InputError("the CSV header repeats a column name")

    def rows() -> Iterator[Row]:
        start = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Row(start, None, error=f"malformed CSV: {error}")
                start = reader.line_num + 1
                continue
            if values or reader.line_num != start:  # skip blank lines, but not empty quoted fields
                record = dict(zip(header, values, strict=False))
                if len(values) != len(header):
                    yield Row(start, record, error=f"{len(values)} fields where the header has {len(header)}")
                else:
                    yield Row(start, record)
            start = reader.line_num + 1

    return header, rows()


def read_jsonl(stream: IO[str]) -> Iterator[Row]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if _undecodable(line):
            yield Row(number, None, raw=line.rstrip("\r\n"), error="not valid text in this encoding")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Row(number, None, raw=line.rstrip("\r\n")[:1000], error=f"not JSON: {error.msg}")
            continue
        if not isinstance(record, dict):
            yield Row(number, None, raw=line.rstrip("\r\n")[:1000], error="not a JSON object")
            continue
        yield Row(number, record)


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
        record = {k: _printable(v) for k, v in row.record.items()} if row.record is not None else {}
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
            record["raw"] = _printable(row.raw)
        record.update({name: scored.get(name) for name in JSON_FIELDS})
        if row.error:
            record[ERROR] = row.error
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def _printable(value: Any) -> Any:
    """Undecodable input bytes become U+FFFD in the output, which stays valid UTF-8."""
    if isinstance(value, str) and _undecodable(value):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def rename_clashes(header: list[str]) -> list[str]:
    """An input column named like an output column is kept as ``input_<name>``."""
    return [f"input_{name}" if name in CSV_COLUMNS else name for name in header]


def rename_fields(row: Row, mapping: dict[str, str]) -> Row:
    if row.record is not None:
        row.record = {mapping.get(k, k): v for k, v in row.record.items()}
    return row


def detect_format(name: str, binary: IO[bytes]) -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    head = binary.peek(64)[:64].lstrip() if hasattr(binary, "peek") else b""
    return "jsonl" if head.startswith(b"{") else "csv"



"""Batch scoring of files: every input row comes out, scored or with the reason it was not.

CSV or JSONL in (a file or stdin), CSV or JSONL out. A row that cannot be scored (no text, wrong
type, not decodable, too long, no scorable token) is written with empty scores, reported on stderr
with its line number, and counted in the summary: nothing is silently dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .model import SentimentModel

PROBABILITY, SENTIMENT, ERROR = "probability_positive", "sentiment", "error"
DEFAULT_MAX_CHARS = 10_000
MAX_REPORTED = 20  # bad rows listed one per line on stderr; the rest are counted


class InputError(ValueError):
    """The input as a whole cannot be read (not a row: the file)."""


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


def row_text(row: Row, text_column: str, max_chars: int) -> str | None:
    """The row's text, or None after setting ``row.error``."""
    if row.error:
        return None
    value = row.record.get(text_column)
    if value is None:
        row.error = f"no {text_column!r} field"
    elif not isinstance(value, str):
        row.error = f"{text_column!r} is a {type(value).__name__}, not a string"
    elif _undecodable(value):
        row.error = "text is not valid in the input encoding (try --encoding latin-1)"
    elif len(value) > max_chars:
        row.error = f"text of {len(value):,} characters exceeds {max_chars:,} (an unclosed quote?)"
    elif not value.strip():
        row.error = "empty text"
    else:
        return value
    return None


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
        record = {k: _printable(v) for k, v in row.record.items()} if row.record is not None else {}
        if self.as_csv:
            record = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in record.items()}
            record[PROBABILITY] = "" if probability is None else f"{probability:.6f}"
            record[SENTIMENT] = sentiment or ""
            self.csv.writerow(record)
            return
        if row.record is None and row.raw is not None:
            record["raw"] = _printable(row.raw)
        record[PROBABILITY] = probability
        record[SENTIMENT] = sentiment
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
    return [f"input_{name}" if name in (PROBABILITY, SENTIMENT) else name for name in header]


def score_stream(
    model: SentimentModel,
    source: IO[str],
    sink: IO[str],
    *,
    input_format: str,
    output_csv: bool,
    text_column: str = "text",
    max_chars: int = DEFAULT_MAX_CHARS,
    progress=None,
) -> Summary:
    summary = Summary()
    if input_format == "csv":
        header, rows = read_csv(source, text_column)
        renamed = rename_clashes(header)
        mapping = dict(zip(header, renamed, strict=True))
        rows = (_renamed(row, mapping) for row in rows)
        writer = Writer(sink, output_csv, renamed)
    else:
        rows = read_jsonl(source)
        if output_csv:  # the columns are known only once every object has been read
            buffered = list(rows)
            names = list(dict.fromkeys(k for r in buffered if r.record for k in r.record))
            rows = iter(buffered)
            writer = Writer(sink, True, names)
        else:
            writer = Writer(sink, False, None)
    for row in rows:
        summary.rows += 1
        text = row_text(row, text_column, max_chars)
        probability = sentiment = None
        if text is not None:
            ids = model.encode(text)
            if ids:
                probability = round(model.probability_of_ids(ids), 6)
                sentiment = model.label(probability)
                summary.scored += 1
            else:
                row.error = "no words, emoji or emoticons to score"
        if row.error:
            summary.bad.append((row.line, row.error))
        writer.write(row, probability, sentiment)
        if progress is not None:
            progress.update()
    return summary


def _renamed(row: Row, mapping: dict[str, str]) -> Row:
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


def _progress_bar(version: str):
    """tqdm when installed (dev and converter environments); the deployed functions do without."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(unit=" tweets", desc=f"scoring ({version})", file=sys.stderr)


def main_score(args) -> int:
    """``python -m sentiment score``; returns the exit status."""
    from .bundle import DEFAULT_MODEL_STORE
    from .errors import SentimentError

    try:
        binary = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
    except OSError as error:
        print(f"error: cannot read {args.input}: {error.strerror}", file=sys.stderr)
        return 2
    input_format = args.input_format or detect_format(args.input, binary)
    try:
        model = SentimentModel.load(args.model or str(DEFAULT_MODEL_STORE))
    except SentimentError as error:
        print(f"error: cannot load the model: {error}", file=sys.stderr)
        return 2
    output_csv = bool(args.output and args.output.lower().endswith(".csv"))
    sink = sys.stdout if args.output in (None, "-") else open(  # noqa: SIM115
        args.output, "w", encoding="utf-8", newline=""
    )
    progress = _progress_bar(model.version) if sys.stderr.isatty() and not args.quiet else None
    try:
        summary = score_stream(
            model, open_text(binary, args.encoding), sink, input_format=input_format,
            output_csv=output_csv, text_column=args.text_column, max_chars=args.max_chars, progress=progress,
        )
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (LookupError, UnicodeError) as error:
        print(f"error: cannot decode the input: {error}", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
        if sink is not sys.stdout:
            sink.close()
        if binary is not sys.stdin.buffer:
            binary.close()
    if not args.quiet or summary.bad:
        summary.report(sys.stderr)
    return 1 if (args.strict and summary.bad) else 0

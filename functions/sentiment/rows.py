"""Rows of tweet files (CSV with a header, or JSONL), read with their line numbers, every line kept.

A line that is not a record (malformed CSV, not JSON, not an object, undecodable, too long) still
becomes a ``Row`` with its line number, a reason (a metric label, as ``Rejected.reason``) and a
message, so that nothing is dropped. Used by ``python -m sentiment score`` and by the bulk pipeline
(``pipelines``), so both read a file the same way.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from .errors import InputError, Rejected
from .payloads import decode_json

_SURROGATES = re.compile("[\ud800-\udfff]")
_LONE_SURROGATES = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # not an undecodable byte (\udc80-\udcff)
MAX_LINE_CHARS = 1_000_000  # a JSONL line beyond this is reported, not parsed (memory stays bounded)
MAX_RAW_CHARS = 1_000  # how much of a line that is not a record is kept for the report
MAX_JSON_VALUES = 10_000  # values in one JSONL object (a full Twitter API tweet holds a few hundred)


@dataclass
class Row:
    line: int  # 1-based line where the record starts
    record: dict[str, Any] | None  # None when the line is not a record at all
    raw: str | None = None  # the line that is not a record (at most MAX_RAW_CHARS), kept for the output
    error: str | None = None
    reason: str | None = None  # set with error: bad_encoding, bad_json, bad_field, bad_csv, too_large


def open_text(binary: IO[bytes], encoding: str) -> IO[str]:
    """Decode leniently (bad bytes become surrogates, caught per row); honour a UTF-16 BOM."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        head = binary.peek(4)[:4] if hasattr(binary, "peek") else b""
        encoding = "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    return io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")


def undecodable(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def printable(value: Any) -> Any:
    """Undecodable input bytes (and any lone surrogate) become U+FFFD: the output stays valid UTF-8."""
    if isinstance(value, str) and not value.isascii() and _SURROGATES.search(value):
        value = _LONE_SURROGATES.sub("\ufffd", value)  # what is left are bytes read with surrogateescape
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


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
                yield Row(start, None, error=f"malformed CSV: {error}", reason="bad_csv")
                start = reader.line_num + 1
                continue
            if values or reader.line_num != start:  # skip blank lines, but not empty quoted fields
                record = dict(zip(header, values, strict=False))
                if len(values) != len(header):
                    yield Row(start, record, error=f"{len(values)} fields where the header has {len(header)}",
                              reason="bad_csv")
                else:
                    yield Row(start, record)
            start = reader.line_num + 1

    return header, rows()


def lines(stream: IO[str]) -> Iterator[tuple[int, str | None]]:
    """``(number, line)`` of every line; the line is None when longer than ``MAX_LINE_CHARS`` (read past, never
    held whole)."""
    number = 0
    while line := stream.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) <= MAX_LINE_CHARS or line.endswith(("\n", "\r")):
            yield number, line
            continue
        while line and not line.endswith(("\n", "\r")):
            line = stream.readline(MAX_LINE_CHARS)
        yield number, None


def jsonl_row(number: int, line: str | None) -> Row | None:
    """One line of a JSONL file as a ``Row`` (None for a blank line). Strict JSON, as the functions read it:
    no NaN, no lone surrogate anywhere in the object (every field must be writable as UTF-8 again)."""
    if line is None:
        return Row(number, None, error=f"the line is longer than {MAX_LINE_CHARS:,} characters", reason="too_large")
    if not line.strip():
        return None
    raw = line.rstrip("\r\n")
    if undecodable(line):
        return Row(number, None, raw=raw[:MAX_RAW_CHARS], error="not valid text in this encoding",
                   reason="bad_encoding")
    try:
        record = decode_json(raw.encode("utf-8", "surrogatepass"), MAX_JSON_VALUES)
    except Rejected as rejected:
        return Row(number, None, raw=raw[:MAX_RAW_CHARS], error=rejected.message, reason=rejected.reason)
    if not isinstance(record, dict):
        return Row(number, None, raw=raw[:MAX_RAW_CHARS], error="not a JSON object", reason="bad_field")
    return Row(number, record)


def read_jsonl(stream: IO[str]) -> Iterator[Row]:
    for number, line in lines(stream):
        row = jsonl_row(number, line)
        if row is not None:
            yield row


def detect_format(name: str, binary: IO[bytes]) -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    head = binary.peek(64)[:64].lstrip() if hasattr(binary, "peek") else b""
    return "jsonl" if head.startswith(b"{") else "csv"

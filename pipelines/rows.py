"""``ReadTweetFiles``: the lines of tweet files (local paths or ``gs://`` patterns; JSONL, or CSV with a header)
as records with the file and line they came from, every line that is not a record tagged ``rejected``.

Files are read with the serving library's row rules (``sentiment.rows``, as ``python -m sentiment score``
reads them: the same decoding, strict JSON per line, the same CSV quirks), so both accept and refuse the
same lines. Each file is read from start to end by one worker (line numbers and multi-line CSV fields need
that; ``.gz`` and other compressed files are read transparently), in chunks of ``CHUNK_LINES`` that a
reshuffle spreads over every worker, where the records are parsed and scored. A large archive split into
several files is also read in parallel.

Outputs:
- main: ``scoring.Located(source, line, record)``, ``record`` a dict with ``text`` (the ``--text-column``
  renamed) and whatever optional fields the line had (``id``, ``created_at``, ``brand``...);
- ``rejected``: ``scoring.rejection(...)`` for each line that is not a record (malformed CSV or JSON, not an
  object, undecodable, too long) and for each file that cannot be read as a whole (no header, no text
  column: one rejection naming the file, line 1).
Blank lines are counted (``blank_lines``), not output.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.fileio import EmptyMatchTreatment
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.metrics import Metrics

from pipelines.scoring import NAMESPACE, REJECTED, Located, count_rejected, rejection
from sentiment import rows
from sentiment.errors import InputError

FORMATS = ("jsonl", "csv")
CHUNK_LINES = 500  # lines per element between the reading worker and the scoring ones
OPTIONAL_FIELDS = ("id", "created_at", "brand", "user", "lang")  # an empty CSV cell is an absent field


def detect_format(path: str, binary) -> str:
    """By the name without its compression suffix (``tweets.jsonl.gz``), else by the first bytes."""
    name = path
    for suffix in (".gz", ".bz2", ".zst", ".deflate", ".lzma", ".xz", ".zip"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return rows.detect_format(name, binary)


class _ReadChunks(beam.DoFn):
    """One file → pickled chunks ``(source, format, [(line, payload), ...])``: a JSONL line's text, or a CSV
    ``Row`` (parsed here: a quoted field may span lines). Pickled, because a line may hold undecodable bytes
    (kept as surrogates until a row is judged), which Beam's string coder refuses."""

    def __init__(self, input_format: str | None, text_column: str):
        self._format = input_format
        self._text_column = text_column

    def setup(self) -> None:
        self._blank = Metrics.counter(NAMESPACE, "blank_lines")
        self._files = Metrics.counter(NAMESPACE, "files")

    def process(self, readable: fileio.ReadableFile):
        source = readable.metadata.path
        self._files.inc()
        with readable.open(compression_type=CompressionTypes.AUTO) as raw:
            binary = raw if hasattr(raw, "peek") else io.BufferedReader(_Raw(raw))
            input_format = self._format or detect_format(source, binary)
            stream = rows.open_text(binary, "utf-8")
            if input_format == "csv":
                yield from self._csv(source, stream)
            else:
                yield from self._chunks(source, "jsonl", self._jsonl(stream))

    def _jsonl(self, stream):
        for number, line in rows.lines(stream):
            if line is not None and not line.strip():
                self._blank.inc()
                continue
            yield number, line

    def _csv(self, source: str, stream):
        try:
            _, records = rows.read_csv(stream, self._text_column)
        except InputError as error:
            if str(error).startswith("the input is empty"):
                return  # an empty shard: nothing to score, nothing lost
            count_rejected(error.reason)
            yield beam.pvalue.TaggedOutput(REJECTED, rejection(error.reason, str(error), source, 1, None))
            return
        yield from self._chunks(source, "csv", ((row.line, row) for row in records))

    @staticmethod
    def _chunks(source: str, input_format: str, numbered):
        chunk: list[tuple[int, Any]] = []
        for item in numbered:
            chunk.append(item)
            if len(chunk) >= CHUNK_LINES:
                yield pickle.dumps((source, input_format, chunk), protocol=pickle.HIGHEST_PROTOCOL)
                chunk = []
        if chunk:
            yield pickle.dumps((source, input_format, chunk), protocol=pickle.HIGHEST_PROTOCOL)


class _Raw(io.RawIOBase):
    """A file object with ``read`` only (some decompressors) as a raw stream ``BufferedReader`` can peek into."""

    def __init__(self, handle):
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _ParseChunks(beam.DoFn):
    def __init__(self, text_column: str):
        self._text_column = text_column

    def process(self, chunk: bytes):
        source, input_format, items = pickle.loads(chunk)
        for number, payload in items:
            row = rows.jsonl_row(number, payload) if input_format == "jsonl" else payload
            if row.error:
                count_rejected(row.reason)
                yield beam.pvalue.TaggedOutput(REJECTED, rejection(row.reason, row.error, source, row.line,
                                                                   row.record if row.record is not None else row.raw))
                continue
            yield Located(source, row.line, self._record(row.record, input_format == "csv"))

    def _record(self, record: dict[str, Any], from_csv: bool) -> dict[str, Any]:
        if self._text_column != "text" and self._text_column in record:
            record = {**record, "text": record[self._text_column]}
            del record[self._text_column]
        if from_csv:  # every cell is a string; an empty one is no value; undecodable bytes show as U+FFFD
            record = {key: value if key == "text" else rows.printable(value) for key, value in record.items()
                      if key == "text" or not (key in OPTIONAL_FIELDS and value == "")}
        return record


class ReadTweetFiles(beam.PTransform):
    """``pattern``: a path or glob, local or ``gs://`` (every match is read; none is an error). Expands to
    ``(records, rejected)``."""

    def __init__(self, pattern: str, input_format: str | None = None, text_column: str = "text"):
        super().__init__()
        if input_format is not None and input_format not in FORMATS:
            raise ValueError(f"input format must be one of {FORMATS}, not {input_format!r}")
        self._pattern, self._format, self._text_column = pattern, input_format, text_column

    def expand(self, pipeline):
        read = (
            pipeline
            | "Match" >> fileio.MatchFiles(self._pattern, EmptyMatchTreatment.DISALLOW)
            | "Spread files" >> beam.Reshuffle()
            | "Open" >> fileio.ReadMatches()
            | "Read" >> beam.ParDo(_ReadChunks(self._format, self._text_column)).with_outputs(REJECTED, main="chunks")
        )
        parsed = (
            read.chunks
            | "Spread chunks" >> beam.Reshuffle()
            | "Parse" >> beam.ParDo(_ParseChunks(self._text_column)).with_outputs(REJECTED, main="records")
        )
        rejected = (read[REJECTED], parsed[REJECTED]) | "Unreadable" >> beam.Flatten()
        return parsed.records, rejected

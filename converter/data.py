"""Reading labelled tweets: Sentiment140 files in their many shapes, TweetEval, generic CSV/JSONL.

Labels are ints: ``NEGATIVE`` (0), ``POSITIVE`` (1), ``NEUTRAL`` (2), so a binary row keeps the
meaning it always had. The readers here are binary (Sentiment140 has no neutral); the hand-labelled
sets, with their neutral tweets, are read by ``converter.handlabelled``. Every reader reports what
it skipped; nothing is dropped without a count.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

NEGATIVE = 0
POSITIVE = 1
NEUTRAL = 2
LABEL_NAMES = {NEGATIVE: "negative", NEUTRAL: "neutral", POSITIVE: "positive"}

SENTIMENT140_COLUMNS = ("polarity", "id", "date", "query", "user", "text")
LABEL_COLUMNS = ("label", "polarity", "sentiment", "target")
_LABELS = {
    "0": NEGATIVE, "4": POSITIVE, "1": POSITIVE, "negative": NEGATIVE, "positive": POSITIVE, "neg": NEGATIVE,
    "pos": POSITIVE,
}
_NEUTRAL = {"2", "neutral"}


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """``--data-dir`` beats ``SENTIMENT_DATA_DIR``, which beats ``../shared/data`` next to the repo."""
    return Path(override or os.environ.get("SENTIMENT_DATA_DIR") or DEFAULT_DATA_DIR)


class DataError(ValueError):
    """A data file cannot be read as labelled tweets."""


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # NEGATIVE, POSITIVE or NEUTRAL
    source: str  # the file stem, or the hand-labelled set's folder name: provenance, weighting, strata
    tweet_id: str | None = None
    random_sample: bool = False  # drawn from a random sample of Sentiment140 (not head/tail)


@dataclass
class ReadReport:
    """What a reader did with one file or set: ``read`` data rows, ``rows`` kept, ``skipped`` by reason."""

    path: str
    encoding: str
    rows: int = 0
    skipped: Counter | None = None
    read: int | None = None  # data rows seen; readers that count them set it (read == kept + skipped)

    def __post_init__(self):
        self.skipped = self.skipped or Counter()

    @property
    def kept(self) -> int:
        return self.rows

    def __str__(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        read = f"{self.read} read, " if self.read is not None else ""
        return f"{self.path}: {read}{self.rows} kept ({self.encoding}); skipped: {skipped}"


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """UTF-8 when it decodes strictly, else latin-1 (the raw Sentiment140 encoding)."""
    if encoding:
        return raw.decode(encoding), encoding
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def parse_label(value: str) -> int | None:
    """0/4 (Sentiment140), 0/1, or words. None for neutral; DataError for anything else."""
    key = value.strip().lower()
    if key in _NEUTRAL:
        return None
    if key not in _LABELS:
        raise DataError(f"unknown label {value!r}")
    return _LABELS[key]


def read_sentiment140(path: Path, encoding: str | None = None) -> tuple[list[Example], ReadReport]:
    """A Sentiment140-shaped CSV: 6 columns, 7 (pandas index first) or 2 (polarity, text).

    Headers are recognised and skipped whatever their names (some copies renamed them).
    """
    content, used = decode(Path(path).read_bytes(), encoding)
    report = ReadReport(str(path), used)
    examples: list[Example] = []
    source = Path(path).stem
    for line_no, row in enumerate(csv.reader(io.StringIO(content, newline="")), start=1):
        if not row or row == [""]:
            report.skipped["blank lines"] += 1
            continue
        if len(row) == 7:
            row = row[1:]
        if len(row) == 6:
            polarity, tweet_id, text = row[0], row[1], row[5]
        elif len(row) == 2:
            polarity, tweet_id, text = row[0], None, row[1]
        else:
            report.skipped[f"rows with {len(row)} columns"] += 1
            continue
        try:
            label = parse_label(polarity)
        except DataError:
            if line_no == 1:
                continue  # a header
            report.skipped["unknown labels"] += 1
            continue
        if label is None:
            report.skipped["neutral rows"] += 1
            continue
        if not text.strip():
            report.skipped["empty texts"] += 1
            continue
        examples.append(Example(text, label, source, tweet_id))
        report.rows += 1
    if not examples:
        raise DataError(f"{path}: no labelled tweets found ({report})")
    return examples, report


def read_random_ids(path: Path) -> set[tuple[str, int]]:
    """(id, label) pairs flagged ``in_random_sample=1`` in sentiment140_pool_sources.csv."""
    with open(path, encoding="utf-8", newline="") as handle:
        return {
            (row["id"], parse_label(row["polarity"]))
            for row in csv.DictReader(handle)
            if row["in_random_sample"] == "1"
        }


def read_tweeteval(directory: Path, split: str = "val") -> tuple[list[Example], ReadReport]:
    """TweetEval sentiment, binary: neutral tweets are left out (and counted)."""
    texts = (directory / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (directory / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise DataError(f"{directory}: {len(texts)} texts but {len(labels)} labels")
    report = ReadReport(str(directory), "utf-8")
    mapping = {"0": 0, "2": 1}
    examples = []
    for text, label in zip(texts, labels, strict=True):
        if label == "1":
            report.skipped["neutral rows"] += 1
            continue
        examples.append(Example(text.strip(), mapping[label], "tweeteval"))
        report.rows += 1
    return examples, report


def read_labelled_table(
    path: Path, text_column: str = "text", label_column: str | None = None, encoding: str | None = None
) -> tuple[list[Example], ReadReport]:
    """A CSV with a header, or JSONL, holding a text column and a label column (for ``evaluate``).

    Falls back to the header-less Sentiment140 shapes when the CSV has no such columns.
    """
    path = Path(path)
    content, used = decode(path.read_bytes(), encoding)
    report = ReadReport(str(path), used)
    if path.suffix in (".jsonl", ".ndjson", ".json"):
        records = []
        for line_no, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise DataError(f"{path}:{line_no}: not JSON ({error.msg})") from None
    else:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        fields = reader.fieldnames or []
        if text_column not in fields:
            return read_sentiment140(path, encoding)
        records = list(reader)
    examples = []
    for record in records:
        column = label_column or next((c for c in LABEL_COLUMNS if c in record), None)
        if not isinstance(record, dict) or column is None or text_column not in record:
            report.skipped["rows without text or label"] += 1
            continue
        try:
            label = parse_label(str(record[column]))
        except DataError:
            report.skipped["unknown labels"] += 1
            continue
        if label is None:
            report.skipped["neutral rows"] += 1
            continue
        examples.append(Example(str(record[text_column]), label, path.stem))
        report.rows += 1
    if not examples:
        raise DataError(f"{path}: no labelled tweets found ({report})")
    return examples, report


def write_jsonl(path: Path, examples: list[Example]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for e in examples:
            handle.write(json.dumps({"text": e.text, "label": e.label}, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Example]:
    with open(path, encoding="utf-8") as handle:
        return [Example(r["text"], r["label"], path.stem) for r in map(json.loads, handle)]

"""The hand-labelled tweet sets of ``handlabelled/``: one declarative entry per set, a reader per format.

Each ``SetSpec`` says where a set's files are, how they are encoded and laid out, which column holds
the text and which the label, and how the set's labels map onto ``NEGATIVE`` / ``NEUTRAL`` /
``POSITIVE`` (a label mapped to a string is skipped for that reason: "irrelevant", "mixed", ...).
``read_set`` turns one entry into ``Example`` rows and a ``ReadReport`` (rows read, kept, skipped by
reason; read == kept + skipped); ``read_all`` reads every set and drops the rows listed in
``OVERLAP_FLAGS.tsv`` (generic texts that coincide with a held-out evaluation set, or tweets that
mention an airline handle). The folder's ``SOURCES.md`` documents every set; the choices that
matter are written beside the entries below.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .data import NEGATIVE, NEUTRAL, POSITIVE, DataError, Example, ReadReport

log = logging.getLogger(__name__)

FOLDER = "handlabelled"
OVERLAP_FLAGS = "OVERLAP_FLAGS.tsv"
MAX_TEXT_CHARS = 1_000  # a tweet is at most 280 characters; longer fields are broken rows

CUSTOMER = "customer"  # tweets to or about a brand, a product or a paid-for event: the airline's situation
GENERAL = "general"

Label = int | str  # a class, or the reason the row is skipped
RawRow = tuple[str | None, str, str | tuple[str, ...]]  # (tweet id, text, raw label)


@dataclass(frozen=True)
class SetSpec:
    """One hand-labelled set. ``text`` / ``label`` / ``tweet_id`` name columns (a header name, or an
    index for files without a header); ``label`` may name several columns, whose values then reach
    ``labels`` as a tuple. ``labels`` maps a raw label (stripped) to a class or a skip reason, or is
    a function doing the same (raising ``ValueError`` for a value it does not know)."""

    name: str  # the folder under handlabelled/, and Example.source
    files: tuple[str, ...]  # in the order OVERLAP_FLAGS.tsv counts their rows
    format: str  # "csv" (header), "tsv" (no header, no quoting), "semeval", "xml", "lines"
    encoding: str
    text: str | int
    label: str | int | tuple[int, ...]
    labels: Mapping[str, Label] | Callable[[str | tuple[str, ...]], Label]
    family: str = GENERAL
    tweet_id: str | int | None = None
    delimiter: str = ","
    flag_name: str | None = None  # the set's name in OVERLAP_FLAGS.tsv
    clean: Callable[[str], str] | None = None  # undoes the set's own escaping of its texts


def _words(positive: str, negative: str, neutral: str | None = "neutral", **skips: str) -> dict[str, Label]:
    mapping: dict[str, Label] = {positive: POSITIVE, negative: NEGATIVE, **skips}
    if neutral is not None:
        mapping[neutral] = NEUTRAL
    return mapping


POS_NEG_NEU = _words("positive", "negative")


def sentistrength(value: str | tuple[str, ...]) -> Label:
    """SS-Twitter: a positive (1-5) and a negative (1-5) strength. The stronger side wins; 1/1 (no
    sentiment either way) is neutral; a tie above 1 is mixed, which is not neutral, so it is skipped."""
    positive, negative = (int(v) for v in value)
    if not (1 <= positive <= 5 and 1 <= negative <= 5):
        raise ValueError(f"strengths out of 1-5: {value}")
    if positive != negative:
        return POSITIVE if positive > negative else NEGATIVE
    return NEUTRAL if positive == 1 else "mixed (equal positive and negative strength)"


def vader_mean(value: str | tuple[str, ...]) -> Label:
    """VADER ground truth: the mean of 20 human ratings on -4..+4 (not VADER's own score). At least
    +0.5 is positive, at most -0.5 negative (the thresholds of Hutto & Gilbert), in between neutral."""
    mean = float(value)  # type: ignore[arg-type]
    if not math.isfinite(mean) or not -4 <= mean <= 4:
        raise ValueError(f"mean rating out of -4..+4: {value}")
    return POSITIVE if mean >= 0.5 else NEGATIVE if mean <= -0.5 else NEUTRAL


_ORDINAL = re.compile(r"(-?[0-3]):")


def valence_ordinal(value: str | tuple[str, ...]) -> Label:
    """SemEval-2018 V-oc: the class is the integer before the colon of "-2: moderately negative ...";
    -3..-1 negative, 0 ("neutral or mixed emotional state") neutral, 1..3 positive."""
    match = _ORDINAL.match(str(value))
    if not match:
        raise ValueError(f"not a valence class: {value}")
    valence = int(match.group(1))
    return POSITIVE if valence > 0 else NEGATIVE if valence < 0 else NEUTRAL


def _five_point(value: str | tuple[str, ...]) -> Label:
    return {"1": NEGATIVE, "2": NEGATIVE, "3": NEUTRAL, "4": POSITIVE, "5": POSITIVE,
            "not_relevant": "not relevant"}[str(value)]


_SEMEVAL_LINE = re.compile(r"(\d+)\t([^\t]+)\t")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def semeval_text(text: str) -> str:
    """SemEval (and TweetEval) texts: quoted when they hold a comma, ``\\""`` for a quote, ``\\u2019`` escapes."""
    text = text.rstrip("\t").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    text = text.replace('\\""', '"').replace('""', '"')
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # joins escaped surrogate pairs


SEMEVAL_FILES = tuple(sorted(
    f"twitter-{name}-A.txt" for name in (
        "2013train", "2013dev", "2013test", "2014test", "2014sarcasm", "2015train", "2015test",
        "2016train", "2016dev", "2016devtest", "2016test",
    )
))

SETS: tuple[SetSpec, ...] = (
    # SemEval 2013-2016 Task 4A, all released as SemEval-2017 training data; "neutral" = objective or neutral.
    SetSpec("semeval2017_task4A_train_dev", SEMEVAL_FILES, "semeval", "utf-8", 2, 1, POS_NEG_NEU,
            tweet_id=0, flag_name="semeval2017_A_train_dev", clean=semeval_text),
    # TweetEval validation: 1,993 of its 2,000 tweets are SemEval rows above (handles masked, URLs cut);
    # the split's de-duplication keeps one of each. train_labels.txt has no texts and is not read.
    SetSpec("tweeteval_sentiment_val_and_train_labels", ("val_text.txt", "val_labels.txt"), "lines", "utf-8",
            0, 1, {"0": NEGATIVE, "1": NEUTRAL, "2": POSITIVE}, clean=semeval_text),
    # Labels are about the topic (apple, google, microsoft, twitter); "irrelevant" holds non-English tweets.
    SetSpec("sanders_twitter_corpus", ("full-corpus.csv",), "csv", "utf-8", "TweetText", "Sentiment",
            {**POS_NEG_NEU, "irrelevant": "irrelevant"}, family=CUSTOMER, tweet_id="TweetId", flag_name="sanders"),
    SetSpec("ss_twitter_sentistrength", ("twitter4242.txt",), "tsv", "latin-1", 2, (0, 1), sentistrength,
            flag_name="ss_twitter"),
    # Human re-annotation of Sentiment140 training tweets: the split lets these labels win over the emoticons.
    SetSpec("sts_gold", ("sts_gold_tweet.csv",), "csv", "utf-8", "tweet", "polarity",
            {"0": NEGATIVE, "4": POSITIVE}, tweet_id="id", delimiter=";"),
    SetSpec("omd_debate08", ("train.xml", "dev.xml", "test.xml"), "xml", "utf-8", "content", "label",
            POS_NEG_NEU, flag_name="omd_debate08"),
    SetSpec("hcr_health_care_reform", ("train.xml", "dev.xml", "test.xml"), "xml", "utf-8", "content", "label",
            {**POS_NEG_NEU, "irrelevant": "irrelevant", "unsure": "unsure", "": "no label"}),
    SetSpec("crowdflower_self_driving_cars", ("Twitter-sentiment-self-drive-DFE.csv",), "csv", "utf-8", "text",
            "sentiment", _five_point, flag_name="cf_self_drive"),
    # 1 / 3 / 5 (negative / neutral / positive); "0" is the file's not-relevant class (ISIS, stock prices).
    SetSpec("crowdflower_apple_twitter", ("Apple-Twitter-Sentiment-DFE.csv",), "csv", "cp1252", "text",
            "sentiment", {"1": NEGATIVE, "3": NEUTRAL, "5": POSITIVE, "0": "not relevant"}, family=CUSTOMER,
            flag_name="cf_apple"),
    SetSpec("crowdflower_coachella_2015", ("Coachella-2015-2-DFE.csv",), "csv", "utf-8", "text",
            "coachella_sentiment", {**POS_NEG_NEU, "cant tell": "can't tell"}, family=CUSTOMER),
    # Bytes outside cp1252 (0x9d...) occur, so latin-1; the tokenizer repairs the mojibake it can.
    SetSpec("crowdflower_gop_debate", ("GOP_REL_ONLY.csv",), "csv", "latin-1", "text", "sentiment",
            _words("Positive", "Negative", "Neutral")),
    # "No emotion toward brand or product" is the set's neutral class.
    SetSpec("crowdflower_brands_product_emotions_sxsw", ("judge-1377884607_tweet_product_company.csv",), "csv",
            "latin-1", "tweet_text", "is_there_an_emotion_directed_at_a_brand_or_product",
            _words("Positive emotion", "Negative emotion", "No emotion toward brand or product",
                   **{"I can't tell": "can't tell"}), family=CUSTOMER),
    SetSpec("crowdflower_weather_sentiment", ("weather-agg-DFE.csv",), "csv", "utf-8", "tweet_text",
            "author_emotion", _words("Positive", "Negative", "Neutral / author is just sharing information",
                                     **{"Tweet not related to weather condition": "not relevant",
                                        "I can't tell": "can't tell"}), tweet_id="tweet_id"),
    SetSpec("crowdflower_nuclear_power", ("1377191648_sentiment_nuclear_power.csv",), "csv", "cp1252",
            "tweet_text", "sentiment",
            _words("Positive", "Negative", "Neutral / author is just sharing information",
                   **{"Tweet NOT related to nuclear energy": "not relevant"})),
    # test.csv is Kaggle's train + test with selected_text dropped; train.csv is a subset of it, not read.
    SetSpec("kaggle_tweet_sentiment_extraction", ("test.csv",), "csv", "utf-8", "text", "sentiment", POS_NEG_NEU,
            tweet_id="textID", flag_name="kaggle_tse_all"),
    SetSpec("vader_hutto2014_tweets_groundtruth", ("tweets_GroundTruth.txt",), "tsv", "utf-8", 2, 1, vader_mean,
            tweet_id=0, flag_name="vader_tweets"),
    # The original header line is missing: the first line is a tweet. Column 2 is the word "valence".
    SetSpec("semeval2018_task1_valence_oc_en", ("2018-Valence-oc-En-train.txt",), "tsv", "utf-8", 1, 3,
            valence_ordinal, tweet_id=0, flag_name="semeval2018_voc"),
)

SOURCE_FAMILY: dict[str, str] = {spec.name: spec.family for spec in SETS}
_BY_FLAG_NAME = {spec.flag_name: spec for spec in SETS if spec.flag_name}


def decode_file(path: Path, encoding: str) -> str:
    """The whole file decoded strictly (a UTF-8 BOM removed): a wrong encoding is an error, not mojibake."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not {encoding} (byte {raw[error.start]:#04x} at offset {error.start})") from None


def _column(row: list[str], header: dict[str, int] | None, key: str | int) -> str:
    return row[header[key] if header is not None else key]  # type: ignore[index]


def _csv_rows(spec: SetSpec, path: Path, content: str) -> Iterator[RawRow | str]:
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=spec.delimiter)
    try:
        names = next(reader, None)
        if names is None:
            return
        header = {name.strip(): i for i, name in enumerate(names)}
        wanted = [spec.text, *(spec.label if isinstance(spec.label, tuple) else (spec.label,))]
        missing = [name for name in wanted if name not in header]
        if missing:
            raise DataError(f"{path}: no column {', '.join(map(str, missing))} in the header {names}")
        for row in reader:
            if row == [] or row == [""]:
                yield "blank lines"
            elif len(row) != len(names):
                yield f"rows with {len(row)} fields instead of {len(names)}"
            else:
                yield _raw(spec, row, header)
    except csv.Error as error:  # e.g. an unclosed quote swallowing the rest of the file
        raise DataError(f"{path}: line {reader.line_num}: {error}") from None


def _raw(spec: SetSpec, row: list[str], header: dict[str, int] | None) -> RawRow:
    label = (tuple(_column(row, header, k) for k in spec.label) if isinstance(spec.label, tuple)
             else _column(row, header, spec.label))
    tweet_id = _column(row, header, spec.tweet_id) if spec.tweet_id is not None else None
    return tweet_id, _column(row, header, spec.text), label


def _tsv_rows(spec: SetSpec, path: Path, content: str) -> Iterator[RawRow | str]:
    """Tab-separated, no header, no quoting; a text in the last column may itself hold tabs."""
    columns = [spec.text, *(spec.label if isinstance(spec.label, tuple) else (spec.label,))]
    if spec.tweet_id is not None:
        columns.append(spec.tweet_id)
    width = max(columns) + 1  # type: ignore[type-var]
    text_last = spec.text == width - 1
    for line in content.splitlines():
        if not line.strip():
            yield "blank lines"
            continue
        fields = line.split("\t", width - 1) if text_last else line.rstrip("\t").split("\t")
        if len(fields) != width:
            yield f"rows with {len(fields)} fields instead of {width}"
            continue
        yield _raw(spec, fields, None)


def _semeval_rows(spec: SetSpec, path: Path, content: str) -> Iterator[RawRow | str]:
    """``id<TAB>label<TAB>text``; a line that does not start so continues the previous tweet's text."""
    pending: list[str] | None = None
    for line in content.splitlines():
        match = _SEMEVAL_LINE.match(line)
        if match:
            if pending is not None:
                yield pending[0], pending[2], pending[1]
            pending = [match.group(1), match.group(2), line[match.end():]]
        elif pending is not None and line.strip():
            pending[2] += "\n" + line
        elif line.strip():
            yield "lines that are not id<TAB>label<TAB>text"
        else:
            yield "blank lines"
    if pending is not None:
        yield pending[0], pending[2], pending[1]


def _xml_rows(spec: SetSpec, path: Path, content: str) -> Iterator[RawRow | str]:
    """``<item tweetid label target username><content>text</content></item>`` (OMD, HCR)."""
    try:
        root = ElementTree.fromstring(content.encode("utf-8"))  # bytes: the declaration may name an encoding
    except ElementTree.ParseError as error:
        raise DataError(f"{path}: not well-formed XML ({error})") from None
    for item in root.iter("item"):
        content_element = item.find(str(spec.text))
        if content_element is None:
            yield "items without content"
            continue
        yield item.get("tweetid"), content_element.text or "", item.get(str(spec.label), "")


def _lines_rows(spec: SetSpec, directory: Path) -> Iterator[RawRow | str]:
    """Texts one per line in one file, labels one per line in another (TweetEval)."""
    texts_path, labels_path = (directory / name for name in spec.files)
    texts = decode_file(texts_path, spec.encoding).splitlines()
    labels = decode_file(labels_path, spec.encoding).splitlines()
    if len(texts) != len(labels):
        raise DataError(f"{directory}: {len(texts)} texts but {len(labels)} labels")
    for text, label in zip(texts, labels, strict=True):
        yield None, text, label


_FORMATS = {"csv": _csv_rows, "tsv": _tsv_rows, "semeval": _semeval_rows, "xml": _xml_rows}


def _raw_rows(spec: SetSpec, directory: Path) -> Iterator[RawRow | str]:
    if spec.format == "lines":
        yield from _lines_rows(spec, directory)
        return
    if spec.format not in _FORMATS:
        raise DataError(f"{spec.name}: unknown format {spec.format!r}")
    for name in spec.files:
        path = directory / name
        yield from _FORMATS[spec.format](spec, path, decode_file(path, spec.encoding))


def _classify(spec: SetSpec, raw: str | tuple[str, ...]) -> Label:
    value = tuple(v.strip() for v in raw) if isinstance(raw, tuple) else raw.strip()
    if callable(spec.labels):
        try:
            return spec.labels(value)
        except (ValueError, KeyError, TypeError):
            return f"unknown labels ({spec.label} = {_short(value)})"
    if value in spec.labels:
        return spec.labels[value]  # type: ignore[index]
    return f"unknown labels ({spec.label} = {_short(value)})"


def _short(value: str | tuple[str, ...]) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_set(spec: SetSpec, root: Path, flagged: Mapping[int, str] | None = None) -> tuple[list[Example], ReadReport]:
    """One set. ``flagged`` maps the 0-based data-row indices to drop to the text OVERLAP_FLAGS.tsv
    quotes for them; a quoted text that does not match the row means the indices are off: an error."""
    directory = root / spec.name
    if not directory.is_dir():
        raise DataError(f"{directory}: missing (set SENTIMENT_DATA_DIR to the folder holding {FOLDER}/)")
    flagged = flagged or {}
    report = ReadReport(spec.name, spec.encoding, read=0)
    examples: list[Example] = []
    index = -1
    for row in _raw_rows(spec, directory):
        report.read += 1
        if isinstance(row, str):  # a row the format could not read, by reason
            report.skipped[row] += 1
            continue
        index += 1
        tweet_id, text, raw_label = row
        text = (spec.clean(text) if spec.clean else text).strip()
        if index in flagged:
            if _same_text(flagged[index], text):
                report.skipped[f"listed in {OVERLAP_FLAGS}"] += 1
                continue
            raise DataError(f"{spec.name}: {OVERLAP_FLAGS} row {index} quotes {flagged[index]!r}, the set has {text!r}")
        label = _classify(spec, raw_label)
        if isinstance(label, str):
            report.skipped[label] += 1
        elif not text:
            report.skipped["empty texts"] += 1
        elif len(text) > MAX_TEXT_CHARS:
            report.skipped[f"texts over {MAX_TEXT_CHARS} characters"] += 1
        else:
            examples.append(Example(text, label, spec.name, tweet_id.strip() if tweet_id else None))
    report.rows = len(examples)
    unused = set(flagged) - set(range(index + 1))
    if unused:
        raise DataError(f"{spec.name}: {OVERLAP_FLAGS} lists rows {sorted(unused)}, beyond the set's {index + 1}")
    if not examples:
        raise DataError(f"{spec.name}: no labelled tweets found ({report})")
    return examples, report


def _same_text(quoted: str, text: str) -> bool:
    def squeeze(value: str) -> str:
        return " ".join(value.strip().strip('"').split())

    return squeeze(quoted) == squeeze(text)


def read_overlap_flags(path: Path) -> dict[str, dict[int, str]]:
    """OVERLAP_FLAGS.tsv: set folder name -> {0-based data-row index: the row's text as quoted}."""
    flags: dict[str, dict[int, str]] = {}
    lines = decode_file(path, "utf-8").splitlines()
    if not lines or not lines[0].startswith("dataset\t"):
        raise DataError(f"{path}: no header 'dataset<TAB>file<TAB>data_row_index_0based...'")
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t", 4)
        if len(fields) != 5 or not fields[2].isdigit():
            raise DataError(f"{path}:{line_no}: expected 5 tab-separated fields with a row index")
        if fields[0] not in _BY_FLAG_NAME:
            raise DataError(f"{path}:{line_no}: unknown dataset {fields[0]!r}")
        flags.setdefault(_BY_FLAG_NAME[fields[0]].name, {})[int(fields[2])] = fields[4]
    return flags


def read_all(data_dir: Path, sets: tuple[SetSpec, ...] = SETS) -> tuple[list[Example], list[ReadReport]]:
    """Every hand-labelled set under ``data_dir/handlabelled``, minus the OVERLAP_FLAGS.tsv rows."""
    root = Path(data_dir) / FOLDER
    flags = read_overlap_flags(root / OVERLAP_FLAGS)
    examples: list[Example] = []
    reports: list[ReadReport] = []
    for spec in sets:
        rows, report = read_set(spec, root, flags.get(spec.name))
        log.info("%s", report)
        examples += rows
        reports.append(report)
    return examples, reports

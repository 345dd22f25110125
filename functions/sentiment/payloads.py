"""Validation of what callers send: HTTP JSON bodies and Pub/Sub message data.

Everything that can be wrong with an input is found here, before a model is needed, and becomes a
``Rejected`` with an HTTP status, a short reason (a metric label) and a message for a human.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .budget import UNLIMITED, CpuBudget
from .config import Config
from .errors import Rejected
from .prediction import Prediction
from .text import tokenize

_SURROGATES = re.compile("[\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_VALUE_MARKS = re.compile(r"[\[{,\]}]")
MAX_JSON_DEPTH = 32  # a request is 3 deep, a tweet with its user object a few more


def max_json_values(config: Config) -> int:
    """How many values (array items, object members) a body may hold: what the largest valid request needs
    (``MAX_BATCH_SIZE`` instances of a few fields each), with room to spare. Memory stays bounded."""
    return 16 * config.max_batch_size + 1_024


def decode_json(raw: bytes, max_values: int) -> Any:
    """Strict JSON, as RFC 8259 has it: UTF-8 (a leading BOM is ignored), no NaN or Infinity, no number
    beyond a double, no lone surrogate in any string, at most ``max_values`` values. Rejected otherwise."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(400, "bad_encoding", f"body is not valid UTF-8 (byte {error.start})") from None
    marks = _JSON_VALUE_MARKS.findall(_JSON_STRING.sub('""', text))  # outside strings
    if _depth(marks[:10 * MAX_JSON_DEPTH]) > MAX_JSON_DEPTH:
        raise Rejected(400, "bad_json", f"malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    values = len(marks) - marks.count("]") - marks.count("}")
    if values > max_values:
        raise Rejected(413, "too_large", f"the JSON holds about {values:,} values; the limit is {max_values:,}")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise Rejected(400, "bad_json", f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}") \
            from None
    except RecursionError:
        raise Rejected(400, "bad_json", "malformed JSON: nested too deeply") from None
    except ValueError as error:  # NaN/Infinity, a float beyond a double, an integer of over 4,300 digits
        raise Rejected(400, "bad_json", f"malformed JSON: {error}"[:200]) from None
    if _holds_surrogate(value):
        raise Rejected(400, "bad_encoding", "a JSON string holds a lone surrogate (\\ud800-\\udfff): not valid text")
    return value


def _depth(marks: list[str]) -> int:
    deepest = depth = 0
    for mark in marks:
        if mark in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif mark != ",":
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is beyond a double")
    return value


def _holds_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATES.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@dataclass(frozen=True)
class CheckedText:
    """A text fit for scoring, with the tokens found while checking it (the scorer reuses them)."""

    text: str
    tokens: list[str]


def check_text(value: Any, where: str, max_chars: int) -> CheckedText:
    """The one check of a text to score, whoever sends it (HTTP, Pub/Sub, a file row)."""
    if not isinstance(value, str):
        raise Rejected(400, "bad_field", f"{where} must be a string, not {json_type(value)}")
    if len(value) > max_chars:
        raise Rejected(413, "too_large", f"{where} has {len(value):,} characters; the limit is {max_chars:,}")
    if _SURROGATES.search(value):  # a lone surrogate (JSON "\\ud800", or undecodable bytes of a file)
        raise Rejected(400, "bad_encoding", f"{where} is not valid Unicode text (a lone surrogate or an "
                                            "undecodable byte)")
    if not value.strip():
        raise Rejected(400, "empty_text", f"{where} is empty")
    tokens = tokenize(value)
    if not tokens:
        raise Rejected(400, "empty_text", f"{where} has no words, emoji or emoticons to score")
    return CheckedText(value, tokens)


def json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


PREDICT_FORMS = ("text", "texts", "instances")


@dataclass(frozen=True)
class PredictRequest:
    texts: list[CheckedText]
    form: str  # which of PREDICT_FORMS the caller used: it decides the response shape


def parse_predict(body: Any, config: Config, budget: CpuBudget = UNLIMITED) -> PredictRequest:
    """``{"text": s}``, ``{"texts": [s, ...]}`` or Vertex AI's ``{"instances": [{"text": s} | s, ...]}``."""
    if not isinstance(body, dict):
        raise Rejected(400, "bad_field", f"the body must be a JSON object, not {json_type(body)}")
    forms = [key for key in PREDICT_FORMS if key in body]
    if len(forms) != 1:
        raise Rejected(400, "bad_field", 'the body needs exactly one of "text", "texts" or "instances"')
    form = forms[0]
    if form == "text":
        return PredictRequest([check_text(body["text"], "text", config.max_text_chars)], form)
    items = body[form]
    if not isinstance(items, list):
        raise Rejected(400, "bad_field", f'"{form}" must be an array, not {json_type(items)}')
    if not items:
        raise Rejected(400, "bad_field", f'"{form}" is empty')
    if len(items) > config.max_batch_size:
        raise Rejected(413, "too_large", f'"{form}" has {len(items):,} items; the limit is {config.max_batch_size:,}')
    texts = []
    for index, item in enumerate(items):
        budget.check(index, len(items))
        where = f"{form}[{index}]"
        if form == "instances" and isinstance(item, dict):
            if "text" not in item:
                raise Rejected(400, "bad_field", f'{where} has no "text"')
            item, where = item["text"], f"{where}.text"
        texts.append(check_text(item, where, config.max_text_chars))
    return PredictRequest(texts, form)


LABELS = {"negative": "negative", "positive": "positive", 0: "negative", 1: "positive"}


@dataclass(frozen=True)
class Feedback:
    text: str
    label: str
    model_version: str | None


def parse_feedback(body: Any, config: Config) -> Feedback:
    if not isinstance(body, dict):
        raise Rejected(400, "bad_field", f"the body must be a JSON object, not {json_type(body)}")
    if "text" not in body:
        raise Rejected(400, "bad_field", 'feedback needs "text"')
    text = check_text(body["text"], "text", config.max_text_chars).text
    label = body.get("label")
    if type(label) not in (str, int) or label not in LABELS:  # exact types: no bool, no float, nothing unhashable
        raise Rejected(400, "bad_field", '"label" must be "negative" or "positive" (or 0 / 1)')
    version = body.get("model_version")
    if "model_version" in body and (not isinstance(version, str) or len(version) > 128
                                    or _SURROGATES.search(version)):
        raise Rejected(400, "bad_field", '"model_version" must be a string of at most 128 characters')
    return Feedback(text, LABELS[label], version)


@dataclass(frozen=True)
class Tweet:
    checked: CheckedText
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # the PASSTHROUGH fields present


PASSTHROUGH = ("created_at", "brand", "user", "lang")


_JSON_SCALAR = re.compile(r'\s*(?:"|-?\d|true\s*$|false\s*$|null\s*$)')


def _looks_like_json(decoded: str) -> bool:
    """JSON data (an object, an array, a string, a number, a literal) as opposed to a plain text: the
    same data must mean the same thing over HTTP and over Pub/Sub, so JSON that is not an object is an
    error here too, never scored as the text of its own quotes."""
    stripped = decoded.lstrip()
    return stripped.startswith(("{", "[")) or bool(_JSON_SCALAR.match(decoded) and _parses(stripped))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def parse_tweet(data: bytes, config: Config) -> Tweet:
    """A Pub/Sub message's data: a tweet JSON object, or plain UTF-8 text taken as the tweet."""
    if not data:
        raise Rejected(400, "empty_text", "the message has no data")
    if len(data) > config.max_request_bytes:
        raise Rejected(413, "too_large", f"the message data has {len(data):,} bytes; the limit is "
                                         f"{config.max_request_bytes:,}")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(400, "bad_encoding", f"the message data is not valid UTF-8 (byte {error.start})") from None
    if not _looks_like_json(decoded):
        return Tweet(check_text(decoded, "the message text", config.max_text_chars))
    body = decode_json(data, max_json_values(config))
    if not isinstance(body, dict):
        raise Rejected(400, "bad_field", f"the tweet must be a JSON object, not {json_type(body)}")
    return tweet_of(body, config.max_text_chars)


def tweet_of(body: dict[str, Any], max_chars: int) -> Tweet:
    """A tweet object (a Pub/Sub message's JSON, a row of an archive): its text checked, its id and the
    ``PASSTHROUGH`` fields kept."""
    if "text" not in body:
        raise Rejected(400, "bad_field", 'the tweet has no "text"')
    checked = check_text(body["text"], "text", max_chars)
    tweet_id = body.get("id")
    if tweet_id is not None and (isinstance(tweet_id, bool) or not isinstance(tweet_id, (str, int))):
        raise Rejected(400, "bad_field", '"id" must be a string or an integer')
    if isinstance(tweet_id, str) and len(tweet_id) > 128:
        raise Rejected(400, "bad_field", '"id" is longer than 128 characters')
    extra = {key: body[key] for key in PASSTHROUGH if key in body}
    return Tweet(checked, None if tweet_id is None else str(tweet_id), extra)


def scored_message(tweet: Tweet, prediction: Prediction, scored_at: datetime,
                   source_message_id: str | None) -> dict[str, Any]:
    """The ``tweets-scored`` message of a tweet: what the Pub/Sub function publishes and bulk scoring writes."""
    return {
        "id": tweet.id,
        "text": tweet.checked.text,
        **tweet.extra,
        **prediction.to_dict(),
        "scored_at": scored_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "source_message_id": source_message_id,
    }

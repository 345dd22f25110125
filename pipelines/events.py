"""Scored tweets as the detection reads them: one record per tweet, or a rejection saying why.

A scored tweet is what the scoring function publishes on ``tweets-scored`` (and what a backtest file
holds once scored): ``text``, ``sentiment``, ``probabilities`` (three classes) or
``probability_positive`` (the binary model), ``model_version``, with the tweet's ``id``,
``created_at`` and brand passed through. The detection counts a tweet as negative when its
``sentiment`` is ``negative``, whichever model scored it.

Event time: the tweet's ``created_at`` (``sentiment.event_time``); in the stream, Beam already set
it as the element's timestamp from the message attribute the scoring function writes, or from the
publish time when the tweet had none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sentiment import event_time

NEGATIVE = "negative"
SENTIMENTS = ("negative", "neutral", "positive")
DEFAULT_BRAND = "all"  # the key of tweets that name no brand (one key for the whole stream)
MAX_BRAND_CHARS = 200  # as the alert schema allows
MAX_ID_CHARS = 128
TEXT_CHARS = 280  # evidence keeps a tweet's length of text


class BadTweet(ValueError):
    """A message that cannot be counted: ``reason`` is a short label, the message says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ScoredTweet:
    brand: str
    time: float  # event time, seconds since the epoch
    negative: bool
    probability_negative: float
    id: str | None
    text: str
    model_version: str


def needs_scoring(row: dict) -> bool:
    """A row without a model's answer (a backtest file of raw tweets)."""
    return "sentiment" not in row


def parse_scored(row: Any, brand_field: str = "brand", time: float | None = None) -> ScoredTweet:
    """A scored tweet from its decoded JSON; ``time`` (the element's timestamp) when the stream set it,
    else ``created_at`` is read here. Raises ``BadTweet``."""
    if not isinstance(row, dict):
        raise BadTweet("bad_field", f"a scored tweet is a JSON object, not {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadTweet("bad_field", 'a scored tweet needs a non-empty "text"')
    sentiment = row.get("sentiment")
    if sentiment not in SENTIMENTS:
        raise BadTweet("not_scored", f'"sentiment" must be one of {", ".join(SENTIMENTS)}, not {sentiment!r:.40}')
    return ScoredTweet(
        brand=_brand(row, brand_field),
        time=_time(row) if time is None else time,
        negative=sentiment == NEGATIVE,
        probability_negative=_probability_negative(row),
        id=_id(row),
        text=text[:TEXT_CHARS],
        model_version=_short_string(row.get("model_version"), "model_version") or "unknown",
    )


def _brand(row: dict, field: str) -> str:
    value = row.get(field)
    if value is None:
        return DEFAULT_BRAND
    if not isinstance(value, str) or not value.strip():
        raise BadTweet("bad_brand", f'"{field}" must be a non-empty string, not {value!r:.40}')
    if len(value) > MAX_BRAND_CHARS:
        raise BadTweet("bad_brand", f'"{field}" has {len(value)} characters; at most {MAX_BRAND_CHARS}')
    return value.strip()


def _time(row: dict) -> float:
    if row.get("created_at") is None:
        raise BadTweet("no_time", 'the tweet has no "created_at": its event time is unknown')
    try:
        return event_time.parse(row["created_at"]).timestamp()
    except event_time.BadTime as error:
        raise BadTweet("bad_time", f'"created_at" {error}') from None


def _probability_negative(row: dict) -> float:
    probabilities = row.get("probabilities")
    if isinstance(probabilities, dict) and NEGATIVE in probabilities:
        value = probabilities[NEGATIVE]
    elif "probability_positive" in row:
        value = row["probability_positive"]
        value = 1.0 - value if _is_number(value) else value
    else:
        raise BadTweet("not_scored", 'a scored tweet needs "probabilities" or "probability_positive"')
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise BadTweet("bad_field", f"the probability must be a number within 0..1, not {value!r:.40}")
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _id(row: dict) -> str | None:
    value = row.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadTweet("bad_field", '"id" must be a string or an integer')
    return _short_string(str(value), "id", MAX_ID_CHARS)


def _short_string(value: Any, name: str, limit: int = MAX_BRAND_CHARS) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadTweet("bad_field", f'"{name}" must be a string of at most {limit} characters')
    return value or None

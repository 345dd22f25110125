"""The bad-buzz alert message: one definition for the pipeline that publishes it and the notifier that posts it.

A message on the alerts topic carries a JSON object (UTF-8) as its data and three attributes,
``type``, ``brand`` and ``alert_id``, equal to the same fields of the data (subscribers filter on
them without decoding). ``FIELDS`` lists every field; docs/alert_message.md shows the same table
(a test keeps the two equal).

- ``alert_id`` (``alert_id()``) is a hash of the brand and ``detected_at``: the same for a buzz's
  ``bad_buzz`` and its ``resolved`` message, and again after a redelivery or a rerun over the same
  tweets, so a consumer posts once per (``alert_id``, ``type``);
- reading is strict where a message would otherwise be misread, tolerant where it can still be
  told to a person: a message that is not an alert at all (not UTF-8 JSON, not an object, a
  missing or wrong-typed identity field, attributes that contradict the data, too large) raises
  ``Rejected`` with a reason; an optional field that is missing or unreadable becomes ``None``
  (shown as unknown) and is listed in ``Alert.problems``; unknown extra fields are ignored.

The pipeline checks what it publishes with ``parse_alert_object`` (the notifier reads it with
``parse_alert``), so both sides read one schema.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import Rejected
from .payloads import decode_json, json_type

BAD_BUZZ, RESOLVED = "bad_buzz", "resolved"
TYPES = (BAD_BUZZ, RESOLVED)
TESTS = ("share", "volume")
DRIVER_KINDS = ("term", "hashtag", "mention")
ATTRIBUTES = ("type", "brand", "alert_id")  # message attributes, equal to these fields of the data

MAX_BYTES = 64 * 1024  # a real alert is 2-5 KB (5 tweets of <= 280 characters, 10 drivers)
MAX_JSON_VALUES = 2_000  # a real alert holds about 100 (25 fields, 5 x 3 evidence, 10 x 5 drivers)
MAX_EVIDENCE, MAX_DRIVERS = 5, 10
MAX_TEXT_CHARS = 1_000  # an evidence text (the pipeline cuts them to 280)
MAX_NAME_CHARS = 200  # a brand, an id, a term, a model version

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # also lone surrogates


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # string, time, integer, number, enum, evidence, drivers
    description: str
    required: bool = False
    resolved_only: bool = False
    choices: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("type", "enum", "`bad_buzz` when a buzz is detected, `resolved` when it is over.", True, choices=TYPES),
    Field("alert_id", "string", "Hash of brand and `detected_at` (`alert_id()`): the same for a buzz's two messages "
                                "and across redeliveries and reruns; consumers dedupe on (`alert_id`, `type`).", True),
    Field("brand", "string", "The brand (the pipeline's key) the buzz is about.", True),
    Field("detected_at", "time", "Event time of the decision (the end of the bucket that closed); for `resolved`, "
                                 "when the resolution was decided.", True),
    Field("window_start", "time", "Start of the window whose share or volume decided."),
    Field("window_end", "time", "End of that window."),
    Field("window_hours", "number", "Length of that window, in hours."),
    Field("tweets", "integer", "Tweets of the brand in the window."),
    Field("negative", "integer", "Negative tweets among them."),
    Field("negative_share", "number", "`negative / tweets`."),
    Field("baseline_share", "number", "The brand's negative share over its baseline period."),
    Field("baseline_start", "time", "Start of the baseline period (the brand's history before the window)."),
    Field("baseline_end", "time", "End of the baseline period."),
    Field("baseline_tweets", "integer", "Tweets of the brand in the baseline period."),
    Field("test", "enum", "Which test decided: `share` (negative share against the baseline's) or `volume` "
                          "(negative count against the usual).", choices=TESTS),
    Field("score", "number", "The deciding test's z-score."),
    Field("share_z", "number", "z-score of the share test."),
    Field("volume_z", "number", "z-score of the volume test."),
    Field("expected_negative", "number", "Negative tweets the baseline predicts for the window."),
    Field("negative_ratio", "number", "`negative / expected_negative`: how many times the usual negative volume."),
    Field("model_version", "string", "Version of the model that scored the window's tweets."),
    Field("evidence", "evidence", f"Up to {MAX_EVIDENCE} most negative tweets of the window: "
                                  "`{id, text, probability_negative}` (`id` may be null)."),
    Field("drivers", "drivers", f"Up to {MAX_DRIVERS} terms over-represented in the window's negative tweets: "
                                "`{term, kind, count, baseline_count, lift}`, `kind` one of "
                                + ", ".join(f"`{k}`" for k in DRIVER_KINDS) + "."),
    Field("alert_detected_at", "time", "`detected_at` of the `bad_buzz` message this resolves.", resolved_only=True),
    Field("alert_hours", "number", "How long the buzz lasted, in hours.", resolved_only=True),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)


@dataclass(frozen=True)
class Evidence:
    id: str | None
    text: str
    probability_negative: float | None


@dataclass(frozen=True)
class Driver:
    term: str
    kind: str
    count: int | None
    baseline_count: int | None
    lift: float | None


@dataclass(frozen=True)
class Alert:
    """An alert as read: required fields always set, optional ones ``None`` when missing or unreadable."""

    type: str
    alert_id: str
    brand: str
    detected_at: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    window_hours: float | None = None
    tweets: int | None = None
    negative: int | None = None
    negative_share: float | None = None
    baseline_share: float | None = None
    baseline_start: datetime | None = None
    baseline_end: datetime | None = None
    baseline_tweets: int | None = None
    test: str | None = None
    score: float | None = None
    share_z: float | None = None
    volume_z: float | None = None
    expected_negative: float | None = None
    negative_ratio: float | None = None
    model_version: str | None = None
    evidence: tuple[Evidence, ...] = ()
    drivers: tuple[Driver, ...] = ()
    alert_detected_at: datetime | None = None
    alert_hours: float | None = None
    problems: tuple[str, ...] = field(default=(), compare=False)  # optional fields that could not be read

    @property
    def key(self) -> tuple[str, str]:
        """What a consumer dedupes on."""
        return self.alert_id, self.type


def alert_id(brand: str, detected_at: str) -> str:
    """The one rule for an alert's id: stable across redeliveries and reruns for a buzz of a brand."""
    return hashlib.sha256(f"{brand}|{detected_at}".encode()).hexdigest()[:20]


def attributes(payload: dict[str, Any]) -> dict[str, str]:
    """The message attributes of an alert payload (what the publisher sets beside the data)."""
    return {name: str(payload[name]) for name in ATTRIBUTES}


# --- Reading ---------------------------------------------------------------------------------------

def parse_alert(data: bytes, attributes: dict[str, str] | None = None) -> Alert:
    """A Pub/Sub message's data (and attributes) as an alert; ``Rejected`` if it is not one."""
    if not data:
        raise Rejected(400, "empty", "the message has no data: an alert is a JSON object")
    if len(data) > MAX_BYTES:
        raise Rejected(413, "too_large", f"the message data has {len(data):,} bytes; an alert has at most "
                                         f"{MAX_BYTES:,}")
    body = decode_json(data, MAX_JSON_VALUES)  # strict JSON: UTF-8, no NaN, bounded nesting and size
    return parse_alert_object(body, attributes)


def parse_alert_object(body: Any, attributes: dict[str, str] | None = None) -> Alert:
    """An alert from its decoded JSON (the pipeline calls this on what it is about to publish)."""
    if not isinstance(body, dict):
        raise Rejected(400, "bad_field", f"an alert is a JSON object, not {json_type(body)}")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in FIELDS:
        if spec.name not in body or body[spec.name] is None:
            if spec.required:
                raise Rejected(400, "not_an_alert", f'the message has no "{spec.name}": not an alert')
            continue
        try:
            values[spec.name] = _read(spec, body[spec.name])
        except ValueError as error:
            if spec.required:
                raise Rejected(400, "not_an_alert", f'"{spec.name}" {error}: not an alert') from None
            problems.append(f'"{spec.name}" {error}')
    for name in ATTRIBUTES:
        given = (attributes or {}).get(name)
        if given is not None and given != str(body[name]):
            raise Rejected(400, "bad_attributes", f'the attribute {name}={_shown(given)} contradicts the data\'s '
                                                  f'"{name}" ({_shown(body[name])})')
    evidence, evidence_problems = values.pop("evidence", ((), []))
    drivers, driver_problems = values.pop("drivers", ((), []))
    return Alert(**values, evidence=evidence, drivers=drivers,
                 problems=tuple(problems + evidence_problems + driver_problems))


def _read(spec: Field, value: Any) -> Any:
    """A field's value, or ValueError saying why it cannot be read."""
    reader = {"string": _string, "time": _time, "integer": _integer, "number": _number, "evidence": _evidence,
              "drivers": _drivers}.get(spec.kind)
    if spec.kind == "enum":
        if value not in spec.choices or not isinstance(value, str):
            raise ValueError(f"must be one of {', '.join(spec.choices)}, not {_shown(value)}")
        return value
    return reader(value)


def _string(value: Any, limit: int = MAX_NAME_CHARS) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {json_type(value)}")
    if not value.strip():
        raise ValueError("is empty")
    if len(value) > limit:
        raise ValueError(f"has {len(value):,} characters; at most {limit:,}")
    if _CONTROL.search(value):
        raise ValueError("holds control characters or is not valid Unicode")
    return value


def _time(value: Any) -> datetime:
    text = _string(value, 64)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an RFC 3339 time: {_shown(text)}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"has no time zone (RFC 3339 needs one): {_shown(text)}")
    return parsed


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"must be an integer, not {_shown(value)}")
    if value < 0:
        raise ValueError(f"must not be negative ({value})")
    return int(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {_shown(value)}")
    return float(value)


def _items(value: Any, limit: int) -> list:
    if not isinstance(value, list):
        raise ValueError(f"must be an array, not {json_type(value)}")
    return value[:limit]  # more than the pipeline sends: the first ones are the strongest


def _evidence(value: Any) -> tuple[tuple[Evidence, ...], list[str]]:
    found, problems = [], []
    for index, item in enumerate(_items(value, MAX_EVIDENCE)):
        try:
            if not isinstance(item, dict):
                raise ValueError(f"must be an object, not {json_type(item)}")
            tweet_id = item.get("id")
            if tweet_id is not None:
                if isinstance(tweet_id, bool) or not isinstance(tweet_id, str | int):
                    raise ValueError('"id" must be a string, an integer or null')
                tweet_id = _string(str(tweet_id))
            text = _string(item.get("text"), MAX_TEXT_CHARS)
            probability = item.get("probability_negative")
            if probability is not None:
                probability = _number(probability)
                if not 0 <= probability <= 1:
                    raise ValueError(f'"probability_negative" must be within 0..1, not {probability}')
            found.append(Evidence(tweet_id, text, probability))
        except ValueError as error:
            problems.append(f'"evidence"[{index}] {error}')
    return tuple(found), problems


def _drivers(value: Any) -> tuple[tuple[Driver, ...], list[str]]:
    found, problems = [], []
    for index, item in enumerate(_items(value, MAX_DRIVERS)):
        try:
            if not isinstance(item, dict):
                raise ValueError(f"must be an object, not {json_type(item)}")
            kind = item.get("kind", "term")
            if kind not in DRIVER_KINDS:
                raise ValueError(f'"kind" must be one of {", ".join(DRIVER_KINDS)}, not {_shown(kind)}')
            numbers = {}
            for name, reader in (("count", _integer), ("baseline_count", _integer), ("lift", _number)):
                numbers[name] = None if item.get(name) is None else reader(item[name])
            found.append(Driver(_string(item.get("term")), kind, **numbers))
        except ValueError as error:
            problems.append(f'"drivers"[{index}] {error}')
    return tuple(found), problems


def _shown(value: Any) -> str:
    """A value for an error message: short, never a whole payload."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def markdown_table() -> str:
    """The field table of docs/alert_message.md (a test keeps the page equal to it)."""
    rows = ["| field | type | required | meaning |", "|---|---|---|---|"]
    for spec in FIELDS:
        kind = " / ".join(f"`{c}`" for c in spec.choices) if spec.choices else spec.kind
        required = "yes" if spec.required else ("`resolved` only" if spec.resolved_only else "no")
        rows.append(f"| `{spec.name}` | {kind} | {required} | {spec.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())

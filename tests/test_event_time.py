"""created_at: the one rule that reads it (functions and pipelines), and what the Pub/Sub function does with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sentiment import event_time
from sentiment.config import Config
from sentiment.errors import Rejected
from sentiment.payloads import parse_tweet


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30T14:05:00Z", "2026-11-30T14:05:00.000Z"),
    ("2026-11-30T15:05:00+01:00", "2026-11-30T14:05:00.000Z"),
    ("2026-11-30T14:05:00.123456Z", "2026-11-30T14:05:00.123Z"),
    ("Mon Nov 30 14:05:00 +0000 2026", "2026-11-30T14:05:00.000Z"),
    (" 2026-11-30T14:05:00Z ", "2026-11-30T14:05:00.000Z"),
])
def test_times_are_read_and_written_as_rfc3339_utc(text, expected):
    assert event_time.rfc3339(event_time.parse(text)) == expected


@pytest.mark.parametrize("value, message", [
    ("2026-11-30T14:05:00", "no time zone"), ("yesterday", "not an RFC 3339"), ("", "empty"),
    (1764511500, "must be a string"), (None, "must be a string"), ("2001-01-01T00:00:00Z", "before the first tweet"),
    ("2026-11-30T14:05:00Z" + "0" * 100, "characters"), ("2026-13-01T00:00:00Z", "not an RFC 3339"),
])
def test_what_is_not_a_time_is_refused_with_a_reason(value, message):
    with pytest.raises(event_time.BadTime, match=message):
        event_time.parse(value)


def test_seconds_are_written_too():
    assert event_time.rfc3339(datetime(2026, 11, 30, 14, 5, tzinfo=UTC).timestamp()) == "2026-11-30T14:05:00.000Z"


CONFIG = Config.from_env({})


def test_a_tweet_keeps_its_brand_and_its_normalised_time():
    tweet = parse_tweet(json.dumps({"text": "lost my bag", "brand": "AirParadis",
                                    "created_at": "Mon Nov 30 15:05:00 +0100 2026"}).encode(), CONFIG)
    assert tweet.extra == {"brand": "AirParadis", "created_at": "Mon Nov 30 15:05:00 +0100 2026"}
    assert tweet.created_at == "2026-11-30T14:05:00.000Z"
    assert parse_tweet(b'{"text": "fine"}', CONFIG).created_at is None


@pytest.mark.parametrize("body, message", [
    ({"text": "x", "created_at": "tomorrow"}, "created_at"), ({"text": "x", "created_at": 5}, "created_at"),
    ({"text": "x", "brand": 3}, "brand"), ({"text": "x", "brand": " "}, "brand"), ({"text": "x", "brand": "b" * 201},
                                                                                    "brand"),
])
def test_a_tweet_with_an_unreadable_time_or_brand_is_refused(body, message):
    with pytest.raises(Rejected, match=message) as caught:
        parse_tweet(json.dumps(body).encode(), CONFIG)
    assert caught.value.reason == "bad_field"

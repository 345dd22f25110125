"""The alert message schema (sentiment/alert_payload.py): what is an alert, what is not, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sentiment import alert_payload
from sentiment.alert_payload import BAD_BUZZ, MAX_BYTES, RESOLVED, parse_alert, parse_alert_object
from sentiment.errors import Rejected

from .notify_support import attributes, bad_buzz, data, resolved

REPO = Path(__file__).resolve().parents[1]


def test_the_pipelines_example_reads_in_full():
    alert = parse_alert(data(bad_buzz()), attributes(bad_buzz()))
    assert alert.type == BAD_BUZZ and alert.brand == "spike" and alert.problems == ()
    assert alert.detected_at == datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert alert.negative_share == 0.5031 and alert.tweets == 318 and alert.test == "volume"
    assert [e.id for e in alert.evidence] == ["1795173667871089498", "spike-1795173667871-089498", None,
                                              "1795173667871089499"]
    assert [d.kind for d in alert.drivers] == ["term", "hashtag", "mention"]
    assert alert.key == (alert.alert_id, BAD_BUZZ)


def test_a_resolution_shares_the_alert_id_of_its_buzz():
    buzz, over = parse_alert(data(bad_buzz())), parse_alert(data(resolved()))
    assert over.type == RESOLVED and over.alert_id == buzz.alert_id and over.key != buzz.key
    assert over.alert_detected_at == buzz.detected_at and over.alert_hours == 6


def test_alert_id_is_the_pipelines_rule():
    # The value of docs/bad_buzz.md's example (the pipeline's own output for brand "spike").
    assert alert_payload.alert_id("spike", "2026-11-20T12:00:00Z") == "c32b24bc2d495b447c67"
    assert alert_payload.alert_id("spike", "2026-11-20T13:00:00Z") != "c32b24bc2d495b447c67"


def test_unknown_fields_are_ignored_and_missing_optional_ones_are_unknown():
    minimal = {"type": "bad_buzz", "alert_id": "a1", "brand": "b", "detected_at": "2026-11-20T12:00:00+01:00",
               "something_new": {"nested": [1, 2]}, "schema": 2}
    alert = parse_alert_object(minimal)
    assert alert.negative_share is None and alert.evidence == () and alert.problems == ()
    assert alert.detected_at.utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("negative_share", "0.5", "must be a finite number"),
    ("negative_share", float("nan"), "must be a finite number"),
    ("tweets", True, "must be an integer"),
    ("tweets", 3.5, "must be an integer"),
    ("tweets", -1, "must not be negative"),
    ("window_start", "yesterday", "is not an RFC 3339 time"),
    ("window_start", "2026-11-20T09:00:00", "has no time zone"),
    ("test", "vibes", "must be one of share, volume"),
    ("model_version", "x" * 500, "characters; at most"),
    ("evidence", {"id": 1}, "must be an array"),
    ("drivers", "outage", "must be an array"),
])
def test_an_unreadable_optional_field_becomes_unknown_and_is_listed(field, value, problem):
    alert = parse_alert_object(bad_buzz(**{field: value}))
    assert getattr(alert, field) in (None, ())
    assert len(alert.problems) == 1 and field in alert.problems[0] and problem in alert.problems[0]


def test_a_bad_evidence_or_driver_item_is_skipped_alone():
    evidence = [{"id": "1", "text": "ok", "probability_negative": 0.9}, {"id": "2", "text": 42}, "not an object",
                {"id": {"x": 1}, "text": "bad id"}, {"id": "5", "text": "p", "probability_negative": 2}]
    drivers = [{"term": "ok", "kind": "term"}, {"term": "x", "kind": "emoji"}, {"term": ""},
               {"term": "n", "count": "3"}]
    alert = parse_alert_object(bad_buzz(evidence=evidence, drivers=drivers))
    assert [e.id for e in alert.evidence] == ["1"] and [d.term for d in alert.drivers] == ["ok"]
    assert len(alert.problems) == 7
    assert any('"evidence"[1]' in p and "must be a string" in p for p in alert.problems)
    assert any('"drivers"[1]' in p and "emoji" in p for p in alert.problems)


# --- Not an alert: parked with a reason -----------------------------------------------------------

NOT_ALERTS = [
    pytest.param(b"", "empty", "no data", id="empty"),
    pytest.param(b"{not json", "bad_json", "malformed JSON", id="malformed"),
    pytest.param(b"\xff\xfe{}", "bad_encoding", "not valid UTF-8", id="wrong-encoding"),
    pytest.param(data(bad_buzz()).decode().encode("utf-16"), "bad_encoding", "not valid UTF-8", id="utf-16"),
    pytest.param(b"[1, 2]", "bad_field", "not an array", id="an-array"),
    pytest.param(b'"bad_buzz"', "bad_field", "not a string", id="a-string"),
    pytest.param(b"null", "bad_field", "not null", id="null"),
    pytest.param(b"{}", "not_an_alert", 'no "type"', id="empty-object"),
    pytest.param(data({**bad_buzz(), "type": "warning"}), "not_an_alert", "must be one of bad_buzz, resolved",
                 id="unknown-type"),
    pytest.param(data({k: v for k, v in bad_buzz().items() if k != "alert_id"}), "not_an_alert", 'no "alert_id"',
                 id="no-alert-id"),
    pytest.param(data(bad_buzz(alert_id=12345)), "not_an_alert", "must be a string", id="wrong-type-id"),
    pytest.param(data(bad_buzz(brand="")), "not_an_alert", '"brand" is empty', id="empty-brand"),
    pytest.param(data(bad_buzz(brand="a\x00b")), "not_an_alert", "control characters", id="control-characters"),
    pytest.param(data(bad_buzz(detected_at=1795173667)), "not_an_alert", "must be a string", id="epoch-time"),
    pytest.param(data(bad_buzz(detected_at=None)), "not_an_alert", 'no "detected_at"', id="null-time"),
    pytest.param(b'{"type": "bad_buzz", "alert_id": "\\ud800", "brand": "b", "detected_at": "2026-11-20T12:00:00Z"}',
                 "bad_encoding", "lone surrogate", id="lone-surrogate"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "too_large", "at most", id="huge-nested"),
    pytest.param(data(bad_buzz()).replace(b'"negative_share": 0.5031', b'"negative_share": NaN'), "bad_json",
                 "NaN is not a JSON value", id="nan"),
    pytest.param(b'{"drivers": [' + b"1," * 5000 + b'1]}', "too_large", "values", id="too-many-values"),
    pytest.param(data(bad_buzz(evidence=[{"text": "x" * 900}] * 80)), "too_large", "bytes", id="huge"),
]


@pytest.mark.parametrize(("raw", "reason", "message"), NOT_ALERTS)
def test_what_is_not_an_alert_is_rejected_with_its_reason(raw, reason, message):
    with pytest.raises(Rejected) as caught:
        parse_alert(raw)
    assert caught.value.reason == reason, caught.value.message
    assert message in caught.value.message


def test_deep_nesting_within_the_size_limit_is_a_json_error_not_a_crash():
    raw = b'{"x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    assert len(raw) < MAX_BYTES
    with pytest.raises(Rejected) as caught:
        parse_alert(raw)
    assert caught.value.reason == "bad_json"


@pytest.mark.parametrize("name", ["type", "brand", "alert_id"])
def test_attributes_that_contradict_the_data_are_rejected(name):
    given = {**attributes(bad_buzz()), name: "resolved" if name == "type" else "other"}
    with pytest.raises(Rejected) as caught:
        parse_alert(data(bad_buzz()), given)
    assert caught.value.reason == "bad_attributes" and name in caught.value.message


def test_the_attributes_a_publisher_sets_are_read_back_equal():
    payload = bad_buzz()
    assert alert_payload.attributes(payload) == attributes(payload)
    assert parse_alert(data(payload), alert_payload.attributes(payload)).alert_id == payload["alert_id"]


def test_the_docs_page_shows_the_schema():
    page = (REPO / "docs" / "alert_message.md").read_text(encoding="utf-8")
    assert alert_payload.markdown_table() in page, "regenerate with: python -m sentiment.alert_payload"
    example = json.loads(page.split("```json\n", 1)[1].split("```", 1)[0])
    assert parse_alert_object(example).problems == ()

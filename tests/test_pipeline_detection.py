"""Synthetic multi-brand streams through the detection transforms (DirectRunner, batch, shuffled input):
a steady brand at 0.75 stays quiet; a 0.40 -> 0.65 climb alerts once, then resolves once; a volume spike at
a steady share alerts on volume; a brand with too little history never alerts."""

from __future__ import annotations

import random
from datetime import datetime

import apache_beam as beam
import pytest

from pipelines.backtest_input import DecodeLine
from pipelines.detect import BUCKETS, REJECTED, DetectBadBuzz, ParseScored
from pipelines.settings import DetectionSettings
from sentiment import alert_payload
from tests.buzz_streams import HOUR, START, brand_stream, daily, ramp

BUZZ_START, BUZZ_END = 60, 72  # hours after START
SPIKE_START, SPIKE_END = 62, 65


def streams() -> list[dict]:
    rows = brand_stream("steady", 96, daily(30), lambda h: 0.75, seed=1)
    rows += brand_stream("climb", 96, daily(40), ramp(0.40, 0.65, BUZZ_START, 3, BUZZ_END), seed=2,
                         buzz=lambda h: BUZZ_START <= h < BUZZ_END)
    rows += brand_stream("spike", 96, lambda h: 150 if SPIKE_START <= h < SPIKE_END else 30, lambda h: 0.5, seed=3)
    rows += brand_stream("newcomer", 14, daily(40), ramp(0.4, 0.8, 6, 1, 14), seed=4, start=START + 58 * HOUR)
    random.Random(5).shuffle(rows)  # batch input has no order: the detector must not rely on one
    return rows


FOUND: dict[str, list] = {}


def _keep(items: list, name: str) -> None:  # module level: the runner pickles it by reference
    FOUND[name].extend(items)


def run(rows: list[dict], settings: DetectionSettings) -> tuple[list[dict], list, list[dict]]:
    FOUND.update(alerts=[], reports=[], rejected=[])

    with beam.Pipeline() as pipeline:
        parsed = (pipeline | beam.Create(rows)
                  | beam.ParDo(ParseScored()).with_outputs(REJECTED, main="tweets"))
        detected = parsed.tweets | DetectBadBuzz(settings)
        for name, pcollection in (("alerts", detected.alerts), ("reports", detected[BUCKETS]),
                                  ("rejected", parsed[REJECTED])):
            pcollection | f"All{name}" >> beam.combiners.ToList() | f"Keep{name}" >> beam.Map(_keep, name)
    return FOUND["alerts"], FOUND["reports"], FOUND["rejected"]


@pytest.fixture(scope="module")
def detected():
    alerts, reports, rejected = run(streams(), DetectionSettings())
    return alerts, reports, rejected


def of(alerts: list[dict], brand: str) -> list[dict]:
    return sorted((a for a in alerts if a["brand"] == brand), key=lambda a: a["detected_at"])


def hours_after_start(rfc3339: str) -> float:
    return (datetime.fromisoformat(rfc3339).timestamp() - START) / HOUR


def test_every_alert_meets_the_schema_the_notifier_reads(detected):
    alerts, _, rejected = detected
    assert alerts and rejected == []
    for alert in alerts:
        data = beam.coders.BytesCoder().encode(__import__("json").dumps(alert).encode())
        parsed = alert_payload.parse_alert(data, alert_payload.attributes(alert))
        assert parsed.problems == ()


def test_a_steady_brand_at_075_negative_stays_quiet(detected):
    alerts, reports, _ = detected
    assert of(alerts, "steady") == []
    decided = [r for r in reports if r.brand == "steady" and r.baseline_share is not None]
    assert len(decided) > 100 and all(0.70 < r.baseline_share < 0.80 for r in decided)


def test_a_climb_from_040_to_065_alerts_once_then_resolves_once(detected):
    alerts, _, _ = detected
    buzz, resolution = of(alerts, "climb")  # exactly two messages
    assert buzz["type"] == "bad_buzz" and resolution["type"] == "resolved"
    assert BUZZ_START < hours_after_start(buzz["detected_at"]) <= BUZZ_START + 6
    assert buzz["test"] == "share" and buzz["score"] >= 3
    assert buzz["negative_share"] - buzz["baseline_share"] >= 0.08
    assert 0.35 < buzz["baseline_share"] < 0.45
    assert buzz["alert_id"] == resolution["alert_id"] == alert_payload.alert_id("climb", buzz["detected_at"])
    assert resolution["alert_detected_at"] == buzz["detected_at"]
    assert BUZZ_END < hours_after_start(resolution["detected_at"]) <= BUZZ_END + 6
    # the baseline precedes the window and excludes it
    assert buzz["baseline_end"] <= buzz["window_start"]
    assert hours_after_start(buzz["baseline_end"]) - hours_after_start(buzz["baseline_start"]) == 48


def test_the_alert_shows_the_words_and_tweets_behind_the_buzz(detected):
    alerts, _, _ = detected
    buzz = of(alerts, "climb")[0]
    terms = [d["term"] for d in buzz["drivers"]]
    assert "#baggagefail" in terms[:3] and "lost" in terms
    assert all(d["count"] >= 3 and d["lift"] > 1 for d in buzz["drivers"])
    evidence = buzz["evidence"]
    assert len(evidence) == 5
    probabilities = [e["probability_negative"] for e in evidence]
    assert probabilities == sorted(probabilities, reverse=True) and probabilities[0] > 0.9
    assert all(e["id"].startswith("climb-") for e in evidence)


def test_a_volume_spike_at_a_steady_share_alerts_on_volume(detected):
    alerts, _, _ = detected
    spike = of(alerts, "spike")
    assert [a["type"] for a in spike] == ["bad_buzz", "resolved"]
    assert spike[0]["test"] == "volume" and spike[0]["negative_ratio"] >= 3
    assert SPIKE_START < hours_after_start(spike[0]["detected_at"]) <= SPIKE_END + 0.5
    assert abs(spike[0]["negative_share"] - 0.5) < 0.1


def test_a_brand_with_too_little_history_never_alerts(detected):
    alerts, reports, _ = detected
    assert of(alerts, "newcomer") == []
    mine = [r for r in reports if r.brand == "newcomer"]
    assert mine and {r.state for r in mine} == {"warming"}


def test_the_same_tweets_give_the_same_alerts_in_any_order(detected):
    alerts, _, _ = detected
    rows = [r for r in streams() if r["brand"] == "climb"]
    rows.reverse()
    again, _, _ = run(rows, DetectionSettings())
    assert of(again, "climb") == of(alerts, "climb")


def test_malformed_scored_tweets_are_rejected_with_a_reason_and_the_rest_counted():
    good = brand_stream("steady", 2, daily(10), lambda h: 0.5, seed=9)
    bad = [{"text": "no score"}, {"text": "x", "sentiment": "angry", "probability_positive": 0.1},
           {"text": "x", "sentiment": "negative", "probability_positive": 1.5, "created_at": "2026-05-29T00:00:00Z"},
           {"text": "x", "sentiment": "negative", "probability_positive": 0.1, "created_at": "yesterday"},
           {"text": "x", "sentiment": "negative", "probability_positive": 0.1, "created_at": "2026-05-29T00:00:00"},
           {"text": "x", "sentiment": "negative", "probability_positive": 0.1},
           {"text": "x", "sentiment": "negative", "probability_positive": 0.1, "created_at": "2026-05-29T00:00:00Z",
            "brand": ["a"]},
           {"text": "", "sentiment": "negative", "probability_positive": 0.1}, ["not", "an", "object"]]
    _, reports, rejected = run(good + bad, DetectionSettings())
    assert sorted(r["reason"] for r in rejected) == sorted(
        ["not_scored", "not_scored", "bad_field", "bad_time", "bad_time", "no_time", "bad_brand", "bad_field",
         "bad_field"])
    assert sum(r.tweets for r in reports) == len(good)


@pytest.mark.parametrize("line, reason", [
    (b"not json", "bad_json"), (b"[1, 2]", "bad_field"), (b'{"text": "caf\xe9"}', "bad_encoding"),
    (b'{"text": "' + b"x" * (1024 * 1024) + b'"}', "too_large"), (b'{"a": NaN}', "bad_json"),
])
def test_unreadable_lines_are_rejected_with_a_reason(line, reason):
    (rejected,) = [item.value for item in DecodeLine().process(line)]
    assert rejected["reason"] == reason


def test_blank_lines_are_skipped_and_objects_decoded():
    assert list(DecodeLine().process(b"  \n")) == []
    assert list(DecodeLine().process(b'\xef\xbb\xbf{"text": "hi"}')) == [{"text": "hi"}]

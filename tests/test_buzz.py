"""The bad-buzz detector on a fake clock: thresholds, volume, hysteresis, cooldown, evidence, retries."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from sentiment.config import Config
from sentiment.telemetry import Telemetry
from sentiment.telemetry.buzz import EVIDENCE_CHARS, PUBLISH_RETRY_SECONDS, BuzzDetector, BuzzSettings

from .functions_support import polar_prediction

START = 1_800_000_000.0
SETTINGS = BuzzSettings(window_seconds=600, negative_share=0.6, min_tweets=50, cooldown_seconds=1800)


def replay(detector: BuzzDetector, now: float, minutes: int, per_minute: int, negative_share: float,
           events: list) -> float:
    """Tweets spread evenly, exactly ``negative_share`` of each 20 negative; every transition published."""
    step = 60.0 / per_minute
    for i in range(minutes * per_minute):
        is_negative = i % 20 < round(negative_share * 20)
        detector.add(now, is_negative, 0.1 if is_negative else 0.9, "v1", f"tweet {i}", str(i))
        transition = detector.evaluate(now)
        if transition is not None:
            detector.apply(transition)
            events.append(transition.payload)
        now += step
    return now


def seconds(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339).timestamp()


def test_a_rising_share_alerts_once_then_resolves_once():
    detector, events = BuzzDetector(SETTINGS, instance="i", job="j", source="pubsub"), []
    now = replay(detector, START, 20, 30, 0.2, events)
    assert events == []
    now = replay(detector, now, 20, 30, 0.7, events)
    assert [e["type"] for e in events] == ["bad_buzz"]
    alert = events[0]
    assert alert["negative_share"] > 0.6 and alert["tweets"] >= 50
    assert alert["negative"] == round(alert["negative_share"] * alert["tweets"])
    replay(detector, now, 20, 30, 0.2, events)
    assert [e["type"] for e in events] == ["bad_buzz", "resolved"]
    assert events[1]["reason"] == "share_fell" and events[1]["negative_share"] < 0.5
    assert events[1]["alert_started"] == alert["window_end"]


def test_low_volume_does_not_alert():
    detector, events = BuzzDetector(SETTINGS, instance="i", job="j", source="pubsub"), []
    replay(detector, START, 60, 4, 0.7, events)  # 40 tweets per 10 minutes, 70% negative
    assert events == []
    assert detector.tweets == 40 or detector.tweets == 41  # the window holds one bucket more at most


def test_a_share_hovering_around_the_threshold_does_not_flap():
    detector, events = BuzzDetector(SETTINGS, instance="i", job="j", source="pubsub"), []
    now = replay(detector, START, 15, 30, 0.7, events)
    replay(detector, now, 30, 30, 0.55, events)  # below the threshold, above the resolution level
    assert [e["type"] for e in events] == ["bad_buzz"]


def test_cooldown_blocks_a_second_alert_then_lets_it_through():
    settings = BuzzSettings(window_seconds=600, negative_share=0.6, min_tweets=50, cooldown_seconds=3600)
    detector, events = BuzzDetector(settings, instance="i", job="j", source="pubsub"), []
    now = replay(detector, START, 15, 30, 0.7, events)
    now = replay(detector, now, 15, 30, 0.2, events)
    now = replay(detector, now, 15, 30, 0.7, events)  # a second buzz, 30 min after the first alert
    assert [e["type"] for e in events] == ["bad_buzz", "resolved"]
    replay(detector, now, 30, 30, 0.7, events)  # still going once the hour has passed
    assert [e["type"] for e in events] == ["bad_buzz", "resolved", "bad_buzz"]
    assert seconds(events[2]["window_end"]) - seconds(events[0]["window_end"]) >= 3600


def test_volume_falling_away_resolves():
    detector, events = BuzzDetector(SETTINGS, instance="i", job="j", source="pubsub"), []
    now = replay(detector, START, 15, 30, 0.7, events)
    now += 600  # silence: the window empties
    transition = detector.evaluate(now)
    assert transition.payload["type"] == "resolved" and transition.payload["reason"] == "volume_fell"
    assert transition.payload["tweets"] == 0


def test_evidence_is_the_most_negative_tweets_of_the_window_cut_to_a_tweet():
    detector = BuzzDetector(BuzzSettings(600, 0.5, 3, 0), instance="i", job="j", source="http")
    probabilities = [0.4, 0.05, 0.3, 0.01, 0.2, 0.15, 0.02, 0.45, 0.9]
    for index, probability in enumerate(probabilities):  # spread over several buckets
        text = "worst " * 100 if index == 3 else f"tweet {index}"
        detector.add(START + 20 * index, probability < 0.5, probability, "v7", text, f"id-{index}")
    payload = detector.evaluate(START + 200).payload
    assert [e["id"] for e in payload["evidence"]] == ["id-3", "id-6", "id-1", "id-5", "id-4"]
    assert [e["probability_positive"] for e in payload["evidence"]] == [0.01, 0.02, 0.05, 0.15, 0.2]
    assert len(payload["evidence"][0]["text"]) == EVIDENCE_CHARS
    assert payload["evidence"][1]["text"] == "tweet 6"
    assert payload["model_version"] == "v7"
    assert (payload["tweets"], payload["negative"], payload["negative_share"]) == (9, 8, round(8 / 9, 4))


def test_old_tweets_leave_the_window():
    detector = BuzzDetector(SETTINGS, instance="i", job="j", source="http")
    for i in range(100):
        detector.add(START + i, True, 0.1, "v1", "bad", None)
    assert detector.share(START + 100) == 1.0 and detector.tweets == 100
    assert detector.share(START + 100 + 600) == 0.0 and detector.tweets == 0
    assert detector.evidence(START + 100 + 600) == []


def test_evidence_only_from_the_window():
    detector = BuzzDetector(BuzzSettings(600, 0.5, 1, 0), instance="i", job="j", source="http")
    detector.add(START, True, 0.0, "v1", "old and awful", "old")
    for i in range(5):
        detector.add(START + 700 + i, True, 0.3, "v1", f"new {i}", f"new-{i}")
    assert {e["id"] for e in detector.evidence(START + 705)} == {f"new-{i}" for i in range(5)}


# -- through Telemetry: publishing, failures, shutdown --------------------------------------------


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


def telemetry_with(publish, clock, **env) -> Telemetry:
    config = Config.from_env({"METRICS_EXPORTER": "none", "BUZZ_MIN_TWEETS": "10", **env})
    return Telemetry(config, clock=clock, publish_alert=publish, instance_id="inst", job="score",
                     log_stream=io.StringIO())


def test_a_failed_publish_is_tried_again_later_not_on_every_request():
    clock, calls, published = Clock(), [], []

    def flaky(payload):
        calls.append(clock.now)
        if len(calls) == 1:
            raise RuntimeError("Pub/Sub unavailable")
        published.append(payload)

    telemetry = telemetry_with(flaky, clock)
    for _ in range(40):
        telemetry.record_scored("pubsub", polar_prediction(0.1, "v1"), 0.2, "awful", None)
        telemetry.end_of_request()
        clock.now += 1
    assert len(calls) == 2 and calls[1] - calls[0] == pytest.approx(PUBLISH_RETRY_SECONDS)
    assert [p["type"] for p in published] == ["bad_buzz"]


def test_shutdown_resolves_an_open_alert():
    clock, published = Clock(), []
    telemetry = telemetry_with(published.append, clock)
    for _ in range(20):
        telemetry.record_scored("pubsub", polar_prediction(0.1, "v1"), 0.2, "awful", None)
        telemetry.end_of_request()
        clock.now += 1
    telemetry.shutdown()
    telemetry.shutdown()
    assert [(p["type"], p.get("reason")) for p in published] == [("bad_buzz", None), ("resolved", "instance_shutdown")]
    assert published[0]["instance"] == "inst" and published[0]["job"] == "score"
    assert published[0]["source"] == "pubsub"


def test_sources_have_their_own_windows():
    clock, published = Clock(), []
    telemetry = telemetry_with(published.append, clock)
    for i in range(40):
        telemetry.record_scored("pubsub", polar_prediction(0.9, "v1"), 0.2, "great", None)
        if i % 2:
            telemetry.record_scored("http", polar_prediction(0.1, "v1"), 0.2, "awful", None)
        telemetry.end_of_request()
        clock.now += 1
    assert [(p["type"], p["source"], p["tweets"]) for p in published] == [("bad_buzz", "http", 10)]

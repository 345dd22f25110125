"""Bad-buzz alerts end to end: a replay of tweets through Telemetry, alerts published to the real Pub/Sub emulator.

The window runs on a fake clock (an hour of tweets replays in a fraction of a second); publishing and
pulling are real google-cloud-pubsub calls against the emulator.
"""

from __future__ import annotations

import io
import json

import pytest

from sentiment.config import Config
from sentiment.telemetry import Telemetry

from .functions_support import polar_prediction

pytestmark = pytest.mark.slow

PROJECT = "test-project"
START = 1_800_000_000.0


@pytest.fixture
def alert_topic(pubsub_emulator, request):
    """A fresh topic and subscription per test, and a publish_alert as the functions implement it."""
    from google.cloud import pubsub_v1

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    name = request.node.name.replace("[", "-").replace("]", "")[:60]
    topic = publisher.create_topic(name=publisher.topic_path(PROJECT, f"alerts-{name}")).name
    subscription = subscriber.create_subscription(
        name=subscriber.subscription_path(PROJECT, f"alerts-{name}"), topic=topic).name

    def publish_alert(payload: dict) -> None:
        publisher.publish(topic, json.dumps(payload).encode(), type=payload["type"]).result(timeout=30)

    def pull(expected: int) -> list:
        """Every message on the subscription: waits for ``expected`` of them, then checks none follows."""
        messages = []
        for _ in range(20):
            if len(messages) >= expected:
                break
            messages += _pull(subscriber, subscription, timeout=2)
        messages += _pull(subscriber, subscription, timeout=1)
        return messages

    yield publish_alert, pull
    subscriber.delete_subscription(subscription=subscription)
    publisher.delete_topic(topic=topic)
    subscriber.close()


def _pull(subscriber, subscription: str, timeout: float) -> list:
    from google.api_core import exceptions

    try:
        response = subscriber.pull(subscription=subscription, max_messages=100, timeout=timeout)
    except exceptions.DeadlineExceeded:
        return []
    if response.received_messages:
        subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages])
    return [m.message for m in response.received_messages]


class Replay:
    """Tweets on a fake clock, spread evenly; exactly ``negative_share`` of every 20 are negative.

    Each negative tweet is a little more negative than the one before, so the most negative tweets of
    any window are its latest negative ones: the evidence an alert must carry is known.
    """

    def __init__(self, publish_alert):
        self.now = START
        self.index = 0
        self.negative_ids: list[str] = []
        self.expected_evidence: list[list[str]] = []  # at each publish, the 5 latest negative ids

        def publish(payload: dict) -> None:
            self.expected_evidence.append(self.negative_ids[-5:][::-1])
            publish_alert(payload)

        config = Config.from_env({"GOOGLE_CLOUD_PROJECT": PROJECT, "METRICS_EXPORTER": "none"})  # buzz defaults
        self.telemetry = Telemetry(config, publish_alert=publish, clock=lambda: self.now, instance_id="instance-7",
                                   job="tweets-score", log_stream=io.StringIO())

    def run(self, minutes: int, per_minute: int, negative_share: float) -> None:
        for _ in range(minutes * per_minute):
            self.index += 1
            tweet_id = f"tweet-{self.index}"
            if self.index % 20 < round(negative_share * 20):
                prediction = polar_prediction(0.45 - self.index * 1e-4, "2026-11-25.1")
                text = f"@AirParadis flight {self.index} delayed again, lost bag, awful " + "!" * 300
                self.negative_ids.append(tweet_id)
            else:
                prediction = polar_prediction(0.9, "2026-11-25.1")
                text = f"@AirParadis flight {self.index} lovely crew"
            self.telemetry.record_scored("pubsub", prediction, 0.3, text, tweet_id)
            self.telemetry.end_of_request()
            self.now += 60.0 / per_minute


def test_a_rising_negative_share_publishes_one_alert_then_one_resolution(alert_topic):
    publish_alert, pull = alert_topic
    replay = Replay(publish_alert)
    replay.run(20, 30, 0.2)  # 30 tweets a minute, 20% negative: the usual
    replay.run(20, 30, 0.7)  # a bad buzz: 70% negative for 20 minutes
    replay.run(30, 30, 0.2)  # back to normal

    messages = pull(expected=2)
    assert [m.attributes["type"] for m in messages] == ["bad_buzz", "resolved"]
    alert, resolution = (json.loads(m.data) for m in messages)
    assert alert["type"] == "bad_buzz" and alert["instance"] == "instance-7" and alert["source"] == "pubsub"
    assert alert["window_seconds"] == 600 and alert["threshold"] == 0.6 and alert["tweets"] >= 50
    assert alert["negative_share"] > 0.6 and alert["negative"] == round(alert["negative_share"] * alert["tweets"])
    assert alert["model_version"] == "2026-11-25.1"
    assert [e["id"] for e in alert["evidence"]] == replay.expected_evidence[0]
    for evidence in alert["evidence"]:
        assert "delayed again" in evidence["text"] and len(evidence["text"]) == 280
        assert evidence["probability_positive"] < 0.45
    assert resolution["type"] == "resolved" and resolution["reason"] == "share_fell"
    assert resolution["negative_share"] < 0.5 and resolution["alert_started"] == alert["window_end"]


def test_low_volume_does_not_alert(alert_topic):
    publish_alert, pull = alert_topic
    replay = Replay(publish_alert)
    replay.run(60, 4, 0.7)  # 70% negative, but 40 tweets per window (fewer than 50)
    replay.telemetry.shutdown()
    assert replay.expected_evidence == []
    assert pull(expected=0) == []

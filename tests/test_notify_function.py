"""The notify_alert entry point served in process by functions-framework: posted, parked with a reason, or retried.

Parked messages go to the real Pub/Sub emulator's dead-letter topic; posts to a real local HTTP receiver.
"""

from __future__ import annotations

import base64
import json
import uuid

import functions_framework
import pytest

from devstack import topology
from devstack.webhook_receiver import Receiver
from sentiment import instance
from sentiment.notify.notifier import Notifier

from .functions_support import MAIN, make_config
from .notify_support import attributes, bad_buzz, data, pull, resolved

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(pubsub_emulator):
    """A project on the emulator (topics and observers), a receiver, the notifier installed, its client."""
    from google.cloud import pubsub_v1

    project = f"notify-{uuid.uuid4().hex[:8]}"
    names = topology.Topology(project)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    publisher.create_topic(name=names.topic(topology.DEAD_LETTER_TOPIC))
    subscriber.create_subscription(request={"name": names.observer(topology.DEAD_LETTER_TOPIC),
                                            "topic": names.topic(topology.DEAD_LETTER_TOPIC)})
    with Receiver() as receiver:
        config = make_config(GOOGLE_CLOUD_PROJECT=project, NOTIFY_WEBHOOK_URL=f"{receiver.url}/services/T/B/x",
                             NOTIFY_MAX_PER_BRAND="2", NOTIFY_TIMEOUT_SECONDS="2")
        instance.use_notifier(Notifier(config))
        client = functions_framework.create_app(target="notify_alert", source=str(MAIN),
                                                signature_type="cloudevent").test_client()

        def push(raw, attrs=None, message_id=None):
            message = {"messageId": message_id or uuid.uuid4().hex,
                       "attributes": attrs if attrs is not None else {}}
            if raw is not None:
                message["data"] = raw if isinstance(raw, str | int | list) else base64.b64encode(raw).decode()
            envelope = {"message": message, "subscription": f"projects/{project}/subscriptions/s"}
            return client.post(f"/projects/{project}/topics/{topology.ALERT_TOPIC}", json=envelope).status_code

        def parked(expected: int):
            return pull(subscriber, names.observer(topology.DEAD_LETTER_TOPIC), expected)

        yield push, parked, receiver
    instance.use_notifier(None)


def test_an_alert_is_posted_once_however_often_it_is_delivered(stack):
    push, parked, receiver = stack
    payload = bad_buzz()
    assert push(data(payload), attributes(payload), message_id="m-1") == 200
    assert push(data(payload), attributes(payload), message_id="m-1") == 200  # redelivered
    assert push(data(payload), attributes(payload), message_id="m-2") == 200  # published twice
    assert push(data(resolved()), attributes(resolved())) == 200
    posts = receiver.received()
    assert [p["body"]["blocks"][0]["text"]["text"] for p in posts] == ["🚨 Bad buzz: spike", "✅ Resolved: spike"]
    assert parked(0) == []


OLD_DETECTOR_ALERT = {"type": "bad_buzz", "source": "pubsub", "window_seconds": 600, "tweets": 60,
                      "negative": 40, "negative_share": 0.66, "threshold": 0.6}

POISON = [
    pytest.param(b"{not json", "bad_json", id="malformed"),
    pytest.param(b"", "empty", id="empty"),
    pytest.param(data(bad_buzz(evidence=[{"text": "x" * 999}] * 70)), "too_large", id="huge"),
    pytest.param(data([bad_buzz()]), "bad_field", id="wrong-type"),
    pytest.param(data(bad_buzz(tweets=3, alert_id=["x"])), "not_an_alert", id="wrong-type-field"),
    pytest.param("caf\xe9".encode("latin-1"), "bad_encoding", id="wrong-encoding"),
    pytest.param("not base64!", "bad_encoding", id="not-base64"),
    pytest.param(12345, "bad_field", id="data-not-a-string"),
    pytest.param(data(OLD_DETECTOR_ALERT), "not_an_alert", id="the-old-detectors-alert"),
]


@pytest.mark.parametrize(("raw", "reason"), POISON)
def test_what_is_not_an_alert_is_parked_with_its_reason(stack, raw, reason):
    push, parked, receiver = stack
    assert push(raw, {"case": reason}) == 200, "acknowledged: retrying cannot help"
    (message,) = parked(1)
    assert message.attributes["error_reason"] == reason
    assert message.attributes["parked_by"] == "notify-function" and message.attributes["original_case"] == reason
    assert message.attributes["error_message"] and message.attributes["source_message_id"]
    if isinstance(raw, bytes):
        assert message.data == raw, "the original data is kept"
    assert receiver.received() == []


def test_a_message_without_data_is_refused_before_the_function_and_left_to_the_dead_letter_policy(stack):
    """functions-framework cannot make a CloudEvent of a push without data (400): Pub/Sub retries it, then
    its dead-letter policy moves it to the dead-letter topic. The function never sees it."""
    push, parked, receiver = stack
    assert push(None, {"type": "bad_buzz"}) == 400
    assert receiver.received() == []


def test_attributes_contradicting_the_data_are_parked(stack):
    push, parked, _ = stack
    assert push(data(bad_buzz()), {**attributes(bad_buzz()), "brand": "another"}) == 200
    (message,) = parked(1)
    assert message.attributes["error_reason"] == "bad_attributes"


@pytest.mark.parametrize("status", [400, 404])
def test_a_webhook_refusal_is_parked_with_the_answer(stack, status):
    push, parked, receiver = stack
    receiver.answer_next({"status": status, "body": "no_service"})
    assert push(data(bad_buzz()), attributes(bad_buzz())) == 200
    (message,) = parked(1)
    assert message.attributes["error_reason"] == "webhook_refused"
    assert f"refused the message with {status}: no_service" in message.attributes["error_message"]
    assert "/services/" not in message.attributes["error_message"], "never the webhook URL"
    assert json.loads(message.data)["alert_id"] == bad_buzz()["alert_id"]


@pytest.mark.parametrize("answer", [{"status": 503}, {"status": 429}, {"status": 200, "delay": 3}])
def test_a_failing_webhook_fails_the_request_so_pub_sub_retries(stack, answer):
    push, parked, receiver = stack
    receiver.answer_next(answer)
    assert push(data(bad_buzz()), attributes(bad_buzz()), message_id="m-1") == 500
    assert push(data(bad_buzz()), attributes(bad_buzz()), message_id="m-1") == 200, "the redelivery posts"
    assert len([p for p in receiver.received() if p["status"] == 200]) == 1 + ("delay" in answer)
    assert parked(0) == []


def test_a_burst_beyond_the_brands_limit_is_parked_not_dropped(stack):
    push, parked, receiver = stack
    for hour in range(1, 5):
        payload = bad_buzz(detected_at=f"2026-11-20T{hour:02d}:00:00Z")
        assert push(data(payload), attributes(payload)) == 200
    assert len(receiver.received()) == 2
    assert sorted(m.attributes["error_reason"] for m in parked(2)) == ["rate_limited", "rate_limited"]


def test_without_a_webhook_url_every_alert_fails_to_be_retried(pubsub_emulator):
    instance.use_notifier(None)
    instance.configure(make_config())  # no NOTIFY_WEBHOOK_URL
    try:
        client = functions_framework.create_app(target="notify_alert", source=str(MAIN),
                                                signature_type="cloudevent").test_client()
        envelope = {"message": {"messageId": "1", "data": base64.b64encode(data(bad_buzz())).decode()},
                    "subscription": "projects/p/subscriptions/s"}
        assert client.post("/projects/p/topics/sentiment-alerts", json=envelope).status_code == 500
    finally:
        instance.use_notifier(None)
        instance.configure()  # the environment's configuration again

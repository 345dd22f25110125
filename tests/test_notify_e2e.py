"""End to end with real processes: the Pub/Sub emulator pushes alerts to notify_alert served by functions-framework
(gunicorn), which posts to a real local HTTP receiver and parks on the emulator's dead-letter topic. No mocks."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from devstack import topology
from devstack.functions import FunctionServer
from devstack.webhook_receiver import Receiver

from . import chat_shapes as shapes
from .notify_support import attributes, bad_buzz, data, pull, resolved

pytestmark = pytest.mark.slow

ATTEMPTS = 5  # Pub/Sub's minimum; the emulator retries a failed push about once a second


def wait_until(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_alerts_through_pub_sub_to_a_chat_webhook(pubsub_emulator, tmp_path):
    from google.cloud import pubsub_v1

    project = f"notify-e2e-{uuid.uuid4().hex[:8]}"
    with Receiver() as receiver:
        server = FunctionServer("notify_alert", "cloudevent", log_dir=tmp_path, env={
            "GOOGLE_CLOUD_PROJECT": project, "PUBSUB_EMULATOR_HOST": pubsub_emulator.host, "LOG_LEVEL": "INFO",
            "NOTIFY_FORMAT": "google_chat", "NOTIFY_TIMEOUT_SECONDS": "1",
            "NOTIFY_WEBHOOK_URL": f"{receiver.url}/v1/spaces/AAA/messages?key=k&token=t",
            "NOTIFY_DASHBOARD_URL": "https://console.cloud.google.com/monitoring/dashboards/builder/d?project=p",
        }).start()
        try:
            names = topology.create(project, "http://127.0.0.1:9")
            topology.create_notifier_push(project, server.url, max_delivery_attempts=ATTEMPTS)
            publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
            topic, dead = names.topic(topology.ALERT_TOPIC), names.observer(topology.DEAD_LETTER_TOPIC)

            def publish(raw: bytes, **attrs: str) -> str:
                return publisher.publish(topic, raw, **attrs).result(timeout=30)

            def statuses(alert_id: str) -> list[int]:
                return [p["status"] for p in receiver.received(include_duplicates=True)
                        if p["body"].get("thread", {}).get("threadKey") == alert_id]

            # 1. The webhook fails twice (503): Pub/Sub redelivers, the third push posts.
            first = bad_buzz(brand="retried")
            receiver.answer_next({"status": 503}, {"status": 503})
            publish(data(first), **attributes(first))
            assert wait_until(lambda: statuses(first["alert_id"]) == [503, 503, 200]), statuses(first["alert_id"])

            # 2. An alert published twice posts once; its resolution answers in its thread.
            buzz, over = bad_buzz(), resolved()
            publish(data(buzz), **attributes(buzz))
            publish(data(buzz), **attributes(buzz))
            assert wait_until(lambda: statuses(buzz["alert_id"]) == [200]
                              and '"outcome":"duplicate"' in server.log_path.read_text()), statuses(buzz["alert_id"])
            publish(data(over), **attributes(over))
            assert wait_until(lambda: statuses(buzz["alert_id"]) == [200, 200]), statuses(buzz["alert_id"])
            posts = [p for p in receiver.received() if p["body"]["thread"]["threadKey"] == buzz["alert_id"]]
            assert [p["body"]["cardsV2"][0]["card"]["header"]["title"] for p in posts] == [
                "🚨 Bad buzz: spike", "✅ Resolved: spike"], "one post each: the second bad_buzz was a duplicate"
            assert all(p["query"]["messageReplyOption"] == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" for p in posts)
            assert all(shapes.chat_problems(p["body"], p["query"]) == [] for p in posts)

            # 3. A refusal (404) and messages that are not alerts are parked with their reason.
            refused = bad_buzz(brand="refused")
            receiver.answer_next({"status": 404, "body": "Requested entity was not found."})
            publish(data(refused), **attributes(refused), case="refused")
            publish(b"{not json", case="malformed")
            publish("caf\xe9".encode("latin-1"), case="latin-1")
            publish(data({"type": "bad_buzz", "negative_share": 0.7}), case="old-format")
            publish(b"x" * 70_000, case="huge")
            parked = {m.attributes["original_case"]: m for m in pull(subscriber, dead, 5, timeout=60)}
            assert {case: m.attributes["error_reason"] for case, m in parked.items()} == {
                "refused": "webhook_refused", "malformed": "bad_json", "latin-1": "bad_encoding",
                "old-format": "not_an_alert", "huge": "too_large"}
            assert json.loads(parked["refused"].data)["brand"] == "refused", "the original data is kept"
            assert "404" in parked["refused"].attributes["error_message"]

            # 4. A webhook down for longer than the attempts: Pub/Sub itself dead-letters the alert.
            lost = bad_buzz(brand="down")
            receiver.answer_next(*[{"status": 503}] * (ATTEMPTS + 5))
            publish(data(lost), **attributes(lost))
            (dead_lettered,) = pull(subscriber, dead, 1, timeout=90)
            assert json.loads(dead_lettered.data)["brand"] == "down"
            assert "error_reason" not in dead_lettered.attributes, "moved by the dead-letter policy, not parked"
            assert statuses(lost["alert_id"]) == [503] * ATTEMPTS
        finally:
            server.stop()
    log = server.log_path.read_text()
    assert "not delivered, to be retried" in log and "parked: " in log
    assert "/v1/spaces/AAA" not in log and "token=t" not in log, "the webhook URL is never logged"

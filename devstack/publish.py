"""Publish one message to the running local stack's input topic and print what comes out of it.

    python -m devstack publish '{"id": "1", "text": "@AirParadis lost my bag"}'

The message goes to `tweets` as it is (a tweet JSON or plain text); the command then waits for the
result that carries its message id: the scored tweet on `tweets-scored`, or the parked message on
`tweets-dead-letter` with its reason. A subscription of its own is created first and deleted after,
so nothing another reader (the replay) waits for is taken from it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

from . import topology
from .replay import stack_state

WAIT_SECONDS = 30.0


def publish(data: str, timeout: float = WAIT_SECONDS) -> int:
    """0 when the message was scored, 2 when it was parked, 1 when nothing came back in time."""
    state = stack_state()
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{state['ports']['pubsub']}"
    from google.cloud import pubsub_v1

    names = topology.Topology(state["project"])
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    mine = {topic: names.subscription(f"publish-{uuid.uuid4().hex[:8]}-{topic}")
            for topic in (topology.OUTPUT_TOPIC, topology.DEAD_LETTER_TOPIC)}
    for topic, subscription in mine.items():
        subscriber.create_subscription(request={"name": subscription, "topic": names.topic(topic)})
    try:
        message_id = publisher.publish(names.topic(topology.INPUT_TOPIC), data.encode("utf-8")).result(timeout)
        print(f"published message {message_id} to {topology.INPUT_TOPIC}; waiting for its result…", file=sys.stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for topic, subscription in mine.items():
                response = subscriber.pull(subscription=subscription, max_messages=100, timeout=2)
                if not response.received_messages:
                    continue
                subscriber.acknowledge(subscription=subscription,
                                       ack_ids=[m.ack_id for m in response.received_messages])
                for received in response.received_messages:
                    attributes = dict(received.message.attributes)
                    if attributes.get("source_message_id") != message_id:
                        continue
                    if topic == topology.OUTPUT_TOPIC:
                        print(json.dumps(json.loads(received.message.data), ensure_ascii=False))
                        return 0
                    print(f"parked on {topic}: {attributes.get('error_reason')}: {attributes.get('error_message')}")
                    return 2
            time.sleep(0.2)
        print(f"error: no result for message {message_id} within {timeout:.0f} s (`make logs`)", file=sys.stderr)
        return 1
    finally:
        for subscription in mine.values():
            subscriber.delete_subscription(subscription=subscription)

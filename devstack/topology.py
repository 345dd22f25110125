"""The Pub/Sub topology of infra/pubsub.tf, recreated on the emulator for local runs and tests.

Topics: tweets (in), tweets-scored, sentiment-alerts, sentiment-feedback, tweets-dead-letter.
Our own push subscription delivers tweets to the Pub/Sub function with a dead-letter policy, as in
Terraform (names checked against infra/ by tests/test_devstack.py); pull subscriptions let a local
observer read the other topics.

One deliberate difference: no retry policy by default. The emulator (measured with its Cloud SDK
release of 2026-11) stops pushing after three attempts when several failing messages have a retry
policy, so nothing would ever be dead-lettered; without one it redelivers at once and dead-letters
after max_delivery_attempts, which is what the local stack must show. Lower attempt counts keep
local failures quick (Terraform: 10 attempts, 10-600 s backoff).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

INPUT_TOPIC = "tweets"
OUTPUT_TOPIC = "tweets-scored"
ALERT_TOPIC = "sentiment-alerts"
FEEDBACK_TOPIC = "sentiment-feedback"
DEAD_LETTER_TOPIC = "tweets-dead-letter"
PUSH_SUBSCRIPTION = "tweets-to-sentiment-score"  # Terraform: "${tweets topic}-to-${pubsub function name}"
MAX_DELIVERY_ATTEMPTS = 5  # Pub/Sub's minimum: local failures dead-letter within seconds


@dataclass(frozen=True)
class Topology:
    project: str

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def subscription(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"

    def observer(self, topic: str) -> str:
        """The pull subscription a local observer reads ``topic`` from."""
        return self.subscription(f"{topic}-observer")


def push_endpoint(function_url: str, project: str, topic: str = INPUT_TOPIC) -> str:
    """functions-framework names the topic in the CloudEvent's source only for such a path."""
    return f"{function_url.rstrip('/')}/projects/{project}/topics/{topic}"


def create(project: str, function_url: str, max_delivery_attempts: int = MAX_DELIVERY_ATTEMPTS,
           ack_deadline_seconds: int = 60, retry_backoff_seconds: tuple[int, int] | None = None) -> Topology:
    """Create (or recreate) every topic and subscription on the emulator named by PUBSUB_EMULATOR_HOST."""
    from google.api_core import exceptions
    from google.cloud import pubsub_v1
    from google.protobuf import duration_pb2

    topology = Topology(project)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    for name in (INPUT_TOPIC, OUTPUT_TOPIC, ALERT_TOPIC, FEEDBACK_TOPIC, DEAD_LETTER_TOPIC):
        with contextlib.suppress(exceptions.AlreadyExists):
            publisher.create_topic(name=topology.topic(name))
    push = topology.subscription(PUSH_SUBSCRIPTION)
    with contextlib.suppress(exceptions.NotFound):
        subscriber.delete_subscription(subscription=push)
    request = {
        "name": push,
        "topic": topology.topic(INPUT_TOPIC),
        "push_config": {"push_endpoint": push_endpoint(function_url, project)},
        "ack_deadline_seconds": ack_deadline_seconds,
        "dead_letter_policy": {"dead_letter_topic": topology.topic(DEAD_LETTER_TOPIC),
                               "max_delivery_attempts": max_delivery_attempts},
    }
    if retry_backoff_seconds:
        minimum, maximum = retry_backoff_seconds
        request["retry_policy"] = {"minimum_backoff": duration_pb2.Duration(seconds=minimum),
                                   "maximum_backoff": duration_pb2.Duration(seconds=maximum)}
    subscriber.create_subscription(request=request)
    for name in (OUTPUT_TOPIC, ALERT_TOPIC, FEEDBACK_TOPIC, DEAD_LETTER_TOPIC):
        with contextlib.suppress(exceptions.AlreadyExists):
            subscriber.create_subscription(request={"name": topology.observer(name), "topic": topology.topic(name)})
    return topology

"""The Pub/Sub topology of infra/pubsub.tf, recreated on the emulator for local runs and tests.

Topics: tweets (in), tweets-scored, sentiment-alerts, sentiment-feedback, tweets-dead-letter.
Our own push subscription delivers tweets to the Pub/Sub function with a dead-letter policy (and,
``create_notifier_push``, another delivers alerts to the notifier function), the bad-buzz
pipeline pulls the scored tweets from its own subscription (infra/dataflow.tf), and
tweets-dead-letter-hold keeps what is dead-lettered, as in Terraform (names checked against infra/
by tests/test_devstack.py). Pull subscriptions named ``<topic>-observer`` let a local observer (the
replay, tests) read the scored tweets and the alerts.

One deliberate difference: no retry policy. The emulator (Cloud SDK 528, measured) stops pushing
altogether once several messages have failed under a retry policy: nothing is delivered again, even
after the endpoint recovers, and nothing is dead-lettered. Without one it retries a failed push
(connection refused or 5xx) about once a second, and dead-letters after max_delivery_attempts: so a
message survives an outage of about ``max_delivery_attempts`` seconds. Terraform: 10 attempts with
10-600 s backoff, hours of outage.
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
DEAD_LETTER_HOLD = f"{DEAD_LETTER_TOPIC}-hold"  # Terraform: "${dead letter topic}-hold"
MAX_DELIVERY_ATTEMPTS = 5  # Pub/Sub's minimum: a failing tweet is dead-lettered in ~5 s (tests want that)
# The local stack: a function may be down ~20 s (a crash, its restart) without a tweet being dead-lettered.
STACK_MAX_DELIVERY_ATTEMPTS = 20
# The bad-buzz pipeline's pull subscription. Terraform: "${scored topic}-to-${stream_job.name}" (infra/dataflow.tf).
STREAM_SUBSCRIPTION = "tweets-scored-to-sentiment-buzz"
# Alerts -> the notifier function. Terraform: "${alerts topic}-to-${notify function name}" (infra/notify.tf).
NOTIFY_PUSH_SUBSCRIPTION = "sentiment-alerts-to-sentiment-notify"


@dataclass(frozen=True)
class Topology:
    project: str

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def subscription(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"

    def observer(self, topic: str) -> str:
        """The pull subscription a local observer reads ``topic`` from (dead letters: Terraform's hold)."""
        return self.subscription(DEAD_LETTER_HOLD if topic == DEAD_LETTER_TOPIC else f"{topic}-observer")


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
    stream = topology.subscription(STREAM_SUBSCRIPTION)  # fresh: what an earlier stack left is not this one's
    with contextlib.suppress(exceptions.NotFound):
        subscriber.delete_subscription(subscription=stream)
    subscriber.create_subscription(request={"name": stream, "topic": topology.topic(OUTPUT_TOPIC),
                                            "ack_deadline_seconds": ack_deadline_seconds})
    for name in (OUTPUT_TOPIC, ALERT_TOPIC, FEEDBACK_TOPIC, DEAD_LETTER_TOPIC):
        with contextlib.suppress(exceptions.AlreadyExists):
            subscriber.create_subscription(request={"name": topology.observer(name), "topic": topology.topic(name)})
    return topology


def create_notifier_push(project: str, notifier_url: str, max_delivery_attempts: int = MAX_DELIVERY_ATTEMPTS,
                         ack_deadline_seconds: int = 60) -> str:
    """(Re)create the push subscription from the alerts topic to the notifier function, with its own dead
    letter policy (to the dead-letter topic, like the tweets'), on the emulator; after ``create``."""
    from google.api_core import exceptions
    from google.cloud import pubsub_v1

    names = Topology(project)
    subscriber = pubsub_v1.SubscriberClient()
    push = names.subscription(NOTIFY_PUSH_SUBSCRIPTION)
    with contextlib.suppress(exceptions.NotFound):
        subscriber.delete_subscription(subscription=push)
    subscriber.create_subscription(request={
        "name": push,
        "topic": names.topic(ALERT_TOPIC),
        "push_config": {"push_endpoint": push_endpoint(notifier_url, project, ALERT_TOPIC)},
        "ack_deadline_seconds": ack_deadline_seconds,
        "dead_letter_policy": {"dead_letter_topic": names.topic(DEAD_LETTER_TOPIC),
                               "max_delivery_attempts": max_delivery_attempts},
    })
    return push

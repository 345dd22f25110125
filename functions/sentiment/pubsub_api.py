"""The Pub/Sub function: a ``messagePublished`` CloudEvent in, a scored tweet out.

Outcomes of one message, and why:
- scored: the result is published to the output topic (awaited), then the message is acknowledged;
- can never succeed (not UTF-8, malformed JSON, no text, wrong types, too large): parked on the
  dead-letter topic with the reason as attributes, then acknowledged: retrying cannot help;
- transient failure (model unavailable, a publish not confirmed): raised, so Pub/Sub redelivers it
  and, after the subscription's max attempts, dead-letters it itself. Nothing is dropped silently;
- already scored on this instance (a redelivery): acknowledged without scoring twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import event_time, logs
from .errors import Rejected, Transient
from .payloads import Tweet, parse_tweet, scored_message
from .pubsub_message import decode_data, message_id_of, message_of, park

if TYPE_CHECKING:
    from .instance import Instance

log = logging.getLogger(__name__)

SOURCE = "pubsub"


def handle(instance: Instance, event) -> None:
    message = message_of(event)
    message_id = message_id_of(message)
    token = logs.request_id.set(message_id or None)
    timer = logs.Timer()
    try:
        if message_id and message_id in instance.seen_messages:
            log.info("redelivery of an already scored message: acknowledged", extra={"outcome": "duplicate"})
            return
        try:
            data = decode_data(message.get("data"))
            tweet = parse_tweet(data, instance.config)
        except Rejected as rejected:
            park(instance.publisher, instance.config.dead_letter_topic, message, rejected, f"{SOURCE}-function")
            instance.telemetry.record_rejected(SOURCE, rejected.reason)
            log.warning("parked: %s", rejected.message, extra={"outcome": "parked", "reason": rejected.reason})
        else:
            try:
                _score_and_publish(instance, message_id, tweet)
            except Transient as error:
                instance.telemetry.record_rejected(SOURCE, error.reason)
                raise  # Pub/Sub redelivers, then dead-letters after max attempts
            log.info("scored %s", logs.preview(tweet.checked.text), extra={"outcome": "scored", "tweet_id": tweet.id,
                                                                    "latency_ms": timer.ms})
        if message_id:
            instance.seen_messages.add(message_id)
    finally:
        instance.telemetry.end_of_request()
        logs.request_id.reset(token)


def _score_and_publish(instance: Instance, message_id: str, tweet: Tweet) -> None:
    # ModelUnavailable and PublishError propagate: the message will be redelivered
    (prediction,) = instance.scorer.score([tweet.checked], SOURCE)
    result = scored_message(tweet, prediction, datetime.now(UTC), message_id)
    # created_at as an attribute: the detection pipeline reads it as its event time (Beam's timestamp_attribute),
    # so a backlog or a replay keeps the tweets' own times; without one, Pub/Sub's publish time is the event time
    event = {event_time.ATTRIBUTE: tweet.created_at} if tweet.created_at else {}
    future = instance.publisher.publish_json(
        instance.config.output_topic, result, source_message_id=message_id, sentiment=prediction.sentiment,
        model_version=prediction.model_version, tweet_id=tweet.id, **event,
    )
    instance.publisher.wait([future])  # PublishError propagates: redelivered, consumers dedupe on the id

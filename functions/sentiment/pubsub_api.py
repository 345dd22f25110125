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

import base64
import binascii
import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import logs
from .errors import ModelUnavailable
from .payloads import Rejected, parse_tweet
from .publisher import PublishError

if TYPE_CHECKING:
    from .service import Service

log = logging.getLogger(__name__)

SOURCE = "pubsub"


class InvalidEvent(ValueError):
    """The CloudEvent does not carry a Pub/Sub message at all (a wiring error, not a bad tweet)."""


class SeenMessages:
    """Ids of messages this instance already handled, bounded (oldest forgotten first)."""

    def __init__(self, capacity: int = 100_000):
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._ids

    def add(self, message_id: str) -> None:
        with self._lock:
            self._ids[message_id] = None
            self._ids.move_to_end(message_id)
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)


def message_of(event) -> dict[str, Any]:
    data = event.data if hasattr(event, "data") else None
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise InvalidEvent("the event carries no Pub/Sub message")
    return data["message"]


def handle(service: Service, event) -> None:
    message = message_of(event)
    message_id = str(message.get("messageId") or message.get("message_id") or "")
    attributes = message.get("attributes") or {}
    token = logs.request_id.set(message_id or None)
    timer = logs.Timer()
    try:
        if message_id and message_id in service.seen_messages:
            log.info("redelivery of an already scored message: acknowledged", extra={"outcome": "duplicate"})
            return
        try:
            data = _decode(message.get("data"))
            tweet = parse_tweet(data, service.config)
        except Rejected as rejected:
            _park(service, message_id, message.get("data"), attributes, rejected)
            service.telemetry.record_rejected(SOURCE, rejected.reason)
            log.warning("parked: %s", rejected.message, extra={"outcome": "parked", "reason": rejected.reason})
        else:
            try:
                _score_and_publish(service, message_id, tweet, attributes)
            except ModelUnavailable:
                service.telemetry.record_rejected(SOURCE, "model_unavailable")
                raise  # transient: Pub/Sub redelivers, then dead-letters after max attempts
            except PublishError:
                service.telemetry.record_rejected(SOURCE, "publish_failed")
                raise
            log.info("scored %s", logs.preview(tweet.checked.text), extra={"outcome": "scored", "tweet_id": tweet.id,
                                                                    "latency_ms": timer.ms})
        if message_id:
            service.seen_messages.add(message_id)
    finally:
        service.telemetry.end_of_request()
        logs.request_id.reset(token)


def _decode(data: Any) -> bytes:
    if data is None:
        return b""
    if not isinstance(data, str):
        raise Rejected(400, "bad_field", "the message data is not base64 text")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(400, "bad_encoding", "the message data is not valid base64") from None


def _score_and_publish(service: Service, message_id: str, tweet, attributes: dict) -> None:
    model = service.provider.get()  # ModelUnavailable propagates: the message will be redelivered
    started = time.perf_counter()
    prediction = model.predict_ids(model.encode_tokens(tweet.checked.tokens))
    service.telemetry.record_scored(SOURCE, prediction, (time.perf_counter() - started) * 1000,
                                    tweet.checked.text, tweet.id)
    result = {
        "id": tweet.id,
        "text": tweet.checked.text,
        **tweet.extra,
        **prediction.to_dict(),
        "scored_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "source_message_id": message_id,
    }
    future = service.publisher.publish_json(
        service.config.output_topic, result, source_message_id=message_id, sentiment=prediction.sentiment,
        model_version=prediction.model_version, tweet_id=tweet.id,
    )
    service.publisher.wait([future])  # PublishError propagates: redelivered, consumers dedupe on the id


def _park(service: Service, message_id: str, raw_data: Any, attributes: dict, rejected: Rejected) -> None:
    """Publish the original data to the dead-letter topic with the reason; awaited, or raised."""
    data = _original_bytes(raw_data)
    extra = {f"original_{key}": value for key, value in list(attributes.items())[:50]}
    future = service.publisher.publish(
        service.config.dead_letter_topic, data, error_reason=rejected.reason, error_message=rejected.message,
        source_message_id=message_id, parked_by=f"{SOURCE}-function", **extra,
    )
    service.publisher.wait([future])


def _original_bytes(raw_data: Any) -> bytes:
    if isinstance(raw_data, str):
        try:
            return base64.b64decode(raw_data, validate=True)
        except (binascii.Error, ValueError):
            return raw_data.encode("utf-8", "replace")
    return b""

"""A pushed Pub/Sub message, as both CloudEvent functions (scorer and notifier) read and park it.

- ``message_of``: the ``message`` of a ``messagePublished`` CloudEvent (functions-framework converts
  the classic push envelope into one), or ``InvalidEvent``;
- ``decode_data``: its base64 data, or ``Rejected`` (``bad_field`` / ``bad_encoding``);
- ``park``: the original data republished on the dead-letter topic with the reason as attributes
  (``error_reason``, ``error_message``, ``source_message_id``, ``parked_by``, the original
  attributes as ``original_*``), awaited, so a message that can never succeed is kept and
  acknowledged instead of retried forever. A publish that fails raises ``PublishError``: the
  message is then redelivered.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .errors import InvalidEvent, Rejected
from .publisher import Publisher

MAX_ORIGINAL_ATTRIBUTES = 50


def message_of(event) -> dict[str, Any]:
    data = event.data if hasattr(event, "data") else None
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise InvalidEvent("the event carries no Pub/Sub message")
    return data["message"]


def message_id_of(message: dict[str, Any]) -> str:
    return str(message.get("messageId") or message.get("message_id") or "")


def decode_data(data: Any) -> bytes:
    if data is None:
        return b""
    if not isinstance(data, str):
        raise Rejected(400, "bad_field", "the message data is not base64 text")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(400, "bad_encoding", "the message data is not valid base64") from None


def park(publisher: Publisher, topic: str, message: dict[str, Any], rejected: Rejected, parked_by: str) -> None:
    """Publish the original data to ``topic`` with the reason; awaited, or ``PublishError``."""
    attributes = message.get("attributes") or {}
    extra = {f"original_{key}": value for key, value in list(attributes.items())[:MAX_ORIGINAL_ATTRIBUTES]}
    future = publisher.publish(
        topic, original_bytes(message.get("data")), error_reason=rejected.reason, error_message=rejected.message,
        source_message_id=message_id_of(message), parked_by=parked_by, **extra,
    )
    publisher.wait([future])


def original_bytes(raw_data: Any) -> bytes:
    if isinstance(raw_data, str):
        try:
            return base64.b64decode(raw_data, validate=True)
        except (binascii.Error, ValueError):
            return raw_data.encode("utf-8", "replace")
    return b""

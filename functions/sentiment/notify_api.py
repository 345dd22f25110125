"""The notifier function: a ``messagePublished`` CloudEvent from the alerts topic in, a chat post out.

Outcomes of one message, and why:
- posted (or already posted: a redelivery, or the webhook already had it): acknowledged;
- not an alert (not base64, not UTF-8 JSON, not an object, an identity field missing or wrong,
  attributes contradicting the data, too large), refused by the webhook in a way no retry can
  change (400, 403, 404, 410, ...), or over the brand's limit: parked on the dead-letter topic with
  the reason as attributes, then acknowledged;
- the webhook failed or timed out (5xx, 429, connection), or the same alert is being posted by
  another request: raised, so Pub/Sub redelivers with backoff and, after the subscription's
  maximum attempts, dead-letters it itself. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import logs
from .alert_payload import parse_alert
from .errors import Rejected, Transient
from .pubsub_message import decode_data, message_id_of, message_of, park

if TYPE_CHECKING:
    from .notify.notifier import Notifier

log = logging.getLogger(__name__)

PARKED_BY = "notify-function"


def handle(notifier: Notifier, event) -> None:
    message = message_of(event)
    message_id = message_id_of(message)
    token = logs.request_id.set(message_id or None)
    timer = logs.Timer()
    try:
        try:
            alert = parse_alert(decode_data(message.get("data")), message.get("attributes") or {})
            if alert.problems:
                log.warning("alert %s: %d fields shown as unknown: %s", alert.alert_id, len(alert.problems),
                            "; ".join(alert.problems)[:1000], extra={"alert_id": alert.alert_id})
            outcome = notifier.notify(alert)
        except Rejected as rejected:
            park(notifier.publisher, notifier.config.dead_letter_topic, message, rejected, PARKED_BY)
            log.warning("parked: %s", rejected.message, extra={"outcome": "parked", "reason": rejected.reason})
            return
        except Transient as error:
            log.error("not delivered, to be retried: %s", error, extra={"outcome": "retry", "reason": error.reason})
            raise  # Pub/Sub redelivers with backoff, then dead-letters after max attempts
        log.info("%s %s for %s", outcome.status, alert.type, logs.preview(alert.brand), extra={
            "outcome": outcome.status, "alert_id": alert.alert_id, "alert_type": alert.type,
            "status": outcome.delivery.status if outcome.delivery else None, "latency_ms": timer.ms})
    finally:
        logs.request_id.reset(token)

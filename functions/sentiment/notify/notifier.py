"""One alert to one chat post, in this order: already posted? within the brand's limit? render, post.

``Notifier.notify(alert)`` returns what happened (posted, or a duplicate acknowledged without
posting) or raises:

- ``RateLimited`` / ``WebhookRefused`` (both ``Rejected``): the handler parks the alert with the reason;
- ``WebhookUnavailable`` / ``AlertInFlight`` (``Transient``): the handler raises, Pub/Sub redelivers.

Dedupe comes first, so a redelivery of a posted alert costs neither a post nor the brand's budget.
A ``resolved`` whose ``bad_buzz`` this instance posted is never held back: the team must hear that
the buzz they were told about is over. A post that fails gives its slot back to the brand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..alert_payload import BAD_BUZZ, RESOLVED, Alert
from ..config import Config
from ..errors import AlertInFlight, ConfigError, RateLimited
from ..publisher import Publisher
from . import content, google_chat, slack
from .memory import IN_FLIGHT, POSTED, BrandRateLimit, PostedAlerts
from .webhook import Delivery, Webhook

log = logging.getLogger(__name__)

SLACK, GOOGLE_CHAT = "slack", "google_chat"
ALREADY_EXISTS = {SLACK: frozenset(), GOOGLE_CHAT: frozenset({409})}  # Chat: a messageId it already has


@dataclass(frozen=True)
class Outcome:
    status: str  # posted / duplicate (this instance posted it) / already_there (the webhook had it)
    delivery: Delivery | None = None
    held_back: int = 0  # held-back alerts of the brand that this post mentioned


def render(config_format: str, alert: Alert, dashboard_url: str = "", held_back: int = 0
           ) -> tuple[dict[str, Any], dict[str, str]]:
    """The webhook body and the query parameters of one alert's post."""
    text = content.build(alert, dashboard_url, held_back)
    if config_format == GOOGLE_CHAT:
        return google_chat.render(text, alert), google_chat.query(alert)
    return slack.render(text), {}


class Notifier:
    def __init__(self, config: Config, webhook: Webhook | None = None, publisher: Publisher | None = None):
        if webhook is None:
            if not config.notify_webhook_url:
                raise ConfigError("NOTIFY_WEBHOOK_URL is empty: the notifier has nowhere to post (in production it "
                                  "comes from the webhook secret: add a version to it)")
            webhook = Webhook(config.notify_webhook_url, config.notify_timeout_seconds,
                              ALREADY_EXISTS[config.notify_format])
        self.config = config
        self.publisher = publisher or Publisher(config)  # parks what cannot be posted
        self.format = config.notify_format
        self.webhook = webhook
        self.posted = PostedAlerts()
        self.limit = BrandRateLimit(config.notify_max_per_brand, config.notify_rate_window_seconds)

    def notify(self, alert: Alert) -> Outcome:
        state = self.posted.claim(alert.key)
        if state == POSTED:
            return Outcome("duplicate")
        if state == IN_FLIGHT:
            raise AlertInFlight(f"alert {alert.alert_id} ({alert.type}) is being posted by another request")
        try:
            return self._post(alert)
        except BaseException:
            self.posted.release(alert.key)
            raise

    def _post(self, alert: Alert) -> Outcome:
        exempt = alert.type == RESOLVED and (alert.alert_id, BAD_BUZZ) in self.posted
        if not exempt and not self.limit.take(alert.brand):
            wait = self.limit.next_slot_in(alert.brand)
            raise RateLimited(f"brand {alert.brand[:60]!r} had its {self.config.notify_max_per_brand} notifications "
                              f"in the last {self.config.notify_rate_window_seconds:g} s; next possible in "
                              f"{wait:.0f} s")
        held = self.limit.held_back(alert.brand)
        body, query = render(self.format, alert, self.config.notify_dashboard_url, held)
        try:
            delivery = self.webhook.post(body, query)
        except BaseException:
            if not exempt:
                self.limit.give_back(alert.brand)
            raise
        self.posted.done(alert.key)
        self.limit.told(alert.brand, held)
        return Outcome("already_there" if delivery.duplicate else "posted", delivery, held)

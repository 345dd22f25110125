"""A notification as a Google Chat card message (``cardsV2``), for a space's incoming webhook.

The body is a ``Message``: a short ``text`` (what a phone notification shows), one card
(``cardsV2[0].card``: a ``header`` and ``sections`` of ``decoratedText``, ``textParagraph`` and
``buttonList`` widgets) and ``thread.threadKey`` = the alert id. Query parameters added to the
webhook URL (spaces.messages.create):

- ``messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD``: the ``bad_buzz`` message starts the
  alert's thread, its ``resolved`` message replies in it (a new thread if that one is gone);
- ``requestId`` (Chat returns the message already created with that id instead of creating another)
  and ``messageId`` (``client-…``: a second create with it is refused as already existing, which
  ``webhook`` reads as delivered): both derived from (alert id, type), so a redelivery handled by
  any instance does not post twice.

Card text is Chat's HTML subset: the alert's own text goes through ``markup.html``; titles and the
message ``text`` (shown as typed, or read as Chat's markdown) through ``markup.plain``. Limits
(checked by tests/test_notify_formats.py): a message of at most 32,000 bytes; a ``messageId`` of
``client-`` and lowercase letters, digits and hyphens, 63 characters at most.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..alert_payload import Alert
from . import markup
from .content import Content

REPLY_OPTION = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
BRAND_CHARS = 100


def idempotency_token(alert: Alert) -> str:
    """Lowercase hex, the same for every delivery of one (alert id, type)."""
    return hashlib.sha256(f"{alert.alert_id}|{alert.type}".encode()).hexdigest()[:32]


def query(alert: Alert) -> dict[str, str]:
    token = idempotency_token(alert)
    return {"messageReplyOption": REPLY_OPTION, "requestId": token, "messageId": f"client-{token}"}


def _text(label: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"decoratedText": {"topLabel": markup.html(label), "text": text, "wrapText": True, **extra}}


def _open(label: str, url: str) -> dict[str, Any]:
    return {"text": label, "onClick": {"openLink": {"url": url}}}


def render(content: Content, alert: Alert) -> dict[str, Any]:
    brand = markup.shorten(content.brand, BRAND_CHARS)
    facts = [_text(f.label, markup.html(f.value)) for f in content.facts]
    summary = f"<b>{markup.html(brand)}</b>: {markup.html(content.summary)}"
    sections: list[dict[str, Any]] = [{"widgets": [{"textParagraph": {"text": summary}}, *facts]}]
    if content.drivers:
        lines = [f"<b>{markup.html(d.term)}</b> · {markup.html(d.detail)}" for d in content.drivers]
        sections.append({"header": "What the negative tweets say",
                         "widgets": [{"textParagraph": {"text": "<br>".join(lines)}}]})
    if content.tweets:
        widgets = []
        for tweet in content.tweets:
            extra = {"button": _open("Open on X", tweet.url)} if tweet.url else {}
            widgets.append(_text(tweet.detail, f"“{markup.html(tweet.text)}”", **extra))
        sections.append({"header": f"The {len(content.tweets)} most negative tweets", "widgets": widgets})
    footer: list[dict[str, Any]] = [{"textParagraph": {"text": (
        f"Model {markup.html(content.model_version or 'unknown')} · alert {markup.html(content.alert_id)}"
        + "".join(f"<br>{markup.html(note)}" for note in content.notes))}}]
    if content.dashboard_url:
        footer.append({"buttonList": {"buttons": [_open("Open the dashboard", content.dashboard_url)]}})
    sections.append({"widgets": footer})
    subtitle = f"answers {content.resolves}" if content.resolves else f"alert {markup.plain(content.alert_id)}"
    card = {"header": {"title": f"{content.emoji} {content.title}: {markup.plain(brand)}", "subtitle": subtitle},
            "sections": sections}
    return {
        "text": f"{content.emoji} {content.title}: {markup.plain(brand)}",
        "cardsV2": [{"cardId": f"alert-{idempotency_token(alert)}", "card": card}],
        "thread": {"threadKey": alert.alert_id},
    }

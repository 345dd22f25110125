"""A notification as Slack Block Kit, for an incoming webhook: ``{"text": ..., "blocks": [...]}``.

Blocks used: ``header`` (plain_text), ``section`` (mrkdwn ``text`` or ``fields``), ``context``
(mrkdwn elements). Every mrkdwn object is sent with ``verbatim: true`` and every piece of the
alert's own text goes through ``markup.slack`` / ``markup.plain``. Links (a tweet's page, the
dashboard) are mrkdwn links, not buttons: a link button sends an interaction payload to the app,
which an incoming webhook has nowhere to receive.

Slack incoming webhooks cannot reply in a thread (the answer carries no message ``ts`` to reply
to), so a resolution is a new message that names the alert it resolves (its time and id).

Limits of Block Kit this respects (tests/test_notify_formats.py checks each): at most 50 blocks; a
header's text at most 150 characters; a section's text 1-3000 characters; at most 10 fields of at
most 2000 characters; at most 10 context elements.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from . import markup
from .content import Content

HEADER_CHARS = 150
BRAND_CHARS = 100  # of a header, the rest is ours
NO_THREADS = ("Slack incoming webhooks cannot reply in a thread: this message answers {resolves} "
              "(alert {alert_id}), posted in this channel.")


def _ours(text: str) -> str:
    """Our own text in mrkdwn: only the three control characters need escaping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _link(url: str, label: str) -> str:
    return f"<{quote(url, safe=':/?=#%@+,;~-._')}|{_ours(label)}>"


def render(content: Content) -> dict[str, Any]:
    brand = markup.shorten(content.brand, BRAND_CHARS)
    header = f"{content.emoji} {content.title}: {markup.plain(brand)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_CHARS], "emoji": True}},
        {"type": "section", "text": _mrkdwn(f"*{markup.slack(brand)}*: {_ours(content.summary)}")},
        {"type": "section", "fields": [_mrkdwn(f"*{_ours(f.label)}*\n{_ours(f.value)}") for f in content.facts]},
    ]
    if content.drivers:
        lines = [f"• *{markup.slack(d.term)}*: {_ours(d.detail)}" for d in content.drivers]
        blocks.append({"type": "section", "text": _mrkdwn("*What the negative tweets say*\n" + "\n".join(lines))})
    if content.tweets:
        blocks.append({"type": "section", "text": _mrkdwn(f"*The {len(content.tweets)} most negative tweets*")})
        for tweet in content.tweets:
            where = f" · {_link(tweet.url, 'open on X')}" if tweet.url else ""
            blocks.append({"type": "section", "text": _mrkdwn(f">{markup.slack(tweet.text)}\n"
                                                               f"{_ours(tweet.detail)}{where}")})
    context = [f"Model {markup.slack(content.model_version or 'unknown')} · alert {markup.slack(content.alert_id)}"]
    if content.dashboard_url:
        context.append(_link(content.dashboard_url, "Cloud Monitoring dashboard"))
    if content.resolves:
        context.append(NO_THREADS.format(resolves=_ours(content.resolves), alert_id=markup.slack(content.alert_id)))
    context += [_ours(note) for note in content.notes]
    blocks.append({"type": "context", "elements": [_mrkdwn(text) for text in context]})
    text = f"{content.emoji} {content.title}: {markup.slack(brand)} — {_ours(content.summary)}"
    return {"text": text, "blocks": blocks}

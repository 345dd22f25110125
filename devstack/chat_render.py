"""What a chat would show for a posted message, as plain text: Slack Block Kit or a Google Chat card.

Used by ``make replay`` (what the notifier posted to the local webhook receiver) and to write the
text renderings of docs/notifications.md. Bold markers are dropped, links are shown as
``label [url]``, entities are decoded: the text reads as the message does in the chat.
"""

from __future__ import annotations

import html
import re
from typing import Any

_MRKDWN_LINK = re.compile(r"<([^|<>]+)\|([^<>]*)>")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_TAG = re.compile(r"<[^<>]+>")


def _mrkdwn(text: str) -> str:
    text = _MRKDWN_LINK.sub(lambda m: f"{m.group(2)} [{m.group(1)}]", text)
    text = _BOLD.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _html(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r'(?i)<a\s+href="([^"]*)"[^>]*>(.*?)</a>', r"\2 [\1]", text)
    return html.unescape(_TAG.sub("", text))


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def slack_text(message: dict[str, Any]) -> str:
    lines = []
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind == "header":
            lines += [block["text"]["text"], "=" * min(60, len(block["text"]["text"]) + 2)]
        elif kind == "section" and "fields" in block:
            for item in block["fields"]:
                label, _, value = _mrkdwn(item["text"]).partition("\n")
                lines.append(f"  {label}: {value}")
        elif kind == "section":
            text = _mrkdwn(block["text"]["text"])
            lines += ["  │ " + line[1:] if line.startswith(">") else line for line in text.splitlines()]
        elif kind == "context":
            lines.append(_indent("\n".join(_mrkdwn(e["text"]) for e in block.get("elements", [])), "  · "))
        elif kind == "divider":
            lines.append("-" * 40)
    return "\n".join(lines)


def _widget(widget: dict[str, Any]) -> list[str]:
    if "textParagraph" in widget:
        return _html(widget["textParagraph"]["text"]).splitlines()
    if "decoratedText" in widget:
        item = widget["decoratedText"]
        label = _html(item.get("topLabel", ""))
        line = f"{label}: {_html(item['text'])}" if label else _html(item["text"])
        button = item.get("button")
        if button:
            line += f"  [{button['text']}: {button['onClick']['openLink']['url']}]"
        return [line]
    if "buttonList" in widget:
        return [f"[{b['text']}: {b['onClick']['openLink']['url']}]" for b in widget["buttonList"]["buttons"]]
    if "divider" in widget:
        return ["-" * 40]
    return [f"({', '.join(widget)})"]


def google_chat_text(message: dict[str, Any], query: dict[str, str] | None = None) -> str:
    lines = []
    thread = (message.get("thread") or {}).get("threadKey")
    reply = (query or {}).get("messageReplyOption")
    if thread:
        lines.append(f"[thread {thread}{', reply if it exists' if reply else ''}]")
    for card in message.get("cardsV2", []):
        header = card["card"].get("header", {})
        lines += [header.get("title", ""), header.get("subtitle", ""), "=" * min(60, len(header.get("title", "")) + 2)]
        for section in card["card"].get("sections", []):
            if section.get("header"):
                lines.append(section["header"])
            for widget in section.get("widgets", []):
                lines += [f"  {line}" for line in _widget(widget)]
    return "\n".join(line for line in lines if line is not None)


def as_text(message: Any, query: dict[str, str] | None = None) -> str:
    """The text a chat shows for ``message`` (a Slack or Google Chat body); anything else as it came."""
    if isinstance(message, dict) and "blocks" in message:
        return slack_text(message)
    if isinstance(message, dict) and "cardsV2" in message:
        return google_chat_text(message, query)
    return str(message)

"""The published shapes of the two chat formats, as checks: what a message must be for the chat to accept it.

Slack Block Kit (docs.slack.dev, "Reference: blocks", "Composition objects: text object",
"Formatting text for app surfaces"; api.slack.com incoming webhooks):
- a message has ``blocks`` (at most 50) and, with blocks, a top-level ``text`` used for
  notifications; every block has a ``type``; we use only ``header``, ``section``, ``context``,
  ``divider``, ``actions``;
- a text object is ``{"type": "plain_text" | "mrkdwn", "text": 1..3000 characters}``; ``emoji`` only
  on plain_text, ``verbatim`` only on mrkdwn;
- header: ``text`` is plain_text, at most 150 characters;
- section: ``text`` (1..3000) or ``fields`` (at most 10 text objects of at most 2000 characters), or
  both; ``block_id`` at most 255 characters;
- context: ``elements``, at most 10 (text objects here);
- in mrkdwn, ``&``, ``<`` and ``>`` are control characters: a literal one must be written as
  ``&amp;`` ``&lt;`` ``&gt;``; ``<…>`` is a link (``<url|label>``) or a mention (``<!channel>``,
  ``<!here>``, ``<!everyone>``, ``<@U…>``, ``<#C…>``, ``<!subteam^…>``).

Google Chat (developers.google.com/workspace/chat: spaces.messages.create, Message, Card (cardsV2),
"Format messages"):
- a message of at most 32,000 bytes; ``cardsV2`` is a list of ``{"cardId", "card"}``; a card has an
  optional ``header`` (``title`` required in it, ``subtitle``) and ``sections``, each with optional
  ``header`` and ``widgets``; a widget is exactly one of the widget types (we use
  ``textParagraph``, ``decoratedText``, ``buttonList``, ``divider``); ``decoratedText`` needs
  ``text``; a button needs ``text`` and an ``onClick`` (here ``openLink.url``, https);
- card text takes a small HTML subset (``<b> <i> <u> <s> <font color> <a href> <br>`` ...);
  the message ``text`` takes Chat's markdown: ``*bold*``, ``_italic_``, ``~strike~``, backticks,
  ``<url|label>`` links and ``<users/…>`` mentions (``<users/all>``: everyone);
- ``thread.threadKey`` up to 4000 characters; ``messageReplyOption`` one of
  ``MESSAGE_REPLY_OPTION_UNSPECIFIED``, ``REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD``,
  ``REPLY_MESSAGE_OR_FAIL``; ``messageId`` starts with ``client-`` and holds only lowercase letters,
  digits and hyphens, 63 characters at most.

Each function returns the problems it finds (empty: the shape holds).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions"}
SLACK_MAX_BLOCKS, SLACK_TEXT_CHARS, SLACK_HEADER_CHARS = 50, 3000, 150
SLACK_MAX_FIELDS, SLACK_FIELD_CHARS, SLACK_MAX_CONTEXT, SLACK_BLOCK_ID_CHARS = 10, 2000, 10, 255

CHAT_MESSAGE_BYTES, CHAT_THREAD_KEY_CHARS = 32_000, 4000
CHAT_WIDGETS = {"textParagraph", "decoratedText", "buttonList", "divider"}
CHAT_REPLY_OPTIONS = {"MESSAGE_REPLY_OPTION_UNSPECIFIED", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
                      "REPLY_MESSAGE_OR_FAIL"}
CHAT_MESSAGE_ID = re.compile(r"^client-[a-z0-9-]+$")
CHAT_TAGS = {"b", "i", "u", "s", "font", "a", "br", "code", "pre", "ul", "ol", "li", "time"}


def _text_object(value: Any, where: str, kinds: tuple[str, ...] = ("plain_text", "mrkdwn"),
                 limit: int = SLACK_TEXT_CHARS) -> list[str]:
    if not isinstance(value, dict) or value.get("type") not in kinds:
        return [f"{where}: not a text object of type {' / '.join(kinds)}: {value!r:.80}"]
    problems = []
    text = value.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        size = len(text) if isinstance(text, str) else text
        problems.append(f"{where}.text must be 1..{limit} characters, has {size}")
    extra = set(value) - {"type", "text", "emoji", "verbatim"}
    if extra:
        problems.append(f"{where}: unknown fields {sorted(extra)}")
    if "emoji" in value and value["type"] != "plain_text":
        problems.append(f"{where}: emoji is only for plain_text")
    if "verbatim" in value and value["type"] != "mrkdwn":
        problems.append(f"{where}: verbatim is only for mrkdwn")
    return problems


def slack_problems(message: Any) -> list[str]:
    if not isinstance(message, dict):
        return ["the message is not an object"]
    problems = []
    blocks = message.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return ["no blocks"]
    if len(blocks) > SLACK_MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks, at most {SLACK_MAX_BLOCKS}")
    if not isinstance(message.get("text"), str) or not message["text"]:
        problems.append("no top-level text (the notification text of a message with blocks)")
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in SLACK_BLOCK_TYPES:
            problems.append(f"{where}: block type {kind!r} is not one of {sorted(SLACK_BLOCK_TYPES)}")
            continue
        if len(str(block.get("block_id", ""))) > SLACK_BLOCK_ID_CHARS:
            problems.append(f"{where}.block_id is longer than {SLACK_BLOCK_ID_CHARS}")
        if kind == "header":
            problems += _text_object(block.get("text"), f"{where}.text", ("plain_text",), SLACK_HEADER_CHARS)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                problems += _text_object(block["text"], f"{where}.text")
            fields = block.get("fields", [])
            if not isinstance(fields, list) or len(fields) > SLACK_MAX_FIELDS:
                problems.append(f"{where}.fields: at most {SLACK_MAX_FIELDS}")
            for i, item in enumerate(fields if isinstance(fields, list) else []):
                problems += _text_object(item, f"{where}.fields[{i}]", limit=SLACK_FIELD_CHARS)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= SLACK_MAX_CONTEXT:
                problems.append(f"{where}.elements: 1..{SLACK_MAX_CONTEXT}")
            for i, item in enumerate(elements if isinstance(elements, list) else []):
                problems += _text_object(item, f"{where}.elements[{i}]")
    return problems


def slack_texts(message: dict) -> Iterator[tuple[str, str]]:
    """(type, text) of every text object of a message, and its top-level text (mrkdwn)."""
    yield "mrkdwn", message["text"]
    for block in message["blocks"]:
        for key in ("text",):
            if key in block:
                yield block[key]["type"], block[key]["text"]
        for item in block.get("fields", []) + block.get("elements", []):
            yield item["type"], item["text"]


def slack_links(text: str) -> list[str]:
    """Every ``<...>`` control sequence of a mrkdwn text (links and mentions)."""
    return re.findall(r"<([^<>]*)>", text)


def _url_problem(url: Any, where: str) -> list[str]:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        return [f"{where}: {url!r} is not an https URL"]
    return []


def _chat_widget(widget: Any, where: str) -> list[str]:
    if not isinstance(widget, dict) or len(widget) != 1 or next(iter(widget)) not in CHAT_WIDGETS:
        found = sorted(widget) if isinstance(widget, dict) else widget
        return [f"{where}: a widget is exactly one of {sorted(CHAT_WIDGETS)}, not {found}"]
    kind, body = next(iter(widget.items()))
    problems = []
    if kind == "textParagraph" and not isinstance(body.get("text"), str):
        problems.append(f"{where}.textParagraph needs text")
    if kind == "decoratedText":
        if not isinstance(body.get("text"), str) or not body["text"]:
            problems.append(f"{where}.decoratedText needs text")
        unknown = set(body) - {"topLabel", "text", "bottomLabel", "wrapText", "button", "startIcon", "icon", "onClick"}
        if unknown:
            problems.append(f"{where}.decoratedText: unknown fields {sorted(unknown)}")
        if "button" in body:
            problems += _chat_button(body["button"], f"{where}.decoratedText.button")
    if kind == "buttonList":
        buttons = body.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            problems.append(f"{where}.buttonList needs buttons")
        for i, button in enumerate(buttons or []):
            problems += _chat_button(button, f"{where}.buttonList.buttons[{i}]")
    return problems


def _chat_button(button: Any, where: str) -> list[str]:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
        return [f"{where} needs text"]
    url = ((button.get("onClick") or {}).get("openLink") or {}).get("url")
    return _url_problem(url, f"{where}.onClick.openLink.url")


def chat_problems(message: Any, query: dict[str, str] | None = None) -> list[str]:
    if not isinstance(message, dict):
        return ["the message is not an object"]
    problems = []
    size = len(json.dumps(message, ensure_ascii=False).encode("utf-8"))
    if size > CHAT_MESSAGE_BYTES:
        problems.append(f"the message has {size:,} bytes, at most {CHAT_MESSAGE_BYTES:,}")
    unknown = set(message) - {"text", "cardsV2", "thread", "fallbackText", "accessoryWidgets"}
    if unknown:
        problems.append(f"unknown message fields {sorted(unknown)}")
    cards = message.get("cardsV2")
    if not isinstance(cards, list) or not cards:
        problems.append("no cardsV2")
    for c, item in enumerate(cards or []):
        where = f"cardsV2[{c}]"
        if not (isinstance(item, dict) and isinstance(item.get("cardId"), str) and isinstance(item.get("card"), dict)):
            problems.append(f"{where} needs cardId and card")
            continue
        card = item["card"]
        header = card.get("header")
        if header is not None and (not isinstance(header.get("title"), str) or not header["title"]):
            problems.append(f"{where}.card.header needs a title")
        sections = card.get("sections")
        if not isinstance(sections, list) or not sections:
            problems.append(f"{where}.card needs sections")
        for s, section in enumerate(sections or []):
            widgets = section.get("widgets")
            if not isinstance(widgets, list) or not widgets:
                problems.append(f"{where}.card.sections[{s}] has no widgets")
            for w, widget in enumerate(widgets or []):
                problems += _chat_widget(widget, f"{where}.card.sections[{s}].widgets[{w}]")
    thread = message.get("thread")
    if thread is not None and (not isinstance(thread.get("threadKey"), str)
                               or not 1 <= len(thread["threadKey"]) <= CHAT_THREAD_KEY_CHARS):
        problems.append(f"thread.threadKey must be 1..{CHAT_THREAD_KEY_CHARS} characters")
    for key, value in (query or {}).items():
        if key == "messageReplyOption" and value not in CHAT_REPLY_OPTIONS:
            problems.append(f"messageReplyOption {value!r} is not one of {sorted(CHAT_REPLY_OPTIONS)}")
        if key == "messageId" and (len(value) > 63 or not CHAT_MESSAGE_ID.match(value)):
            problems.append(f"messageId {value!r}: client- then lowercase letters, digits, hyphens, 63 at most")
    return problems


def chat_html_texts(message: dict) -> Iterator[str]:
    """Every text of the cards that Chat reads as HTML."""
    for item in message["cardsV2"]:
        for section in item["card"]["sections"]:
            for widget in section["widgets"]:
                body = next(iter(widget.values()))
                for key in ("text", "topLabel", "bottomLabel"):
                    if isinstance(body, dict) and key in body:
                        yield body[key]


def chat_plain_texts(message: dict) -> Iterator[str]:
    """The texts shown as typed or read as Chat's markdown: message text, card titles, section headers."""
    yield message.get("text", "")
    for item in message["cardsV2"]:
        header = item["card"].get("header", {})
        yield header.get("title", "")
        yield header.get("subtitle", "")
        for section in item["card"]["sections"]:
            yield section.get("header", "")


def html_tags(text: str) -> list[str]:
    return [tag.lower() for tag in re.findall(r"</?\s*([A-Za-z][\w/:-]*)", text)]

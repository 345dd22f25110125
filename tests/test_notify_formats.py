"""Both chat formats: the published shapes (tests/chat_shapes.py), the content, and inert untrusted text."""

from __future__ import annotations

import re

import pytest

from devstack.chat_render import as_text
from sentiment.alert_payload import parse_alert_object
from sentiment.notify import markup
from sentiment.notify.notifier import GOOGLE_CHAT, SLACK, render

from . import chat_shapes as shapes
from .notify_support import HOSTILE, bad_buzz, resolved

DASHBOARD = "https://console.cloud.google.com/monitoring/dashboards/builder/abc-123?project=air-paradis"
FORMATS = (SLACK, GOOGLE_CHAT)


def alert(payload):
    return parse_alert_object(payload)


def problems(fmt, body, query):
    return shapes.slack_problems(body) if fmt == SLACK else shapes.chat_problems(body, query)


def biggest() -> dict:
    """Every field at its largest: the longest brand, 5 evidence tweets and 10 drivers, markup everywhere."""
    return bad_buzz(brand="B&<" * 66, model_version="v" * 200, alert_id="a" * 200,
                    evidence=[{"id": str(10**19 + i), "text": "&<>*" * 250, "probability_negative": 0.99}
                              for i in range(5)],
                    drivers=[{"term": "&<" * 100, "kind": "hashtag", "count": 10**9, "baseline_count": 10**9,
                              "lift": 1e9} for _ in range(10)])


CASES = {
    "bad_buzz": bad_buzz(),
    "resolved": resolved(),
    "minimal": {"type": "bad_buzz", "alert_id": "x1", "brand": "b", "detected_at": "2026-11-20T12:00:00Z"},
    "minimal-resolved": {"type": "resolved", "alert_id": "x1", "brand": "b", "detected_at": "2026-11-20T12:00:00Z"},
    "biggest": biggest(),
    "unreadable-fields": bad_buzz(negative_share="high", tweets=-3, evidence="none"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_message_has_the_published_shape(fmt, case):
    body, query = render(fmt, alert(CASES[case]), DASHBOARD, held_back=3)
    assert problems(fmt, body, query) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_shape_checks_can_fail(fmt):
    body, query = render(fmt, alert(bad_buzz()), DASHBOARD)
    if fmt == SLACK:
        body["blocks"][0]["text"]["text"] = "x" * 151
        body["blocks"].append({"type": "table"})
        body["blocks"][1]["text"]["emoji"] = True
        body["blocks"][2]["fields"] *= 2
        found = shapes.slack_problems(body)
        for fragment in ("1..150 characters, has 151", "block type 'table'", "emoji is only for plain_text",
                         "fields: at most 10"):
            assert any(fragment in p for p in found), (fragment, found)
    else:
        body["cardsV2"][0]["card"]["sections"][0]["widgets"].append({"image": {}, "divider": {}})
        body["cardsV2"][0]["card"]["sections"][-1]["widgets"][-1]["buttonList"]["buttons"][0]["onClick"] = {}
        body["text"] = "x" * 40_000
        found = shapes.chat_problems(body, {**query, "messageId": "client-Upper"})
        for fragment in ("a widget is exactly one of", "is not an https URL", "bytes, at most 32,000",
                         "messageId 'client-Upper'"):
            assert any(fragment in p for p in found), (fragment, found)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_buzz_says_who_how_bad_since_when_why_and_where_to_look(fmt):
    text = as_text(*render(fmt, alert(bad_buzz()), DASHBOARD))
    for expected in ("Bad buzz", "spike", "50% of 318 tweets negative over 3 h (usually 33%)",
                     "3.5× the usual negative volume", "Since: Fri 20 Nov 2026 09:00 UTC", "outage", "spikeoutage",
                     "worst airline ever", "computer outage again", "lost my bag, again", "20261125-135001-b3df2c47",
                     DASHBOARD,
                     "https://x.com/i/web/status/1795173667871089498",
                     "https://x.com/i/web/status/1795173667871089499"):
        assert expected in text, expected
    assert "4 hours on the tarmac" not in text, "the fourth most negative tweet is left out"


def test_the_three_most_negative_tweets_come_first():
    body, _ = render(SLACK, alert(bad_buzz()), DASHBOARD)
    quoted = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section" and "text" in b
              and b["text"]["text"].startswith(">")]
    assert [q.split("\n")[0] for q in quoted] == [">worst airline ever", ">＠SpikeAir computer outage again?? "
                                                  "stuck at the gate #spikeoutage", ">lost my bag, again"]
    assert "x.com" not in quoted[0], "no link without an id"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_values_are_shown_as_unknown(fmt):
    text = as_text(*render(fmt, alert(CASES["minimal"]), ""))
    assert "Since: unknown" in text and "Negative volume: unknown" in text and "Model unknown" in text
    text = as_text(*render(fmt, alert(CASES["unreadable-fields"]), ""))
    assert "3 fields of the alert could not be read" in text


def test_slack_cannot_thread_so_the_resolution_names_its_alert():
    body, query = render(SLACK, alert(resolved()), DASHBOARD)
    text = as_text(body)
    assert query == {}
    assert "Resolved: spike" in text and "is over after 6 h" in text
    assert "cannot reply in a thread" in text and bad_buzz()["alert_id"] in text
    assert "the bad-buzz alert of Fri 20 Nov 2026 12:00 UTC" in text


def test_google_chat_answers_in_the_alerts_thread_and_is_idempotent():
    buzz, over = alert(bad_buzz()), alert(resolved())
    (first, q1), (second, q2) = render(GOOGLE_CHAT, buzz, DASHBOARD), render(GOOGLE_CHAT, over, DASHBOARD)
    assert first["thread"] == second["thread"] == {"threadKey": buzz.alert_id}
    assert q1["messageReplyOption"] == q2["messageReplyOption"] == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
    assert q1["requestId"] != q2["requestId"] and q1["messageId"] != q2["messageId"]
    assert render(GOOGLE_CHAT, alert(bad_buzz()), DASHBOARD)[1] == q1, "the same alert, the same request id"


# --- Untrusted text is inert ------------------------------------------------------------------------

def hostile(text: str) -> dict:
    return bad_buzz(brand=f"brand {text}", model_version=f"m {text}"[:200],
                    evidence=[{"id": "1", "text": f"tweet {text}", "probability_negative": 0.99}],
                    drivers=[{"term": f"term {text}"[:200], "kind": "term", "count": 3}])


OUR_LINKS = {"https://x.com/i/web/status/1", DASHBOARD}
MENTIONS = re.compile(r"(?i)@(everyone|here|channel|all)\b")


@pytest.mark.parametrize("text", HOSTILE)
def test_a_tweet_cannot_mention_everyone_link_or_format_in_slack(text):
    """Against the same message with harmless text: not one more link, mention or formatting character."""
    body, _ = render(SLACK, alert(hostile(text)), DASHBOARD)
    harmless, _ = render(SLACK, alert(hostile("plain words")), DASHBOARD)
    assert shapes.slack_problems(body) == []
    for (kind, rendered), (_, reference) in zip(shapes.slack_texts(body), shapes.slack_texts(harmless), strict=True):
        for sequence in shapes.slack_links(rendered):
            assert sequence.split("|", 1)[0] in OUR_LINKS, f"{sequence!r} is a link or mention not ours: {rendered!r}"
        assert shapes.slack_links(rendered) == shapes.slack_links(reference)
        assert not MENTIONS.search(rendered), rendered
        assert not re.search(r"https?://(?!x\.com/i/web/status/1\b|console\.cloud\.google\.com/)", rendered), rendered
        if kind == "mrkdwn":
            assert not re.search(r"&(?!amp;|lt;|gt;)", rendered), f"a bare & in {rendered!r}"
        for character in "*_~`<>":
            assert rendered.count(character) == reference.count(character), f"{character!r} added to {rendered!r}"
    assert "\u202e" not in str(body) and "\u200b" not in str(body)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_tweet_cannot_mention_everyone_link_or_format_in_google_chat(text):
    body, query = render(GOOGLE_CHAT, alert(hostile(text)), DASHBOARD)
    assert shapes.chat_problems(body, query) == []
    for rendered in shapes.chat_html_texts(body):
        assert set(shapes.html_tags(rendered)) <= {"b", "br"}, f"a tag that is not ours in {rendered!r}"
        assert "<b>" not in rendered or rendered.count("<b>") == rendered.count("</b>") <= 1
        assert "users/" not in rendered.replace("&lt;users/all&gt;", ""), rendered
        assert not MENTIONS.search(rendered) and "http://" not in rendered and "https://" not in rendered, rendered
    for rendered in shapes.chat_plain_texts(body):
        assert not re.search(r"[<>*_~`]", rendered), f"markup in a plain text: {rendered!r}"
        assert not MENTIONS.search(rendered), rendered
    urls = re.findall(r"'url': '([^']*)'", str(body))
    assert set(urls) <= OUR_LINKS, urls


@pytest.mark.parametrize(("text", "slack", "html", "plain"), [
    ("<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;＠U1&gt;", "&lt;!channel&gt; &amp; &lt;＠U1&gt;",
     "‹!channel› & ‹＠U1›"),
    ("*big* _it_ ~no~ `c`", "∗big∗ ˍitˍ ∼no∼ ˋcˋ", "*big* _it_ ~no~ `c`", "∗big∗ ˍitˍ ∼no∼ ˋcˋ"),
    ("go to https://evil.example/a.b", "go to https[:]//evil[.]example/a.b", "go to https[:]//evil[.]example/a.b",
     "go to https[:]//evil[.]example/a.b"),
    ("visit www.evil.co.uk or t.co/x", "visit www[.]evil[.]co[.]uk or t[.]co/x",
     "visit www[.]evil[.]co[.]uk or t[.]co/x", "visit www[.]evil[.]co[.]uk or t[.]co/x"),
    ("3.5 hours, v1.2, 10.30", "3.5 hours, v1.2, 10.30", "3.5 hours, v1.2, 10.30", "3.5 hours, v1.2, 10.30"),
    ("\"quoted\" 'single'", "\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;", "\"quoted\" 'single'"),
    ("a\u202eb\u200bc\nd", "abc d", "abc d", "abc d"),
    ("✈️ 😡 café", "✈️ 😡 café", "✈️ 😡 café", "✈️ 😡 café"),
])
def test_the_escapers(text, slack, html, plain):
    assert (markup.slack(text), markup.html(text), markup.plain(text)) == (slack, html, plain)


def test_shortening_keeps_words_and_marks_the_cut():
    assert markup.shorten("short", 10) == "short"
    cut = markup.shorten("the flight was delayed for many hours again", 20)
    assert len(cut) <= 20 and cut.endswith("…") and cut.startswith("the flight was")


@pytest.mark.parametrize(("tweet_id", "url"), [
    ("1795173667871089498", "https://x.com/i/web/status/1795173667871089498"), (None, None), ("abc", None),
    ("1/../../evil", None), ("12345678901234567890123", None), ("１２３", None),
])
def test_only_numeric_ids_become_links(tweet_id, url):
    assert markup.tweet_url(tweet_id) == url


def test_the_docs_show_what_the_code_renders():
    from . import notify_docs

    page = notify_docs.PAGE.read_text(encoding="utf-8")
    shown, wanted = notify_docs.blocks(page), notify_docs.examples()
    assert set(shown) <= set(wanted) and len(shown) >= 7, sorted(shown)
    for name, block in shown.items():
        assert block == wanted[name], f"docs/notifications.md {name} is stale: python -m tests.notify_docs"

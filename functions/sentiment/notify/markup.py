"""Untrusted text made inert before it goes into a chat message.

Tweets, driver terms, brands and model versions come from outside; a tweet must not be able to
mention everyone, add a link, or format the message around it. Three slots, three escapers:

- ``slack(text)``: Slack ``mrkdwn`` (always sent with ``verbatim: true``: no auto-linking, no mention
  parsing). ``&``, ``<``, ``>`` become ``&amp;`` ``&lt;`` ``&gt;`` (the only escapes Slack
  documents; without ``<`` nothing can open a link ``<url|x>`` or a mention ``<!channel>``,
  ``<!here>``, ``<@U123>``). mrkdwn has no escape for ``*``, ``_``, ``~`` and backticks, so they
  become look-alike characters that format nothing;
- ``html(text)``: Google Chat card text (a small HTML subset): HTML-escaped, so no tag (``<a>``,
  ``<b>``, ``<users/all>``) survives;
- ``plain(text)``: fields shown as they are (a Slack ``plain_text`` header, a card title, Google
  Chat's message ``text``, which reads ``*bold*`` and ``<url|x>``): the markup characters become
  look-alikes, since entities would be shown as typed.

In every slot ``@`` becomes the full-width ``＠`` (``@everyone``, ``@here``, ``@all`` and
``@channel`` never resolve, and ``@AirParadis`` still reads as a handle), and anything that looks
like a link (``https://…``, ``www.…``, ``t.co/…``, ``example.com``) is defanged as security teams
write it (``https[:]//example[.]com``): shown, never clickable. Control and bidirectional
formatting characters are removed, line breaks become spaces. Links the notifier adds itself (a
tweet's ``x.com`` URL, built from a numeric id only; the dashboard) are never passed through here.
"""

from __future__ import annotations

import re
import unicodedata

TWEET_URL = "https://x.com/i/web/status/{id}"
_NUMERIC_ID = re.compile(r"^[0-9]{1,20}$")

# Characters that format text in mrkdwn or in Google Chat's message text, and inert look-alikes.
LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb", "@": "\uff20"}
ANGLES = {"<": "\u2039", ">": "\u203a"}
_FORMATTING = str.maketrans(LOOKALIKES)
_PLAIN = str.maketrans({**LOOKALIKES, **ANGLES})
_AT_ONLY = str.maketrans({"@": LOOKALIKES["@"]})

_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}):(//)")
_DOMAIN = re.compile(r"(?i)(?<![\w.\[-])((?:[\w-]+\.)+)([a-z\u00a1-\uffff]{2,24})(?![\w\[])")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """No control or invisible formatting characters (bidi overrides, zero-width joiners), one line."""
    kept = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co")
                   or c in "\n\t")
    return _SPACES.sub(" ", kept).strip()


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when one is near, with an ellipsis."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def defang(text: str) -> str:
    """``https://example.com/x`` -> ``https[:]//example[.]com/x``: readable, never a link."""
    text = _SCHEME.sub(r"\1[:]\2", text)
    return _DOMAIN.sub(lambda m: m.group(1).replace(".", "[.]") + m.group(2), text)


def _inert(text: str) -> str:
    return defang(clean(text))


def slack(text: str) -> str:
    """For a Slack mrkdwn text object (sent with ``verbatim: true``)."""
    inert = _inert(text).translate(_FORMATTING)
    return inert.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html(text: str) -> str:
    """For Google Chat card text (HTML subset)."""
    inert = _inert(text).translate(_AT_ONLY)
    return (inert.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def plain(text: str) -> str:
    """For text shown as typed (Slack plain_text, card titles, Google Chat message text)."""
    return _inert(text).translate(_PLAIN)


def tweet_url(tweet_id: str | None) -> str | None:
    """The tweet's page, only for a numeric id (anything else could smuggle a path or a host)."""
    if tweet_id is None or not _NUMERIC_ID.match(tweet_id):
        return None
    return TWEET_URL.format(id=tweet_id)

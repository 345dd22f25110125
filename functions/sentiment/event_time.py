"""A tweet's ``created_at``: the one rule that reads it, for the functions and the pipelines alike.

Accepted: RFC 3339 / ISO 8601 with a time zone (``2026-11-30T14:05:00Z``, ``...+01:00``, fractions
of a second), and the format of Twitter's v1.1 API (``Wed Oct 10 20:19:24 +0000 2018``). A time
without a zone is refused rather than guessed. ``rfc3339()`` is what the scoring function writes
as the ``created_at`` attribute of a scored tweet: the attribute the streaming pipeline reads as
its event time (Beam's ``timestamp_attribute`` accepts exactly this form).
"""

from __future__ import annotations

from datetime import UTC, datetime

ATTRIBUTE = "created_at"  # the scored tweet's message attribute holding its event time (rfc3339 below)
MAX_CHARS = 64
EARLIEST = datetime(2006, 3, 21, tzinfo=UTC)  # the first tweet: anything before is a wrong clock
_TWITTER_FORMAT = "%a %b %d %H:%M:%S %z %Y"


class BadTime(ValueError):
    """``created_at`` is present but is not a time this rule can read."""


def parse(value: object) -> datetime:
    """An aware UTC datetime from a ``created_at`` value; ``BadTime`` saying why not."""
    if not isinstance(value, str):
        raise BadTime(f"must be a string (RFC 3339), not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise BadTime("is empty")
    if len(text) > MAX_CHARS:
        raise BadTime(f"has {len(text)} characters; a time has at most {MAX_CHARS}")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, _TWITTER_FORMAT)
        except ValueError:
            raise BadTime(f"is not an RFC 3339 time: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise BadTime(f"has no time zone (RFC 3339 needs one): {text[:40]!r}")
    parsed = parsed.astimezone(UTC)
    if parsed < EARLIEST:
        raise BadTime(f"is before the first tweet ever: {text[:40]!r}")
    return parsed


def rfc3339(moment: datetime | float) -> str:
    """``2026-11-30T14:05:00.000Z``: UTC, milliseconds (a datetime or seconds since the epoch)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

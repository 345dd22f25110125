"""What a notification says, in the communication team's words, before any chat format.

Both formats render one ``Content``: the wording, the numbers and their order live here once.
Fields marked *theirs* come from the alert (a brand, a model version, driver terms, tweets) and
must go through ``markup`` when rendered; everything else is built here from numbers and times and
is safe as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..alert_payload import BAD_BUZZ, Alert, Driver, Evidence
from . import markup

UNKNOWN = "unknown"
TWEETS_SHOWN = 3
TWEET_CHARS = 200  # a tweet, shortened, in the message
TERM_CHARS = 40
DRIVERS_SHOWN = 5
DRIVER_KIND = {"term": "word", "hashtag": "hashtag", "mention": "mention"}


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class DriverLine:
    term: str  # theirs
    detail: str


@dataclass(frozen=True)
class TweetLine:
    text: str  # theirs, shortened
    url: str | None  # the tweet's page (numeric ids only)
    detail: str


@dataclass(frozen=True)
class Content:
    kind: str  # bad_buzz / resolved
    alert_id: str  # theirs
    brand: str  # theirs
    title: str  # "Bad buzz" / "Resolved": the brand follows it
    emoji: str
    summary: str
    facts: tuple[Fact, ...]
    drivers: tuple[DriverLine, ...]
    tweets: tuple[TweetLine, ...]
    model_version: str | None  # theirs
    dashboard_url: str | None
    notes: tuple[str, ...]  # held back by the rate limit, unreadable fields
    resolves: str | None  # for a resolution: which alert it answers ("the alert of Fri 20 Nov 12:00 UTC")


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC") if moment else UNKNOWN


def percent(share: float | None) -> str:
    return UNKNOWN if share is None else f"{share:.0%}"


def hours(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:g} h"


def _share(alert: Alert, over: str = "") -> str:
    tweets = f" of {alert.tweets:,} tweets" if alert.tweets is not None else ""
    usual = f" (usually {percent(alert.baseline_share)})" if alert.baseline_share is not None else ""
    return f"{percent(alert.negative_share)}{tweets} negative{over}{usual}"


def _volume(alert: Alert) -> str:
    if alert.negative_ratio is None:
        return UNKNOWN
    counts = ""
    if alert.negative is not None and alert.expected_negative is not None:
        counts = f" ({alert.negative:,} negative tweets where {alert.expected_negative:,.0f} are usual)"
    return f"{alert.negative_ratio:.1f}× the usual negative volume{counts}"


def _test(alert: Alert) -> str:
    name = {"share": "negative share", "volume": "negative volume"}.get(alert.test or "", UNKNOWN)
    return name if alert.score is None else f"{name}, z = {alert.score:.1f}"


def _baseline(alert: Alert) -> str:
    tweets = f"{alert.baseline_tweets:,} tweets" if alert.baseline_tweets is not None else "tweets"
    if alert.baseline_start is None or alert.baseline_end is None:
        return f"{tweets}, period {UNKNOWN}" if alert.baseline_tweets is not None else UNKNOWN
    return f"{tweets} from {when(alert.baseline_start)} to {when(alert.baseline_end)}"


def _drivers(drivers: tuple[Driver, ...]) -> tuple[DriverLine, ...]:
    lines = []
    for driver in drivers[:DRIVERS_SHOWN]:
        parts = [DRIVER_KIND.get(driver.kind, driver.kind)]
        if driver.count is not None:
            before = f" ({driver.baseline_count:,} in the baseline)" if driver.baseline_count is not None else ""
            parts.append(f"in {driver.count:,} negative tweets{before}")
        if driver.lift is not None:
            parts.append(f"{driver.lift:.1f}× as frequent as usual")
        lines.append(DriverLine(markup.shorten(driver.term, TERM_CHARS), ", ".join(parts)))
    return tuple(lines)


def _tweets(evidence: tuple[Evidence, ...]) -> tuple[TweetLine, ...]:
    ranked = sorted(evidence, key=lambda e: -1.0 if e.probability_negative is None else -e.probability_negative)
    lines = []
    for item in ranked[:TWEETS_SHOWN]:
        detail = (f"model: {item.probability_negative:.0%} negative" if item.probability_negative is not None
                  else "model: unknown")
        lines.append(TweetLine(markup.shorten(item.text, TWEET_CHARS), markup.tweet_url(item.id), detail))
    return tuple(lines)


def build(alert: Alert, dashboard_url: str = "", held_back: int = 0) -> Content:
    """The content of the message for one alert; ``held_back``: this brand's alerts not posted lately."""
    notes = []
    if held_back:
        notes.append(f"{held_back} more alert{'s' if held_back > 1 else ''} for this brand in the last hour "
                     "were not posted (rate limit): they are parked on the dead-letter topic.")
    if alert.problems:
        notes.append(f"{len(alert.problems)} field{'s' if len(alert.problems) > 1 else ''} of the alert could "
                     "not be read and are shown as unknown (the notifier's log says which).")
    if alert.type == BAD_BUZZ:
        window = f" over {hours(alert.window_hours)}" if alert.window_hours is not None else ""
        summary = f"{_share(alert, window)}; {_volume(alert)}."
        facts = (
            Fact("Since", when(alert.window_start)),
            Fact("Detected", when(alert.detected_at)),
            Fact("Negative share", _share(alert)),
            Fact("Negative volume", _volume(alert)),
            Fact("Decided by", _test(alert)),
            Fact("Baseline", _baseline(alert)),
        )
        return Content(BAD_BUZZ, alert.alert_id, alert.brand, "Bad buzz", "🚨", summary, facts,
                       _drivers(alert.drivers), _tweets(alert.evidence), alert.model_version, dashboard_url or None,
                       tuple(notes), None)
    lasted = f" after {hours(alert.alert_hours)}" if alert.alert_hours is not None else ""
    summary = f"the bad buzz detected {when(alert.alert_detected_at)} is over{lasted}: now {_share(alert)}."
    facts = (
        Fact("Buzz detected", when(alert.alert_detected_at)),
        Fact("Resolved", when(alert.detected_at)),
        Fact("Lasted", hours(alert.alert_hours)),
        Fact("Negative share now", _share(alert)),
        Fact("Negative volume now", _volume(alert)),
    )
    return Content(alert.type, alert.alert_id, alert.brand, "Resolved", "✅", summary, facts, (), (),
                   alert.model_version, dashboard_url or None, tuple(notes),
                   f"the bad-buzz alert of {when(alert.alert_detected_at)}")

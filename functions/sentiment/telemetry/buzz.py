"""Bad-buzz detection: the negative share of one instance's recent tweets, with hysteresis and a cooldown.

The window slides in steps of 1/60 of its length: tweets are counted in time buckets, and a bucket
leaves the window as a whole once all of it is older than the window (so the window spans its nominal
length plus at most one bucket). Each bucket keeps only its most negative tweets as evidence, which is
enough to know the most negative tweets of the whole window, in bounded memory at any volume.

States: ``quiet`` → ``alerting`` when the window holds at least ``min_tweets`` and its negative share
exceeds ``negative_share``, unless an alert was raised less than ``cooldown_seconds`` ago.
``alerting`` → ``quiet`` (a "resolved" message) when the share falls below
``negative_share - resolve_margin`` or the volume below half of ``min_tweets``: a share hovering around
the threshold does not flap between alert and resolution.

The detector is not thread-safe: ``Telemetry`` serialises access. ``evaluate`` only proposes a
transition; it takes effect with ``apply`` once the message is published, so a failed publish is
tried again rather than lost.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field

from .aggregation import rfc3339

QUIET, ALERTING = "quiet", "alerting"
BAD_BUZZ, RESOLVED = "bad_buzz", "resolved"
BUCKETS_PER_WINDOW = 60
EVIDENCE_TWEETS = 5
EVIDENCE_CHARS = 280  # a tweet's length: longer texts are cut in the alert
RESOLVE_MARGIN = 0.10  # resolution below threshold - margin (about 1.5 σ of the share at 50 tweets)
PUBLISH_RETRY_SECONDS = 30.0  # after a failed publish, wait this long before trying again


@dataclass(frozen=True)
class BuzzSettings:
    window_seconds: float = 600.0
    negative_share: float = 0.6
    min_tweets: int = 50
    cooldown_seconds: float = 1800.0
    resolve_margin: float = RESOLVE_MARGIN

    @classmethod
    def from_config(cls, config) -> BuzzSettings:
        return cls(config.buzz_window_seconds, config.buzz_negative_share, config.buzz_min_tweets,
                   config.buzz_cooldown_seconds)

    @property
    def resolve_below(self) -> float:
        return max(0.0, self.negative_share - self.resolve_margin)


@dataclass
class _Bucket:
    start: float
    tweets: int = 0
    negative: int = 0
    # max-heap (by negated probability) of this bucket's most negative tweets
    evidence: list[tuple[float, int, str | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Transition:
    """A proposed change of state, with the message that announces it."""

    state: str
    at: float
    payload: dict


class BuzzDetector:
    def __init__(self, settings: BuzzSettings, *, instance: str, job: str, source: str):
        self.settings = settings
        self.instance, self.job, self.source = instance, job, source
        self.state = QUIET
        self.tweets = 0
        self.negative = 0
        self._buckets: deque[_Bucket] = deque()
        self._bucket_seconds = settings.window_seconds / BUCKETS_PER_WINDOW
        self._sequence = itertools.count()  # breaks ties between equal probabilities (texts never compared)
        self._model_version = ""
        self._last_alert_at: float | None = None
        self._alert_started: float | None = None
        self._retry_at = float("-inf")

    def add(self, now: float, negative: bool, probability_positive: float, model_version: str, text: str,
            tweet_id: str | None = None) -> None:
        # no eviction here: every reader (share, evaluate) evicts first, and the hot path stays short
        start = now - now % self._bucket_seconds
        if not self._buckets or self._buckets[-1].start < start:
            self._buckets.append(_Bucket(start))
        bucket = self._buckets[-1]  # a clock that steps back files the tweet in the newest bucket
        bucket.tweets += 1
        self.tweets += 1
        if negative:
            bucket.negative += 1
            self.negative += 1
        evidence = bucket.evidence
        if len(evidence) < EVIDENCE_TWEETS:
            heapq.heappush(evidence, (-probability_positive, next(self._sequence), tweet_id, text[:EVIDENCE_CHARS]))
        elif -probability_positive > evidence[0][0]:  # more negative than the least negative kept
            heapq.heapreplace(evidence, (-probability_positive, next(self._sequence), tweet_id, text[:EVIDENCE_CHARS]))
        self._model_version = model_version

    def share(self, now: float) -> float:
        self._evict(now)
        return self.negative / self.tweets if self.tweets else 0.0

    def evaluate(self, now: float) -> Transition | None:
        """The transition due now, if any (not applied: see ``apply``)."""
        share = self.share(now)
        if now < self._retry_at:
            return None
        settings = self.settings
        if self.state == QUIET:
            cooling = self._last_alert_at is not None and now - self._last_alert_at < settings.cooldown_seconds
            if self.tweets >= settings.min_tweets and share > settings.negative_share and not cooling:
                return Transition(ALERTING, now, self._payload(BAD_BUZZ, now, share))
        elif share < settings.resolve_below or self.tweets < settings.min_tweets / 2:
            reason = "volume_fell" if self.tweets < settings.min_tweets / 2 else "share_fell"
            return Transition(QUIET, now, self._payload(RESOLVED, now, share, reason))
        return None

    def close(self, now: float) -> Transition | None:
        """The instance is going away: resolve an open alert, or nobody ever will for this instance."""
        if self.state != ALERTING:
            return None
        return Transition(QUIET, now, self._payload(RESOLVED, now, self.share(now), "instance_shutdown"))

    def apply(self, transition: Transition) -> None:
        self.state = transition.state
        if transition.state == ALERTING:
            self._last_alert_at = self._alert_started = transition.at
        else:
            self._alert_started = None

    def postpone(self, now: float) -> None:
        """Publishing failed: propose the transition again later, not on every request."""
        self._retry_at = now + PUBLISH_RETRY_SECONDS

    def _evict(self, now: float) -> None:
        horizon = now - self.settings.window_seconds
        while self._buckets and self._buckets[0].start + self._bucket_seconds <= horizon:
            old = self._buckets.popleft()
            self.tweets -= old.tweets
            self.negative -= old.negative

    def evidence(self, now: float) -> list[dict]:
        """The most negative tweets of the window, most negative first."""
        self._evict(now)
        kept = heapq.nlargest(EVIDENCE_TWEETS, itertools.chain.from_iterable(b.evidence for b in self._buckets))
        return [{"id": tweet_id, "text": text, "probability_positive": -negated}
                for negated, _, tweet_id, text in kept]

    def _payload(self, kind: str, now: float, share: float, reason: str | None = None) -> dict:
        settings = self.settings
        payload = {
            "type": kind, "instance": self.instance, "job": self.job, "source": self.source,
            "window_seconds": settings.window_seconds,
            "window_start": rfc3339(now - settings.window_seconds), "window_end": rfc3339(now),
            "tweets": self.tweets, "negative": self.negative, "negative_share": round(share, 4),
            "threshold": settings.negative_share, "resolve_below": round(settings.resolve_below, 4),
            "min_tweets": settings.min_tweets, "model_version": self._model_version,
            "evidence": self.evidence(now),
        }
        if kind == RESOLVED:
            payload["reason"] = reason
            payload["alert_started"] = rfc3339(self._alert_started) if self._alert_started is not None else None
        return payload

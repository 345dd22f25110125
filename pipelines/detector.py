"""One brand's bad-buzz detector: closed buckets in, in event-time order; alerts out.

For each bucket that closes (ends at ``t``), over the brand's own history:

- the **baseline** is the trailing ``baseline_hours`` before the longest test window (so the window
  never tests against itself), without the buckets of an alert (a buzz does not become normal by
  lasting); no decision before it spans ``min_baseline_hours`` and holds ``min_baseline_tweets``;
- the **share tests** compare the negative share of each window (``windows_hours``, ending at ``t``)
  and of the CUSUM run with the baseline's share (``statistics.share_z``); one fires when its z
  reaches ``z_alert``, its share exceeds the baseline's by ``min_effect`` and it holds
  ``min_window_tweets`` (the CUSUM run only once longer than the longest window);
- the **volume test** compares each window's negative count with the same hours of the previous
  days (the brand's daily cycle), or the baseline's mean rate without them; it fires at ``z_alert``
  when the count is ``volume_ratio`` times the usual and at least ``min_volume_negative``;
- **confirmation**: a test must fire in ``confirm_buckets`` consecutive buckets;
- **hysteresis**: an alert stays open while a test of the shortest window (share or volume) is at
  ``z_resolve`` or more, and resolves
  after ``resolve_buckets`` consecutive buckets below it (one ``resolved`` message, same alert id);
  a new alert waits ``cooldown_hours`` after a resolution.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from sentiment.event_time import rfc3339

from . import alerts, drivers, statistics
from .buckets import Bucket, most_negative
from .settings import DetectionSettings

WARMING, QUIET, ALERT, COOLDOWN = "warming", "quiet", "alert", "cooldown"


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    tweets: int
    negative: int

    @property
    def share(self) -> float:
        return self.negative / self.tweets if self.tweets else 0.0


@dataclass(frozen=True)
class Test:
    name: str  # "share" or "volume"
    z: float
    span: Span
    fires: bool
    expected_negative: float | None = None


@dataclass(frozen=True)
class Report:
    """What one closed bucket looked like and what was decided (the backtest's plot and summary)."""

    brand: str
    start: float
    end: float
    tweets: int
    negative: int
    baseline_share: float | None
    baseline_tau: float | None
    share_z: float | None
    volume_z: float | None
    state: str


class BrandDetector:
    def __init__(self, brand: str, settings: DetectionSettings):
        self.brand, self.settings = brand, settings
        self.history: deque[Bucket] = deque(maxlen=settings.history_buckets)
        self.closed_until: float | None = None  # end of the last closed bucket
        self.first_data: float | None = None  # start of the first bucket with tweets (since the last gap)
        self.cusum = statistics.Cusum()
        self.alert: dict | None = None  # the open alert's bad_buzz payload
        self.calm = 0
        self.streak = 0  # consecutive buckets in which a test fired
        self.quiet_until = -math.inf
        self.late = self.too_late = 0

    # -- input ---------------------------------------------------------------------------------------

    def close(self, bucket: Bucket) -> tuple[list[dict], Report]:
        """Decide on the next bucket (its start must be ``closed_until``, or anything at the first one)."""
        size = self.settings.bucket_seconds
        if self.closed_until is not None and bucket.start != self.closed_until:
            raise ValueError(f"bucket {bucket.start} does not follow {self.closed_until}")
        self.history.append(bucket.seal())
        self.closed_until = bucket.start + size
        if bucket.tweets and self.first_data is None:
            self.first_data = bucket.start
        return self._decide()

    def skip_gap(self, start: float) -> None:
        """Nothing happened between ``closed_until`` and ``start``: a gap longer than the whole history
        leaves nothing to compare with, so jump over it and start the brand's history again."""
        size = self.settings.bucket_seconds
        if self.closed_until is None or start - self.closed_until <= size * self.history.maxlen:
            return
        self.history.clear()
        self.first_data = None
        self.cusum.reset()
        self.closed_until = start

    def add_late(self, start: float, tweet) -> bool:
        """A tweet whose bucket was already decided: counted in that bucket for later baselines."""
        for bucket in reversed(self.history):
            if bucket.start == start:
                bucket.add(tweet)
                bucket.late += 1
                self.late += 1
                return True
        self.too_late += 1
        return False

    # -- the decision ----------------------------------------------------------------------------------

    def _decide(self) -> tuple[list[dict], Report]:
        s = self.settings
        now_bucket = self.history[-1]
        end = now_bucket.start + s.bucket_seconds
        baseline = self._baseline(end)
        sent: list[dict] = []
        if baseline is None:
            state = ALERT if self.alert else WARMING
            if self.alert:  # the baseline is gone (a long gap): nothing to hold the alert open
                sent.append(self._resolve(end, [], None))
                state = COOLDOWN
            return sent, Report(self.brand, now_bucket.start, end, now_bucket.tweets, now_bucket.negative,
                                None, None, None, None, state)
        base_span, base_buckets, tau2 = baseline
        p0 = base_span.share
        self.cusum.update(now_bucket.start, now_bucket.negative, now_bucket.tweets, p0, s.cusum_slack)
        tests = self._share_tests(end, base_span, tau2) + self._volume_tests(end, base_span)
        share_z = max((t.z for t in tests if t.name == "share"), default=0.0)
        volume_z = max((t.z for t in tests if t.name == "volume"), default=0.0)
        firing = [t for t in tests if t.fires]
        # what holds an alert open: the shortest window (the longer ones and the run remember the buzz for hours)
        shortest = self.settings.buckets(min(s.windows_hours)) * s.bucket_seconds
        holding = max((t.z for t in tests if t.span.end - t.span.start == shortest), default=0.0)
        self.streak = self.streak + 1 if firing else 0
        if self.alert is None:
            if firing and self.streak >= s.confirm_buckets and end >= self.quiet_until:
                deciding = max(firing, key=lambda t: t.z)
                sent.append(self._open(end, deciding, base_span, base_buckets, share_z, volume_z, p0))
        elif holding < s.z_resolve:
            self.calm += 1
            if self.calm >= s.resolve_buckets:
                sent.append(self._resolve(end, tests, base_span))
        else:
            self.calm = 0
        if self.alert is not None:
            now_bucket.in_alert = True
        state = ALERT if self.alert else (COOLDOWN if end < self.quiet_until else QUIET)
        report = Report(self.brand, now_bucket.start, end, now_bucket.tweets, now_bucket.negative, round(p0, 4),
                        round(math.sqrt(tau2), 4), round(share_z, 3), round(volume_z, 3), state)
        return sent, report

    def _baseline(self, end: float) -> tuple[Span, list[Bucket], float] | None:
        s = self.settings
        longest = s.buckets(max(s.windows_hours))
        size = s.bucket_seconds
        base_end = end - longest * size
        base_start = base_end - s.baseline_hours * 3600
        if self.first_data is None or base_end - max(self.first_data, base_start) < s.min_baseline_hours * 3600:
            return None
        buckets = [b for b in self.history if base_start <= b.start < base_end and not b.in_alert]
        tweets, negative = sum(b.tweets for b in buckets), sum(b.negative for b in buckets)
        if tweets < max(s.min_baseline_tweets, 1):
            return None
        span = Span(max(self.first_data, base_start), base_end, tweets, negative)
        # the spread of the shortest window's share across the baseline: blocks of that length
        per_block = s.buckets(min(s.windows_hours))
        blocks = [(sum(b.negative for b in buckets[i:i + per_block]), sum(b.tweets for b in buckets[i:i + per_block]))
                  for i in range(0, len(buckets), per_block)]
        tau2 = statistics.excess_variance(blocks, span.share, s.min_tau)
        return span, buckets, tau2

    def _window(self, end: float, hours: float) -> Span:
        count = self.settings.buckets(hours)
        chosen = list(self.history)[-count:]
        return Span(end - count * self.settings.bucket_seconds, end, sum(b.tweets for b in chosen),
                    sum(b.negative for b in chosen))

    def _share_tests(self, end: float, base: Span, tau2: float) -> list[Test]:
        s = self.settings
        spans = [self._window(end, hours) for hours in s.windows_hours]
        # the run since the CUSUM left 0 picks its own start: tested only once longer than the longest window,
        # for slow climbs (a short run is the best-looking start among many: chance)
        if self.cusum.start is not None and end - self.cusum.start > max(s.windows_hours) * 3600:
            spans.append(Span(self.cusum.start, end, self.cusum.tweets, self.cusum.negative))
        tests = []
        for span in spans:
            z = statistics.share_z(span.negative, span.tweets, base.negative, base.tweets, tau2)
            fires = (z >= s.z_alert and span.tweets >= s.min_window_tweets
                     and span.share - base.share >= s.min_effect)
            tests.append(Test("share", z, span, fires))
        return tests

    def _volume_tests(self, end: float, base: Span) -> list[Test]:
        s = self.settings
        size = s.bucket_seconds
        by_start = {b.start: b for b in self.history}
        base_hours = (base.end - base.start) / 3600
        tests = []
        for hours in s.windows_hours:
            span = self._window(end, hours)
            usual, days = [], 0
            for day in (1, 2):
                starts = [span.start - day * 86_400 + i * size for i in range(s.buckets(hours))]
                same = [by_start.get(start) for start in starts]
                if all(b is not None and not b.in_alert for b in same):
                    usual.append(sum(b.negative for b in same))
            if usual:
                expected, days = sum(usual) / len(usual), len(usual)
            else:
                expected, days = base.negative / base_hours * hours, max(1, round(base_hours / 24))
            z = statistics.volume_z(span.negative, expected, s.volume_cv, days)
            fires = (z >= s.z_alert and span.negative >= s.min_volume_negative
                     and span.negative >= s.volume_ratio * max(expected, 0.5))
            tests.append(Test("volume", z, span, fires, expected))
        return tests

    # -- the messages ----------------------------------------------------------------------------------

    def _window_buckets(self, span: Span) -> list[Bucket]:
        return [b for b in self.history if span.start <= b.start < span.end]

    def _open(self, end: float, deciding: Test, base: Span, base_buckets: list[Bucket], share_z: float,
              volume_z: float, p0: float) -> dict:
        window = self._window_buckets(deciding.span)
        for bucket in window:  # the buzz started before it was decided: keep it out of baselines too
            bucket.in_alert = True
        negative_window = drivers.total(b.terms for b in window)
        negative_base = drivers.total(b.terms for b in base_buckets)
        expected = deciding.expected_negative
        if expected is None:
            expected = p0 * deciding.span.tweets
        payload = alerts.bad_buzz(
            brand=self.brand, detected_at=rfc3339(end), window=deciding.span, baseline=base, test=deciding.name,
            score=deciding.z, share_z=share_z, volume_z=volume_z, expected_negative=expected,
            model_version=next((b.model_version for b in reversed(window) if b.model_version), None),
            evidence=most_negative(window),
            drivers=drivers.over_represented(negative_window, deciding.span.negative, negative_base, base.negative))
        self.alert, self.calm = payload, 0
        return payload

    def _resolve(self, end: float, tests: list[Test], base: Span | None) -> dict:
        s = self.settings
        opened = self.alert
        window = self._window(end, min(s.windows_hours))
        share_z = max((t.z for t in tests if t.name == "share"), default=None)
        volume_z = max((t.z for t in tests if t.name == "volume"), default=None)
        payload = alerts.resolved(opened, detected_at=rfc3339(end), window=window, baseline=base,
                                  share_z=share_z, volume_z=volume_z)
        self.alert, self.calm = None, 0
        self.quiet_until = end + s.cooldown_hours * 3600
        self.cusum.reset()
        return payload

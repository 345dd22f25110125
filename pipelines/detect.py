"""The detection as Beam transforms, the same in batch (backtest) and streaming:

    scored tweets --ParseScored--> ScoredTweet (event-timestamped)        rejected: {reason, error, row}
                  --DetectBadBuzz--> alerts (checked payloads)             buckets: one Report per bucket

``DetectBadBuzz`` keys tweets by brand and runs one ``BrandDetector`` per brand in a stateful DoFn
(global window): the brand's tweets wait in a bag until their bucket closes, then buckets are
decided one by one in event-time order, empty ones included. A bucket closes ``allowed_lateness``
after its end by the event clock:

- ``watermark`` (default): an event-time timer, so a bucket closes once Beam's watermark says no
  earlier tweet is still expected. In streaming the timer is set for the earliest waiting bucket, and
  while an alert is open for the next one even without tweets (a buzz that ends in silence
  resolves). In batch the watermark only moves once the whole input is read, and every bucket is then
  decided in order;
- ``data``: the latest event time seen for the brand, for replays of history published faster than
  real time on a runner whose Pub/Sub watermark is the wall clock (the DirectRunner's).

A tweet that arrives after its bucket closed is counted in that bucket for later baselines, or, older
than the brand's history, in none; either way it goes to the ``late`` output (and the metrics
``late_tweets`` / ``too_late_tweets``): the decision already taken is never revisited, and nothing
is dropped unaccounted for.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import CombineFn
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    CombiningValueStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.transforms.window import TimestampedValue

from sentiment.errors import Rejected
from sentiment.payloads import decode_json

from . import buckets as bucketing
from .detector import BrandDetector
from .events import BadTweet, ScoredTweet, parse_scored
from .settings import DetectionSettings

log = logging.getLogger(__name__)

NAMESPACE = "bad_buzz"
REJECTED, BUCKETS, LATE = "rejected", "buckets", "late"
MAX_MESSAGE_VALUES = 4_096  # a scored tweet is about 15 values, its user object a few dozen
_KEY, _TIMESTAMP = beam.DoFn.KeyParam, beam.DoFn.TimestampParam


class ParseScored(beam.DoFn):
    """A scored tweet (decoded dict, or the bytes of a Pub/Sub message) to a ``ScoredTweet``; anything
    else to ``rejected``. ``element_time``: the element's timestamp is the event time (the stream)."""

    def __init__(self, brand_field: str = "brand", element_time: bool = False):
        self.brand_field, self.element_time = brand_field, element_time
        self.rejected = Metrics.counter(NAMESPACE, "rejected_tweets")

    def process(self, element, timestamp=_TIMESTAMP):
        try:
            row = element
            if isinstance(element, bytes | bytearray):
                row = decode_json(bytes(element), MAX_MESSAGE_VALUES)
            tweet = parse_scored(row, self.brand_field, float(timestamp) if self.element_time else None)
        except (BadTweet, Rejected) as error:
            self.rejected.inc()
            reason = error.reason
            yield pvalue.TaggedOutput(REJECTED, {"reason": reason, "error": str(error), "row": _shown(element)})
            return
        yield tweet if self.element_time else TimestampedValue(tweet, tweet.time)


def _shown(element) -> str:
    text = element.decode("utf-8", "replace") if isinstance(element, bytes | bytearray) else repr(element)
    return text[:500]


class _Earliest(CombineFn):
    def create_accumulator(self):
        return math.inf

    def add_input(self, accumulator, value):
        return min(accumulator, value)

    def merge_accumulators(self, accumulators):
        return min(accumulators, default=math.inf)

    def extract_output(self, accumulator):
        return accumulator


class _Latest(_Earliest):
    def create_accumulator(self):
        return -math.inf

    def add_input(self, accumulator, value):
        return max(accumulator, value)

    def merge_accumulators(self, accumulators):
        return max(accumulators, default=-math.inf)


# The DoFn's state and timer, and the parameters that hand them to its methods (module level: built once)
PENDING = BagStateSpec("pending", PickleCoder())  # (bucket start, tweet) of buckets not decided yet
DETECTOR = ReadModifyWriteStateSpec("detector", PickleCoder())
CLOSED_UNTIL = ReadModifyWriteStateSpec("closed_until", PickleCoder())  # small: read for every tweet
EARLIEST = CombiningValueStateSpec("earliest", PickleCoder(), _Earliest())  # earliest pending bucket start
LATEST = CombiningValueStateSpec("latest", PickleCoder(), _Latest())  # latest event time seen
CLOSE = TimerSpec("close", TimeDomain.WATERMARK)
_PENDING, _DETECTOR, _CLOSED_UNTIL = (beam.DoFn.StateParam(s) for s in (PENDING, DETECTOR, CLOSED_UNTIL))
_EARLIEST, _LATEST, _CLOSE = beam.DoFn.StateParam(EARLIEST), beam.DoFn.StateParam(LATEST), beam.DoFn.TimerParam(CLOSE)


class DetectDoFn(beam.DoFn):
    def __init__(self, settings: DetectionSettings, streaming: bool):
        self.settings, self.streaming = settings, streaming
        self.late = Metrics.counter(NAMESPACE, "late_tweets")
        self.too_late = Metrics.counter(NAMESPACE, "too_late_tweets")
        self.alerts = Metrics.counter(NAMESPACE, "alerts")

    def process(self, element, pending=_PENDING, detector=_DETECTOR, closed_until=_CLOSED_UNTIL, earliest=_EARLIEST,
                latest=_LATEST, timer=_CLOSE):
        brand, tweet = element
        size, lateness = self.settings.bucket_seconds, self.settings.lateness_seconds
        start = math.floor(tweet.time / size) * size
        until = closed_until.read()
        if until is not None and start < until:
            state = detector.read()
            yield self._late(state, start, tweet)
            detector.write(state)
            return
        pending.add((start, tweet))
        earliest.add(start)
        latest.add(tweet.time)
        if self.settings.event_clock == "data":
            yield from self._close(brand, latest.read() - lateness, pending, detector, closed_until, earliest)
        elif self.streaming:
            timer.set(earliest.read() + size + lateness)
        else:  # batch: fires once the input is read; the latest bucket's end covers every pending one
            timer.set(math.floor(latest.read() / size) * size + size + lateness)

    @on_timer(CLOSE)
    def on_close(self, key=_KEY, fired=_TIMESTAMP, pending=_PENDING, detector=_DETECTOR, closed_until=_CLOSED_UNTIL,
                 earliest=_EARLIEST, timer=_CLOSE):
        size, lateness = self.settings.bucket_seconds, self.settings.lateness_seconds
        yield from self._close(key, float(fired) - lateness, pending, detector, closed_until, earliest)
        if not self.streaming:
            return
        waiting = earliest.read()
        state = detector.read()
        if math.isfinite(waiting):
            timer.set(waiting + size + lateness)
        elif state is not None and state.alert is not None:  # silence: the next bucket still closes
            timer.set(state.closed_until + size + lateness)

    def _late(self, state: BrandDetector, start: float, tweet: ScoredTweet):
        counted = state.add_late(start, tweet)
        (self.late if counted else self.too_late).inc()
        return pvalue.TaggedOutput(LATE, {"brand": tweet.brand, "id": tweet.id, "bucket_start": start,
                                          "in_baseline": counted})

    def _close(self, brand, limit: float, pending, detector, closed_until, earliest):
        """Decide every bucket that ends at or before ``limit``, in order, empty ones included."""
        size = self.settings.bucket_seconds
        waiting = list(pending.read())
        if not waiting and closed_until.read() is None:
            return
        state = detector.read() or BrandDetector(brand, self.settings)
        first = min((start for start, _ in waiting), default=math.inf)
        if state.closed_until is None:
            if not math.isfinite(first) or first + size > limit:
                return
            state.closed_until = first
        due, kept = defaultdict(list), []
        for start, tweet in waiting:
            if start < state.closed_until:  # (a bucket decided meanwhile)
                yield self._late(state, start, tweet)
            elif start + size <= limit:
                due[start].append(tweet)
            else:
                kept.append((start, tweet))
        start = state.closed_until
        decided = False
        while start + size <= limit:
            if not due and state.alert is None:  # nothing left to decide until the next tweet
                break
            if start not in due and due:
                state.skip_gap(min(due))
                start = max(start, state.closed_until)
            sent, report = state.close(bucketing.fill(start, due.pop(start, [])))
            decided = True
            end = start + size
            for payload in sent:
                self.alerts.inc()
                yield TimestampedValue(payload, end)
            yield pvalue.TaggedOutput(BUCKETS, TimestampedValue(report, end))
            start = end
        if not decided:
            return
        for start, tweets in due.items():  # (none: every due bucket is decided above)
            kept.extend((start, tweet) for tweet in tweets)
        detector.write(state)
        closed_until.write(state.closed_until)
        pending.clear()
        earliest.clear()
        for item in kept:
            pending.add(item)
            earliest.add(item[0])


class DetectBadBuzz(beam.PTransform):
    """ScoredTweets (timestamped) in; alert payloads out (main), a Report per decided bucket (``buckets``) and
    the tweets that came after their bucket was decided (``late``)."""

    def __init__(self, settings: DetectionSettings, streaming: bool = False):
        super().__init__()
        self.settings, self.streaming = settings, streaming

    def expand(self, tweets):
        return (tweets
                | "ByBrand" >> beam.Map(lambda tweet: (tweet.brand, tweet)).with_output_types(
                    tuple[str, ScoredTweet])
                | "Detect" >> beam.ParDo(DetectDoFn(self.settings, self.streaming)).with_outputs(
                    BUCKETS, LATE, main="alerts"))


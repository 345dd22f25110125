"""In-process aggregation of the custom metrics, and the time series one flush writes.

Every metric is a counter or a distribution, CUMULATIVE from one start time, the instance's: a flush
reads the running totals and never resets them. So a point that fails to be written loses nothing (the
next point carries the same counts and more) and a point written twice counts nothing twice. There are
no gauges: a per-instance sample (say, one instance's negative share) means nothing once summed over
instances, while cumulative counts add up to the fleet's.

Nothing here is thread-safe or does I/O: ``Telemetry`` holds one lock around it, and exporters
(``monitoring.py``) turn ``Series`` into API requests or log lines.
"""

from __future__ import annotations

import bisect
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from . import descriptors as md

log = logging.getLogger(__name__)

# Cloud Monitoring refuses a point less than 5 s after the previous point of its series ("written more
# frequently than the maximum sampling period"); exactly 5 s has been seen refused too, hence 6.
MIN_POINT_SPACING_SECONDS = 6.0
# A CUMULATIVE point needs a non-empty interval: its end must come after its start.
MIN_INTERVAL_SECONDS = 0.001
# Caps the series one metric can grow per instance (a caller passing free text as a reason would
# otherwise create a series per distinct text); further label sets are counted under "other".
MAX_LABEL_SETS_PER_METRIC = 100
OVERFLOW_LABEL = "other"
MAX_CACHED_KEYS = 10_000
MAX_LABEL_CHARS = 128
_UNSAFE_LABEL_CHARS = re.compile(r"[^A-Za-z0-9._:/-]")


@dataclass(frozen=True)
class ExponentialBuckets:
    """Bucket i (1..n) holds [scale·growth^(i-1), scale·growth^i); 0 is underflow, n+1 overflow."""

    num_finite_buckets: int
    growth_factor: float
    scale: float

    def lower_bound(self, index: int) -> float:
        return self.bounds[index - 1]

    @cached_property
    def bounds(self) -> list[float]:
        """The n+1 finite bounds, computed once: a bisection is cheaper than a logarithm per value."""
        return [self.scale * self.growth_factor ** i for i in range(self.num_finite_buckets + 1)]

    def index(self, value: float) -> int:
        if not value >= self.scale:  # also catches NaN
            return 0
        return bisect.bisect_right(self.bounds, value)

    def to_dict(self) -> dict:
        return {"exponential_buckets": {"num_finite_buckets": self.num_finite_buckets,
                                        "growth_factor": self.growth_factor, "scale": self.scale}}


@dataclass(frozen=True)
class LinearBuckets:
    """Bucket i (1..n) holds [offset + width·(i-1), offset + width·i); 0 is underflow, n+1 overflow."""

    num_finite_buckets: int
    width: float
    offset: float

    @cached_property
    def bounds(self) -> list[float]:
        return [self.offset + self.width * i for i in range(self.num_finite_buckets + 1)]

    def index(self, value: float) -> int:
        if not value >= self.offset:
            return 0
        return bisect.bisect_right(self.bounds, value)

    def to_dict(self) -> dict:
        return {"linear_buckets": {"num_finite_buckets": self.num_finite_buckets,
                                   "width": self.width, "offset": self.offset}}


# Bucket layouts never change for a series' lifetime (the API rejects a cumulative distribution whose
# buckets move). Latency: one tweet scores in ~0.1-0.4 ms on the committed model; √2 steps from 10 µs
# give two buckets per doubling up to 655 ms. Probability: twenty 0.05 steps, enough to see drift.
# Model load: seconds, doubling from 10 ms to ~11 min.
BUCKETS: dict[str, ExponentialBuckets | LinearBuckets] = {
    md.SCORING_LATENCY.type: ExponentialBuckets(32, math.sqrt(2.0), 0.01),
    md.PROBABILITY_POSITIVE.type: LinearBuckets(20, 0.05, 0.0),
    md.MODEL_LOAD_LATENCY.type: ExponentialBuckets(16, 2.0, 0.01),
}


class Distribution:
    """Count, mean, sum of squared deviations (Welford: stable over millions of points) and bucket counts."""

    __slots__ = ("buckets", "count", "mean", "sum_of_squared_deviation", "bucket_counts", "_bounds")

    def __init__(self, buckets: ExponentialBuckets | LinearBuckets):
        self.buckets = buckets
        self.count = 0
        self.mean = 0.0
        self.sum_of_squared_deviation = 0.0
        self.bucket_counts = [0] * (buckets.num_finite_buckets + 2)
        self._bounds = buckets.bounds

    def add(self, value: float) -> None:
        """``value`` must be a finite float (the aggregator checks): NaN would poison the mean."""
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.sum_of_squared_deviation += delta * (value - self.mean)
        self.bucket_counts[bisect.bisect_right(self._bounds, value)] += 1  # = buckets.index(value), inlined

    def to_dict(self) -> dict:
        """The API's Distribution value (a copy: later ``add`` calls do not change it)."""
        return {"count": self.count, "mean": self.mean, "sum_of_squared_deviation": self.sum_of_squared_deviation,
                "bucket_options": self.buckets.to_dict(), "bucket_counts": list(self.bucket_counts)}


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Series:
    """One point of one time series, as a flush writes it."""

    descriptor: md.MetricDescriptor
    labels: dict[str, str]
    start_time: float  # epoch seconds
    end_time: float
    value: int | float | dict  # dict: a Distribution value

    @property
    def value_field(self) -> str:
        return {"INT64": "int64_value", "DOUBLE": "double_value",
                "DISTRIBUTION": "distribution_value"}[self.descriptor.value_type]

    def to_dict(self) -> dict:
        """A readable, JSON-ready rendering (the log exporter's), times in RFC 3339."""
        return {"metric": {"type": self.descriptor.type, "labels": dict(self.labels)},
                "metric_kind": self.descriptor.metric_kind, "value_type": self.descriptor.value_type,
                "interval": {"start_time": rfc3339(self.start_time), "end_time": rfc3339(self.end_time)},
                "value": {self.value_field: self.value}}


def task_resource(project: str, location: str, job: str, task_id: str) -> dict:
    """The monitored resource of every point (see ``descriptors.RESOURCE_TYPE`` for why generic_task)."""
    labels = {"project_id": project, "location": location, "namespace": md.NAMESPACE, "job": job, "task_id": task_id}
    assert tuple(labels) == md.RESOURCE_LABELS
    return {"type": md.RESOURCE_TYPE, "labels": labels}


def clean_label(value: object) -> str:
    text = _UNSAFE_LABEL_CHARS.sub("_", str(value).strip())[:MAX_LABEL_CHARS]
    return text or "unknown"


def point_end_time(now: float, start_time: float, previous_end: float | None) -> float:
    """The end time of the next flush's points: now, unless the API's write rules need a later one.

    Within five minutes of the future is accepted, so a shutdown flush just after a periodic one is
    stamped a few seconds ahead rather than refused or skipped.
    """
    end = max(now, start_time + MIN_INTERVAL_SECONDS)
    if previous_end is not None:
        end = max(end, previous_end + MIN_POINT_SPACING_SECONDS)
    return end


LabelKey = tuple[str, tuple[tuple[str, str], ...]]


class MetricsAggregator:
    """Running totals since ``start_time``, one per (metric, label set). The caller serialises access.

    ``key`` resolves labels to a series key once (checked against the descriptor, cleaned, capped) and
    caches it; ``add`` and ``add_value`` are the cheap per-event operations on a resolved key.
    """

    def __init__(self, start_time: float, max_label_sets: int = MAX_LABEL_SETS_PER_METRIC):
        self.start_time = start_time
        self._max_label_sets = max_label_sets
        self._counters: dict[LabelKey, int] = {}
        self._distributions: dict[LabelKey, Distribution] = {}
        self._label_sets: dict[str, set[LabelKey]] = {}  # metric type -> label sets handed out
        self._keys: dict[tuple, LabelKey] = {}  # raw labels -> key

    def count(self, descriptor: md.MetricDescriptor, labels: dict[str, str], amount: int = 1) -> None:
        if descriptor.metric_kind != "CUMULATIVE" or descriptor.value_type != "INT64":
            raise ValueError(f"{descriptor.name} is not a counter")
        self.add(self.key(descriptor, labels), amount)

    def observe(self, descriptor: md.MetricDescriptor, labels: dict[str, str], value: float) -> None:
        if descriptor.value_type != "DISTRIBUTION":
            raise ValueError(f"{descriptor.name} is not a distribution")
        self.add_value(self.key(descriptor, labels), value)

    def add(self, key: LabelKey, amount: int = 1) -> None:
        self._counters[key] = self._counters.get(key, 0) + amount

    def add_value(self, key: LabelKey, value: float) -> None:
        value = float(value)  # first: a value that is not a number must not leave an empty distribution
        if not math.isfinite(value):
            raise ValueError(f"{key[0]}: {value} cannot be recorded")
        distribution = self._distributions.get(key)
        if distribution is None:
            distribution = self._distributions[key] = Distribution(BUCKETS[key[0]])
        distribution.add(value)

    def snapshot(self, end_time: float) -> list[Series]:
        """Every cumulative series as it stands, stamped [start_time, end_time]."""
        series = [Series(md.BY_TYPE[kind], dict(labels), self.start_time, end_time, total)
                  for (kind, labels), total in self._counters.items()]
        series += [Series(md.BY_TYPE[kind], dict(labels), self.start_time, end_time, distribution.to_dict())
                   for (kind, labels), distribution in self._distributions.items()]
        return series

    def key(self, descriptor: md.MetricDescriptor, labels: dict[str, str]) -> LabelKey:
        raw = descriptor.type, tuple(labels.items())
        key = self._keys.get(raw)
        if key is None:
            key = self._new_key(descriptor, labels)
            if len(self._keys) < MAX_CACHED_KEYS:  # free-text labels must not grow the cache forever
                self._keys[raw] = key
        return key

    def _new_key(self, descriptor: md.MetricDescriptor, labels: dict[str, str]) -> LabelKey:
        if labels.keys() != descriptor.labels.keys():
            raise ValueError(f"{descriptor.name} takes labels {sorted(descriptor.labels)}, got {sorted(labels)}")
        known = self._label_sets.setdefault(descriptor.type, set())
        key = descriptor.type, tuple(sorted((name, clean_label(value)) for name, value in labels.items()))
        if key not in known and len(known) >= self._max_label_sets:
            key = descriptor.type, tuple((name, OVERFLOW_LABEL) for name in sorted(labels))
            if key not in known:
                log.warning("metric %s reached %d label sets; further ones are counted as %r",
                            descriptor.name, self._max_label_sets, OVERFLOW_LABEL)
        known.add(key)
        return key


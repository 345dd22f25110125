"""Telemetry of the scoring functions: custom metrics, one object per process.

The request path calls ``record_*`` (a lock held for microseconds, no I/O) and, when its work is done,
``end_of_request()``. That is the only moment an instance is sure to have CPU on Cloud Functions, so
it is where, once per ``METRICS_FLUSH_SECONDS``, the aggregates are written:

- ``METRICS_EXPORTER=monitoring`` with a project: Cloud Monitoring (``export.MonitoringExporter``),
  one flush never blocking longer than ``flush_timeout``;
- ``log``, or ``monitoring`` without a project (the local default): one structured log line per flush;
- ``none``: nothing is written.

Only counts and distributions, which add up over instances: nothing here keeps a window of tweets or
decides that a buzz started (that needs every instance's tweets: the pipeline in ``pipelines/`` does it
over ``tweets-scored``). ``shutdown()`` (from a SIGTERM handler) writes the last points. No method
raises into its caller: failures are logged, and failed metric writes are themselves counted.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import TextIO

from ..config import Config
from ..logs import StructuredLog
from ..prediction import Prediction
from . import descriptors as md
from .aggregation import MetricsAggregator, clean_label, point_end_time, task_resource
from .export import FLUSH_TIMEOUT_SECONDS, ExportReport, LogExporter, MonitoringExporter

log = logging.getLogger(__name__)

# end_of_request looks at the flush clock at most this often: under load most requests then cost a
# float comparison.
HOUSEKEEPING_SECONDS = 1.0
MAX_ROUTES = 1_000  # cached (source, sentiment, version) combinations; a handful in practice
MAX_SOURCES = 8  # 'http' and 'pubsub' are expected; more means a caller bug, not a reason for more series
OTHER_SOURCE = "other"


def new_instance_id() -> str:
    """Random per process: every instance (and every worker process) writes its own series."""
    return uuid.uuid4().hex[:16]


class Telemetry:
    """``clock``, ``metric_client`` and ``log_stream`` are injectable for tests and benchmarks."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time, metric_client=None,
                 instance_id: str | None = None,
                 job: str | None = None, flush_timeout: float = FLUSH_TIMEOUT_SECONDS,
                 log_stream: TextIO | None = None):
        self.config = config
        self.instance_id = instance_id or new_instance_id()
        self.job = job or config.service_name
        self.resource = task_resource(config.project, config.region, self.job, self.instance_id)
        self._clock = clock
        self._flush_seconds = config.metrics_flush_seconds
        self._flush_timeout = flush_timeout
        self._structured_log = StructuredLog(log_stream)
        self._exporter = self._choose_exporter(metric_client)
        # _lock guards the aggregates (held briefly, never during I/O). Re-entrant because shutdown() may
        # run in a SIGTERM handler that interrupted this very thread inside a record_* call.
        # _housekeeping makes one thread at a time flush while the others go on without waiting.
        self._lock = threading.RLock()
        self._housekeeping = threading.Lock()
        started = clock()
        self._aggregator = MetricsAggregator(start_time=started)
        self._sources: set[str] = set()
        self._routes: dict[tuple[str, str, str], tuple] = {}
        self._last_flush_at = started
        self._next_housekeeping = started
        self._last_end: float | None = None
        self._closed = False
        self.last_report: ExportReport | None = None  # the latest flush's outcome, for diagnostics

    def _choose_exporter(self, metric_client):
        exporter = self.config.metrics_exporter
        if exporter == "none":
            return None
        if exporter == "monitoring" and self.config.project:
            return MonitoringExporter(self.config.project, self.resource, client=metric_client,
                                      endpoint=self.config.monitoring_endpoint, timeout=self._flush_timeout)
        if exporter == "monitoring":
            log.warning("METRICS_EXPORTER=monitoring but GOOGLE_CLOUD_PROJECT is empty: metrics go to the log")
        return LogExporter(self.resource, self._structured_log)

    # -- the request path: no I/O ------------------------------------------------------------------

    def record_scored(self, source: str, prediction: Prediction, latency_ms: float) -> None:
        try:
            # read every input before counting anything: a bad one must not leave a half-recorded tweet
            version, sentiment = str(prediction.model_version), str(prediction.sentiment)
            probability, latency_ms = float(prediction.probability_positive), float(latency_ms)
            if not (math.isfinite(probability) and math.isfinite(latency_ms)):
                raise ValueError(f"not a number: probability {probability}, latency {latency_ms}")
            with self._lock:
                route = self._routes.get((source, sentiment, version)) or self._route(source, sentiment, version)
                scored, latency, confidence = route
                self._aggregator.add(scored)
                self._aggregator.add_value(latency, latency_ms)
                self._aggregator.add_value(confidence, probability)
        except Exception:
            log.exception("telemetry: record_scored failed")

    def _route(self, source: str, sentiment: str, version: str) -> tuple:
        """Where a scored tweet is counted: resolved once per (source, sentiment, version), then cached."""
        clean = self._source(source)
        aggregator = self._aggregator
        route = (aggregator.key(md.TWEETS_SCORED, {"source": clean, "sentiment": sentiment, "model_version": version}),
                 aggregator.key(md.SCORING_LATENCY, {"source": clean}),
                 aggregator.key(md.PROBABILITY_POSITIVE, {"source": clean, "model_version": version}))
        if len(self._routes) < MAX_ROUTES:
            self._routes[source, sentiment, version] = route
        return route

    def record_rejected(self, source: str, reason: str) -> None:
        self._count("record_rejected", md.REQUESTS_REJECTED, source=source, reason=reason)

    def record_model_load(self, seconds: float, model_version: str) -> None:
        try:
            with self._lock:
                self._aggregator.observe(md.MODEL_LOAD_LATENCY, {"model_version": model_version}, seconds)
        except Exception:
            log.exception("telemetry: record_model_load failed")

    def record_model_load_failure(self, reason: str) -> None:
        self._count("record_model_load_failure", md.MODEL_LOAD_FAILURES, reason=reason)

    def _count(self, what: str, descriptor: md.MetricDescriptor, **labels: str) -> None:
        try:
            with self._lock:
                if "source" in labels:
                    labels["source"] = self._source(labels["source"])
                self._aggregator.count(descriptor, labels)
        except Exception:
            log.exception("telemetry: %s failed", what)

    def _source(self, source: str) -> str:
        source = clean_label(source)
        if source not in self._sources:
            if len(self._sources) >= MAX_SOURCES:
                return OTHER_SOURCE
            self._sources.add(source)
        return source

    # -- after the answer: the flush when due -------------------------------------------------------

    def end_of_request(self) -> None:
        """Writes the metrics when the flush interval has elapsed. Cheap otherwise."""
        try:
            now = self._clock()
            if self._next_housekeeping - HOUSEKEEPING_SECONDS <= now < self._next_housekeeping:
                return  # (a clock that stepped back falls outside the range and is not held back)
            if not self._housekeeping.acquire(blocking=False):
                return  # another request is flushing: nothing for this one to wait for
            try:
                self._next_housekeeping = now + HOUSEKEEPING_SECONDS
                if not 0 <= now - self._last_flush_at < self._flush_seconds:
                    self._flush(now)
            finally:
                self._housekeeping.release()
        except Exception:
            log.exception("telemetry: end_of_request failed")

    def shutdown(self) -> None:
        """Writes the final points. Idempotent; bounded by the flush timeout."""
        try:
            # a flush in another thread ends within its timeout; do not wait forever for a stuck one
            acquired = self._housekeeping.acquire(timeout=self._flush_timeout + 1.0)
            try:
                if self._closed:
                    return
                self._closed = True
                self._flush(self._clock())
            finally:
                if acquired:
                    self._housekeeping.release()
        except Exception:
            log.exception("telemetry: shutdown failed")

    def _flush(self, now: float) -> None:
        with self._lock:
            end = point_end_time(now, self._aggregator.start_time, self._last_end)
            series = self._aggregator.snapshot(end)
        # the interval restarts even if the write fails: a down API is tried once per interval, not per request
        self._last_flush_at = now
        self._last_end = end
        if self._exporter is None or not series:
            return
        report = self._exporter.export(series)
        self.last_report = report
        if report.failures:
            with self._lock:
                for code, calls in report.failures.items():
                    self._aggregator.count(md.METRIC_WRITE_FAILURES, {"code": code}, calls)


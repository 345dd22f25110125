"""Telemetry of the scoring functions: custom metrics and bad-buzz alerts, one object per process.

The request path calls ``record_*`` (a lock held for microseconds, no I/O) and, when its work is done,
``end_of_request()``. That is the only moment an instance is sure to have CPU on Cloud Functions, so
it is where alerts are published and, once per ``METRICS_FLUSH_SECONDS``, the aggregates are written:

- ``METRICS_EXPORTER=monitoring`` with a project: Cloud Monitoring (``monitoring.MonitoringExporter``),
  one flush never blocking longer than ``flush_timeout``;
- ``log``, or ``monitoring`` without a project (the local default): one structured log line per flush;
- ``none``: nothing is written; alerts still work.

``shutdown()`` (from a SIGTERM handler) resolves an open alert and writes the last points. No method
raises into its caller: failures are logged, and failed metric writes are themselves counted.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ..config import Config
from ..errors import PublishingDisabled
from ..logs import StructuredLog
from ..prediction import NEGATIVE, Prediction
from . import descriptors as md
from .aggregation import MetricsAggregator, Series, clean_label, gauge, point_end_time, task_resource
from .buzz import BAD_BUZZ, BuzzDetector, BuzzSettings, Transition
from .export import FLUSH_TIMEOUT_SECONDS, ExportReport, LogExporter, MonitoringExporter

if TYPE_CHECKING:
    from ..publisher import Publisher

log = logging.getLogger(__name__)

# end_of_request looks at the alerts and the flush clock at most this often: under load most requests
# then cost a float comparison, and an alert is at most this late.
HOUSEKEEPING_SECONDS = 1.0
MAX_ROUTES = 1_000  # cached (source, sentiment, version) combinations; a handful in practice
MAX_SOURCES = 8  # 'http' and 'pubsub' are expected; more means a caller bug, not a reason for more windows
OTHER_SOURCE = "other"


ALERT_PUBLISH_TIMEOUT_SECONDS = 5.0  # it runs at the end of a request: bounded (a failed alert is retried later)


def new_instance_id() -> str:
    """Random per process: every instance (and every worker process) writes its own series."""
    return uuid.uuid4().hex[:16]


def send_alert(publisher: Publisher, topic: str, payload: dict) -> None:
    """An alert or a resolution to the alert topic, awaited (bounded); raises PublishError when not confirmed."""
    future = publisher.publish_json(topic, payload, type=str(payload.get("type")))
    publisher.wait([future], timeout=ALERT_PUBLISH_TIMEOUT_SECONDS)


class Telemetry:
    """``publisher`` publishes the alerts (``publish_alert`` replaces it, for tests)."""

    def __init__(self, config: Config, *, publisher: Publisher | None = None,
                 publish_alert: Callable[[dict], None] | None = None,
                 clock: Callable[[], float] = time.time, metric_client=None, instance_id: str | None = None,
                 job: str | None = None, flush_timeout: float = FLUSH_TIMEOUT_SECONDS,
                 log_stream: TextIO | None = None):
        self.config = config
        self.instance_id = instance_id or new_instance_id()
        self.job = job or config.service_name
        self.resource = task_resource(config.project, config.region, self.job, self.instance_id)
        if publish_alert is None and publisher is not None:
            publish_alert = functools.partial(send_alert, publisher, config.alert_topic)
        self._publish_alert = publish_alert
        self._clock = clock
        self._flush_seconds = config.metrics_flush_seconds
        self._flush_timeout = flush_timeout
        self._buzz_settings = BuzzSettings.from_config(config)
        self._structured_log = StructuredLog(log_stream)
        self._exporter = self._choose_exporter(metric_client)
        # _lock guards the aggregates (held briefly, never during I/O). Re-entrant because shutdown() may
        # run in a SIGTERM handler that interrupted this very thread inside a record_* call.
        # _housekeeping makes one thread at a time flush or publish while the others go on without waiting.
        self._lock = threading.RLock()
        self._housekeeping = threading.Lock()
        started = clock()
        self._aggregator = MetricsAggregator(start_time=started)
        self._detectors: dict[str, BuzzDetector] = {}
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

    def record_scored(self, source: str, prediction: Prediction, latency_ms: float, text: str,
                      tweet_id: str | None = None) -> None:
        try:
            now = self._clock()
            # read every input before counting anything: a bad one must not leave a half-recorded tweet
            version, sentiment = str(prediction.model_version), str(prediction.sentiment)
            probability, latency_ms, text = float(prediction.probability_positive), float(latency_ms), str(text)
            if not (math.isfinite(probability) and math.isfinite(latency_ms)):
                raise ValueError(f"not a number: probability {probability}, latency {latency_ms}")
            with self._lock:
                route = self._routes.get((source, sentiment, version)) or self._route(source, sentiment, version)
                scored, latency, confidence, detector = route
                self._aggregator.add(scored)
                self._aggregator.add_value(latency, latency_ms)
                self._aggregator.add_value(confidence, probability)
                detector.add(now, sentiment == NEGATIVE, probability, version, text, tweet_id)
        except Exception:
            log.exception("telemetry: record_scored failed")

    def _route(self, source: str, sentiment: str, version: str) -> tuple:
        """Where a scored tweet is counted: resolved once per (source, sentiment, version), then cached."""
        clean = self._source(source)
        aggregator = self._aggregator
        route = (aggregator.key(md.TWEETS_SCORED, {"source": clean, "sentiment": sentiment, "model_version": version}),
                 aggregator.key(md.SCORING_LATENCY, {"source": clean}),
                 aggregator.key(md.PROBABILITY_POSITIVE, {"source": clean, "model_version": version}),
                 self._detector(clean))
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
        if source not in self._detectors and len(self._detectors) >= MAX_SOURCES:
            return OTHER_SOURCE
        return source

    def _detector(self, source: str) -> BuzzDetector:
        detector = self._detectors.get(source)
        if detector is None:
            detector = self._detectors[source] = BuzzDetector(
                self._buzz_settings, instance=self.instance_id, job=self.job, source=source)
        return detector

    # -- after the answer: alerts, and the flush when due -------------------------------------------

    def end_of_request(self) -> None:
        """Publishes due alerts; writes the metrics when the flush interval has elapsed. Cheap otherwise."""
        try:
            now = self._clock()
            if self._next_housekeeping - HOUSEKEEPING_SECONDS <= now < self._next_housekeeping:
                return  # (a clock that stepped back falls outside the range and is not held back)
            if not self._housekeeping.acquire(blocking=False):
                return  # another request is flushing or publishing: nothing for this one to wait for
            try:
                self._next_housekeeping = now + HOUSEKEEPING_SECONDS
                self._publish_transitions(now, closing=False)
                if not 0 <= now - self._last_flush_at < self._flush_seconds:
                    self._flush(now)
            finally:
                self._housekeeping.release()
        except Exception:
            log.exception("telemetry: end_of_request failed")

    def shutdown(self) -> None:
        """Resolves open alerts and writes the final points. Idempotent; bounded by the flush timeout."""
        try:
            # a flush in another thread ends within its timeout; do not wait forever for a stuck one
            acquired = self._housekeeping.acquire(timeout=self._flush_timeout + 1.0)
            try:
                if self._closed:
                    return
                self._closed = True
                now = self._clock()
                self._publish_transitions(now, closing=True)
                self._flush(now)
            finally:
                if acquired:
                    self._housekeeping.release()
        except Exception:
            log.exception("telemetry: shutdown failed")

    def _publish_transitions(self, now: float, closing: bool) -> None:
        with self._lock:
            due = [(detector, detector.close(now) if closing else detector.evaluate(now))
                   for detector in self._detectors.values()]
        for detector, transition in due:
            if transition is None:
                continue
            published = self._publish(transition)
            with self._lock:
                if published:
                    detector.apply(transition)
                else:
                    detector.postpone(now)

    def _publish(self, transition: Transition) -> bool:
        payload = transition.payload
        # a summary only: the evidence holds full tweet texts, which stay out of the logs
        summary = {key: payload[key] for key in ("type", "source", "instance", "tweets", "negative",
                                                 "negative_share", "threshold", "window_seconds")}
        message = (f"{payload['type']}: {payload['negative']} of {payload['tweets']} tweets negative "
                   f"({payload['negative_share']:.0%}) from {payload['source']} in {payload['window_seconds']:.0f} s")
        if self._publish_alert is None:
            log.warning("%s (no alert publisher)", message, extra={"alert": summary})
            return True
        try:
            self._publish_alert(payload)
        except PublishingDisabled:  # no project (local use without emulators): the log line is the alert
            log.warning("%s (no GOOGLE_CLOUD_PROJECT: logged, not published)", message, extra={"alert": summary})
            return True
        except Exception:
            log.exception("telemetry: publishing the %s alert failed; trying again later", payload["type"])
            return False
        log.log(logging.WARNING if payload["type"] == BAD_BUZZ else logging.INFO, "%s (published)", message,
                extra={"alert": summary})
        return True

    def _flush(self, now: float) -> None:
        with self._lock:
            end = point_end_time(now, self._aggregator.start_time, self._last_end)
            series = self._aggregator.snapshot(end) + self._gauges(now, end)
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

    def _gauges(self, now: float, end: float) -> list[Series]:
        points = []
        for source, detector in self._detectors.items():
            share = detector.share(now)
            points.append(gauge(md.WINDOW_TWEETS, {"source": source}, detector.tweets, end))
            points.append(gauge(md.NEGATIVE_SHARE, {"source": source}, share, end))
        return points

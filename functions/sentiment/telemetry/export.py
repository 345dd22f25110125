"""Where a flush's series go: the Cloud Monitoring API, or structured log lines (no project configured).

Both exporters share one promise: ``export`` never raises and returns within a bound, because it runs
at the end of a request (Cloud Functions gives an instance no CPU between requests, so there is no
background moment to write metrics in).

The API exporter's bound is ``timeout`` for the whole flush. Each call gets half of it, so a failed
call can be retried once (transient codes only) and the pair still fits; points that do not get
through are dropped with a log line counting them. Dropping is safe because the points are
cumulative: the next flush writes the same totals plus whatever came since.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..logs import StructuredLog
from .aggregation import Series

log = logging.getLogger(__name__)

# The most one flush may block the request that triggers it (the API usually answers CreateTimeSeries in
# ~0.1 s from Google Cloud). 4 s, at most once per flush interval (60 s by default), bounds the damage
# of a hanging API; Cloud Run's 10 s SIGTERM grace still fits a final flush.
FLUSH_TIMEOUT_SECONDS = 4.0
MAX_SERIES_PER_CALL = 200  # the API's limit for one CreateTimeSeries request
MIN_CALL_SECONDS = 0.05  # below this, a call cannot succeed: drop instead of trying
# Worth one immediate retry: the service blinked. Others (INVALID_ARGUMENT, PERMISSION_DENIED,
# RESOURCE_EXHAUSTED...) would fail the same way again.
RETRYABLE_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "ABORTED"})
CLIENT_ERROR = "CLIENT_ERROR"  # the client could not be built or failed before reaching the API
_MAX_ERROR_CHARS = 500


@dataclass
class ExportReport:
    written: int = 0
    dropped: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # error code -> failed calls


def build_client(endpoint: str = ""):
    """A MetricServiceClient, for Google's endpoint or a plaintext stand-in at ``host:port``.

    Imported here rather than at module import: google.cloud.monitoring costs ~0.3 s that a cold
    start should not pay before its first answer. A stand-in needs a transport over an insecure
    channel (an endpoint with anonymous credentials alone still speaks TLS).
    """
    from google.cloud import monitoring_v3

    if not endpoint:
        return monitoring_v3.MetricServiceClient()
    import grpc
    from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

    transport = MetricServiceGrpcTransport(channel=grpc.insecure_channel(endpoint))
    return monitoring_v3.MetricServiceClient(transport=transport)


def error_code(error: BaseException) -> str:
    """The gRPC status name of an API error (google.api_core exceptions carry it), else CLIENT_ERROR."""
    code = getattr(error, "grpc_status_code", None)
    return getattr(code, "name", None) or CLIENT_ERROR


def timestamp(seconds: float) -> dict:
    whole = math.floor(seconds)
    nanos = round((seconds - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return {"seconds": whole, "nanos": nanos}


def time_series(series: Series, resource: dict) -> dict:
    """The API's TimeSeries (as a dict proto-plus accepts) holding the series' single point."""
    return {
        "metric": {"type": series.descriptor.type, "labels": dict(series.labels)},
        "resource": resource,
        "metric_kind": series.descriptor.metric_kind,
        "value_type": series.descriptor.value_type,
        "points": [{"interval": {"start_time": timestamp(series.start_time), "end_time": timestamp(series.end_time)},
                    "value": {series.value_field: series.value}}],
    }


def chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class MonitoringExporter:
    """Writes series with ``CreateTimeSeries``: ≤ 200 per call, one point per series, bounded in time."""

    def __init__(self, project: str, resource: dict, *, client=None, endpoint: str = "",
                 timeout: float = FLUSH_TIMEOUT_SECONDS, monotonic=time.monotonic):
        self.project_name = f"projects/{project}"
        self.resource = resource
        self.timeout = timeout
        self._client = client
        self._endpoint = endpoint
        self._monotonic = monotonic  # real time: a deadline is about the request waiting, not the fake clock

    def export(self, series: Sequence[Series]) -> ExportReport:
        report = ExportReport()
        if not series:
            return report
        deadline = self._monotonic() + self.timeout
        try:
            if self._client is None:
                self._client = build_client(self._endpoint)
        except Exception as error:  # no credentials, bad endpoint...: tried again at the next flush
            report.failures[CLIENT_ERROR] += 1
            report.dropped = len(series)
            log.error("Cloud Monitoring client unavailable (%s); dropped %d points", _short(error), len(series))
            return report
        for chunk in chunks(series, MAX_SERIES_PER_CALL):
            self._write(chunk, deadline, report)
        if report.dropped:
            log.warning("Cloud Monitoring: dropped %d of %d points after %d failed calls (%s); cumulative "
                        "counts are carried by the next flush", report.dropped, len(series),
                        sum(report.failures.values()), ", ".join(sorted(report.failures)))
        return report

    def _write(self, chunk: Sequence[Series], deadline: float, report: ExportReport) -> None:
        request = None
        for attempt in (1, 2):
            remaining = deadline - self._monotonic()
            if remaining < MIN_CALL_SECONDS:
                break
            try:
                if request is None:
                    request = {"name": self.project_name,
                               "time_series": [time_series(one, self.resource) for one in chunk]}
                self._client.create_time_series(request=request, timeout=min(self.timeout / 2, remaining),
                                                retry=None)
                report.written += len(chunk)
                return
            except Exception as error:  # whatever the client raises, a prediction must not fail for it
                code = error_code(error)
                report.failures[code] += 1
                log.warning("Cloud Monitoring CreateTimeSeries failed (%s, attempt %d, %d series): %s",
                            code, attempt, len(chunk), _short(error))
                if code not in RETRYABLE_CODES:
                    break
        report.dropped += len(chunk)


class LogExporter:
    """One structured line per flush holding every series: the local stand-in for Cloud Monitoring."""

    def __init__(self, resource: dict, structured_log: StructuredLog | None = None):
        self.resource = resource
        self._log = structured_log or StructuredLog()

    def export(self, series: Sequence[Series]) -> ExportReport:
        if not series:
            return ExportReport()
        try:
            self._log.write("INFO", summary(series), resource=self.resource, metrics=[s.to_dict() for s in series])
        except Exception as error:  # a closed stdout must not fail a prediction either
            log.error("metrics log line not written (%s); dropped %d points", _short(error), len(series))
            return ExportReport(dropped=len(series), failures=Counter({CLIENT_ERROR: 1}))
        return ExportReport(written=len(series))


def summary(series: Sequence[Series]) -> str:
    """A human line: totals of each counter, count and mean of each distribution."""
    totals: Counter[str] = Counter()
    distributions: dict[str, list[float]] = {}
    for one in series:
        name = one.descriptor.name
        if one.descriptor.value_type == "DISTRIBUTION":
            count, mean = one.value["count"], one.value["mean"]
            previous = distributions.get(name, [0, 0.0])
            total = previous[0] + count
            distributions[name] = [total, (previous[0] * previous[1] + count * mean) / total if total else 0.0]
        else:
            totals[name] += one.value
    parts = [f"{name}={total}" for name, total in sorted(totals.items())]
    parts += [f"{name}: n={n} mean={mean:.4g}" for name, (n, mean) in sorted(distributions.items())]
    return "metrics " + "; ".join(parts)


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS] + "..."

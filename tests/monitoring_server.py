"""A local Cloud Monitoring stand-in: a real gRPC server for MetricService/CreateTimeSeries on 127.0.0.1.

google-cloud-monitoring ships no servicer, so a *generic* handler receives the exact request the client
sends. The server enforces the API's write rules that our exporter must respect, answering
INVALID_ARGUMENT as the real API does and keeping the list of violations for tests to assert on:

- at most 200 time series per call, each with exactly one point, no series twice in one call;
- metric type, kind, value type and label keys as the descriptor says (``sentiment.telemetry.descriptors``);
- a generic_task resource with all its labels set;
- GAUGE: start == end; CUMULATIVE: start < end, the same start as the series' previous point;
- per series, a point more than 5 s after the previous one (the maximum sampling rate), never older.

Failures can be injected: a status code for the next N calls (or all), or a hang until the client's
deadline passes.
"""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass

import grpc
from google.cloud.monitoring_v3 import CreateTimeSeriesRequest, MetricServiceClient
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport
from google.protobuf import empty_pb2, json_format

from sentiment.telemetry import descriptors as md

SERVICE = "google.monitoring.v3.MetricService"
MAX_SERIES_PER_CALL = 200
SAMPLING_PERIOD_SECONDS = 5.0
HANG = "hang"


@dataclass(frozen=True)
class WrittenPoint:
    """One accepted point, in plain Python, for assertions."""

    type: str
    labels: dict
    resource_type: str
    resource_labels: dict
    metric_kind: str
    value_type: str
    start: float
    end: float
    value: object  # int, float or the distribution as a dict (proto JSON field names)

    @property
    def key(self) -> tuple:
        return (tuple(sorted(self.resource_labels.items())), self.type, tuple(sorted(self.labels.items())))


def _seconds(timestamp) -> float:
    return timestamp.seconds + timestamp.nanos / 1e9


def _point(series) -> WrittenPoint:
    point = series.points[0]
    field = point.value.WhichOneof("value")
    value = getattr(point.value, field)
    if field == "distribution_value":
        value = json_format.MessageToDict(value, preserving_proto_field_name=True)
    interval = point.interval
    end = _seconds(interval.end_time)
    start = _seconds(interval.start_time) if interval.HasField("start_time") else end
    return WrittenPoint(series.metric.type, dict(series.metric.labels), series.resource.type,
                        dict(series.resource.labels), _enum_name(series, "metric_kind"),
                        _enum_name(series, "value_type"), start, end, value)


def _enum_name(message, field: str) -> str:
    return message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[getattr(message, field)].name


class FakeMetricService:
    def __init__(self, project: str = "test-project"):
        self.project = project
        self.calls = 0  # every call, failed or not
        self.requests: list[list[WrittenPoint]] = []  # accepted calls
        self.violations: list[str] = []
        self._failure: grpc.StatusCode | str | None = None
        self._failures_left: int | None = None  # None: every call fails while a failure is set
        self._last: dict[tuple, WrittenPoint] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: grpc.Server | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeMetricService:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handler = grpc.unary_unary_rpc_method_handler(
            self._create_time_series, request_deserializer=CreateTimeSeriesRequest.deserialize,
            response_serializer=empty_pb2.Empty.SerializeToString)
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            SERVICE, {"CreateTimeSeries": handler}),))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.stop(grace=None).wait(5)

    def __enter__(self) -> FakeMetricService:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> MetricServiceClient:
        """A real client over a plaintext channel (endpoint + anonymous credentials alone would use TLS)."""
        return MetricServiceClient(transport=MetricServiceGrpcTransport(channel=grpc.insecure_channel(self.endpoint)))

    # -- failure injection -----------------------------------------------------------------------

    def fail_with(self, failure: grpc.StatusCode | str | None, calls: int | None = None) -> None:
        """Answer the next ``calls`` calls (every call if None) with this status code, or HANG."""
        with self._lock:
            self._failure, self._failures_left = failure, calls

    def heal(self) -> None:
        self.fail_with(None)

    # -- what was written ------------------------------------------------------------------------

    @property
    def points(self) -> list[WrittenPoint]:
        with self._lock:
            return [point for request in self.requests for point in request]

    def latest(self) -> dict[tuple, WrittenPoint]:
        with self._lock:
            return dict(self._last)

    # -- the RPC ---------------------------------------------------------------------------------

    def _create_time_series(self, request: CreateTimeSeriesRequest, context: grpc.ServicerContext):
        with self._lock:
            self.calls += 1
            failure = self._failure
            if failure is not None and self._failures_left is not None:
                self._failures_left -= 1
                if self._failures_left <= 0:
                    self._failure = None
        if failure == HANG:
            while context.is_active() and not self._released.wait(0.01):
                pass
            context.abort(grpc.StatusCode.UNAVAILABLE, "hung until the client gave up")
        if failure is not None:
            context.abort(failure, f"injected {failure.name}")
        raw = CreateTimeSeriesRequest.pb(request)
        with self._lock:
            problems, points = self._check(raw)
            if problems:
                self.violations.extend(problems)
            else:
                self.requests.append(points)
                self._last.update((point.key, point) for point in points)
        if problems:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "; ".join(problems)[:2000])
        return empty_pb2.Empty()

    def _check(self, request) -> tuple[list[str], list[WrittenPoint]]:
        problems = []
        if request.name != f"projects/{self.project}":
            problems.append(f"wrong project {request.name!r}")
        if not 1 <= len(request.time_series) <= MAX_SERIES_PER_CALL:
            problems.append(f"{len(request.time_series)} time series in one call")
        points, seen = [], set()
        for index, series in enumerate(request.time_series):
            where = f"timeSeries[{index}] {series.metric.type}"
            if len(series.points) != 1:
                problems.append(f"{where}: {len(series.points)} points")
                continue
            point = _point(series)
            points.append(point)
            if point.key in seen:
                problems.append(f"{where}: written twice in one call")
            seen.add(point.key)
            problems += [f"{where}: {problem}" for problem in self._check_point(point, series)]
        return problems, points

    def _check_point(self, point: WrittenPoint, series) -> list[str]:
        problems = []
        descriptor = md.BY_TYPE.get(point.type)
        if descriptor is None:
            return [f"unknown metric type {point.type}"]
        if (point.metric_kind, point.value_type) != (descriptor.metric_kind, descriptor.value_type):
            problems.append(f"kind {point.metric_kind}/{point.value_type}, descriptor says "
                            f"{descriptor.metric_kind}/{descriptor.value_type}")
        if set(point.labels) != set(descriptor.labels):
            problems.append(f"labels {sorted(point.labels)} != descriptor {sorted(descriptor.labels)}")
        if point.resource_type != md.RESOURCE_TYPE:
            problems.append(f"metrics cannot be written to {point.resource_type}")
        missing = [name for name in md.RESOURCE_LABELS if not point.resource_labels.get(name)]
        if missing or set(point.resource_labels) != set(md.RESOURCE_LABELS):
            problems.append(f"resource labels incomplete or unknown: {point.resource_labels}")
        expected_field = {"INT64": "int64_value", "DOUBLE": "double_value",
                          "DISTRIBUTION": "distribution_value"}[descriptor.value_type]
        if series.points[0].value.WhichOneof("value") != expected_field:
            problems.append(f"value is not {expected_field}")
        if descriptor.value_type == "DISTRIBUTION":
            counts = [int(c) for c in point.value.get("bucket_counts", [])]
            if int(point.value.get("count", 0)) != sum(counts) or not counts:
                problems.append("distribution count differs from its bucket counts")
        if descriptor.metric_kind == "GAUGE" and point.start != point.end:
            problems.append("a GAUGE interval must have start == end")
        if descriptor.metric_kind == "CUMULATIVE" and not point.start < point.end:
            problems.append("a CUMULATIVE interval must have start < end")
        previous = self._last.get(point.key)
        if previous is not None:
            if point.end <= previous.end:
                problems.append("points must be written in order")
            elif point.end - previous.end <= SAMPLING_PERIOD_SECONDS:
                problems.append("written more frequently than the maximum sampling period")
            if descriptor.metric_kind == "CUMULATIVE" and point.start != previous.start and \
                    point.start <= previous.end:
                problems.append("a cumulative start time may only move on a reset, after the previous end")
        return problems

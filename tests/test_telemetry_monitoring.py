"""Contract tests of the Cloud Monitoring exporter against a local gRPC MetricService (tests/monitoring_server.py).

The server enforces the API's write rules and records what it accepted, so these tests assert on the
exact time series a real client sends: types, labels, resource, values, intervals, calls of ≤ 200.
"""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from sentiment.config import Config
from sentiment.telemetry import Telemetry
from sentiment.telemetry import descriptors as md
from sentiment.telemetry.export import MAX_SERIES_PER_CALL
from tests.monitoring_server import HANG, FakeMetricService

from .functions_support import polar_prediction

pytestmark = pytest.mark.slow

PROJECT = "test-project"
START = 1_800_000_000.0
FLUSH_SECONDS = 10


class FakeClock:
    def __init__(self):
        self.now = START
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def server():
    with FakeMetricService(PROJECT) as service:
        yield service


def make_config(**env: str) -> Config:
    return Config.from_env({"GOOGLE_CLOUD_PROJECT": PROJECT, "METRICS_EXPORTER": "monitoring",
                            "FUNCTION_REGION": "europe-west1", "METRICS_FLUSH_SECONDS": str(FLUSH_SECONDS), **env})


def make_telemetry(server: FakeMetricService, clock: FakeClock, **kwargs) -> Telemetry:
    kwargs.setdefault("instance_id", "instance-a")
    return Telemetry(make_config(), clock=clock, metric_client=server.client(), job="tweets-score", **kwargs)


def by_name(points) -> dict[tuple, object]:
    return {(p.type.rsplit("/", 1)[1], tuple(sorted(p.labels.items()))): p for p in points}


def test_one_flush_writes_exactly_the_expected_series(server):
    clock = FakeClock()
    telemetry = make_telemetry(server, clock)
    telemetry.record_model_load(0.75, "v3")
    telemetry.record_scored("pubsub", polar_prediction(0.12, "v3"), 0.4)
    telemetry.record_scored("pubsub", polar_prediction(0.93, "v3"), 0.2)
    telemetry.record_scored("pubsub", polar_prediction(0.31, "v3"), 0.3)
    telemetry.record_rejected("http", "bad_json")
    telemetry.record_model_load_failure("invalid_bundle")
    clock.advance(FLUSH_SECONDS)
    telemetry.end_of_request()

    assert server.violations == []
    (request,) = server.requests
    points = by_name(request)
    assert set(points) == {
        ("tweets_scored", (("model_version", "v3"), ("sentiment", "negative"), ("source", "pubsub"))),
        ("tweets_scored", (("model_version", "v3"), ("sentiment", "positive"), ("source", "pubsub"))),
        ("requests_rejected", (("reason", "bad_json"), ("source", "http"))),
        ("scoring_latency", (("source", "pubsub"),)),
        ("probability_positive", (("model_version", "v3"), ("source", "pubsub"))),
        ("model_load_latency", (("model_version", "v3"),)),
        ("model_load_failures", (("reason", "invalid_bundle"),)),
    }
    for point in request:
        assert point.resource_type == "generic_task"
        assert point.resource_labels == {"project_id": PROJECT, "location": "europe-west1",
                                         "namespace": md.NAMESPACE, "job": "tweets-score", "task_id": "instance-a"}
        assert point.end == START + FLUSH_SECONDS
        assert point.metric_kind == "CUMULATIVE" and point.start == START  # no gauge: counts add up over instances
    negatives = ("tweets_scored", (("model_version", "v3"), ("sentiment", "negative"), ("source", "pubsub")))
    assert points[negatives].value == 2
    latency = points["scoring_latency", (("source", "pubsub"),)].value
    assert latency["count"] == "3" and latency["mean"] == pytest.approx(0.3)  # int64 count: a JSON string
    assert latency["sum_of_squared_deviation"] == pytest.approx(0.02)
    assert latency["bucket_options"] == {"exponential_buckets": {
        "num_finite_buckets": 32, "growth_factor": pytest.approx(2 ** 0.5), "scale": 0.01}}
    probability = points["probability_positive", (("model_version", "v3"), ("source", "pubsub"))].value
    counts = [int(c) for c in probability["bucket_counts"]]
    assert len(counts) == 22 and counts[3] == counts[7] == counts[19] == 1  # 0.12, 0.31, 0.93
    assert points["model_load_latency", (("model_version", "v3"),)].value["mean"] == 0.75


def test_successive_flushes_keep_the_start_time_and_grow_the_totals(server):
    clock = FakeClock()
    telemetry = make_telemetry(server, clock)
    for _ in range(3):
        for _ in range(5):
            telemetry.record_rejected("http", "too_large")
        clock.advance(FLUSH_SECONDS)
        telemetry.end_of_request()
    clock.advance(1)  # SIGTERM right after a flush: the final point is still accepted
    telemetry.record_rejected("http", "too_large")
    telemetry.shutdown()
    telemetry.shutdown()
    assert server.violations == []
    history = [p for p in server.points if p.type == md.REQUESTS_REJECTED.type]
    assert [p.value for p in history] == [5, 10, 15, 16]
    assert {p.start for p in history} == {START}
    assert [p.end - START for p in history] == [10, 20, 30, 36]


def test_more_than_200_series_go_in_several_calls(server):
    clock = FakeClock()
    telemetry = make_telemetry(server, clock)
    for index in range(100):  # 100 versions -> 100 counters + 100 distributions, + 100 rejection reasons + 1 latency
        telemetry.record_scored("http", polar_prediction(0.8, f"v{index}"), 0.2)
        telemetry.record_rejected("http", f"reason_{index}")
    clock.advance(FLUSH_SECONDS)
    telemetry.end_of_request()
    assert server.violations == []
    assert [len(request) for request in server.requests] == [MAX_SERIES_PER_CALL, 301 - MAX_SERIES_PER_CALL]
    assert len({p.key for p in server.points}) == 301  # one point per series
    assert telemetry.last_report.written == 301


def test_a_transient_failure_is_retried_once_within_the_flush(server):
    clock = FakeClock()
    telemetry = make_telemetry(server, clock)
    telemetry.record_rejected("pubsub", "bad_json")
    server.fail_with(grpc.StatusCode.UNAVAILABLE, calls=1)
    clock.advance(FLUSH_SECONDS)
    telemetry.end_of_request()
    assert server.calls == 2 and len(server.requests) == 1
    assert telemetry.last_report.written == 1 and telemetry.last_report.dropped == 0
    clock.advance(FLUSH_SECONDS)
    telemetry.end_of_request()
    failures = by_name(server.requests[-1])["metric_write_failures", (("code", "UNAVAILABLE"),)]
    assert failures.value == 1


def test_a_refused_write_is_not_retried_and_its_points_are_dropped_with_a_count(server, caplog):
    clock = FakeClock()
    telemetry = make_telemetry(server, clock)
    telemetry.record_rejected("pubsub", "bad_json")
    server.fail_with(grpc.StatusCode.INVALID_ARGUMENT, calls=1)
    clock.advance(FLUSH_SECONDS)
    telemetry.end_of_request()
    assert server.calls == 1 and server.requests == []
    assert "dropped 1 of 1 points" in caplog.text and "INVALID_ARGUMENT" in caplog.text


@pytest.mark.parametrize("failure", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                     grpc.StatusCode.INVALID_ARGUMENT, HANG], ids=lambda f: getattr(f, "name", f))
def test_a_failing_api_never_fails_or_stalls_predictions_and_loses_no_count(server, failure):
    clock, flush_timeout, margin = FakeClock(), 0.5, 2.0
    telemetry = make_telemetry(server, clock, flush_timeout=flush_timeout)
    server.fail_with(failure)
    slowest = 0.0
    for _ in range(1_000):  # 1,000 predictions, 1/8 s apart: a flush every 80 of them, 12 in all
        telemetry.record_scored("pubsub", polar_prediction(0.2, "v1"), 0.3)
        clock.advance(0.125)
        started = time.perf_counter()
        telemetry.end_of_request()
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < flush_timeout + margin
    assert server.requests == []
    assert telemetry.last_report.dropped > 0 and telemetry.last_report.written == 0

    server.heal()  # the API comes back: the next point carries every count, once
    clock.advance(FLUSH_SECONDS)
    telemetry.end_of_request()
    assert server.violations == []
    (request,) = server.requests
    points = by_name(request)
    assert points["tweets_scored", (("model_version", "v1"), ("sentiment", "negative"), ("source", "pubsub"))
                  ].value == 1_000
    code = "DEADLINE_EXCEEDED" if failure == HANG else failure.name
    failed_calls = points["metric_write_failures", (("code", code),)].value
    if failure == grpc.StatusCode.INVALID_ARGUMENT:
        assert failed_calls == 12  # never retried
    elif failure == HANG:
        assert 12 <= failed_calls <= 24  # retried when the first call left time for a second
    else:
        assert failed_calls == 24  # retried once per flush


def test_two_instances_writing_at_once_never_write_the_same_series(server):
    clock = FakeClock()
    instances = [make_telemetry(server, clock, instance_id=None) for _ in range(2)]
    assert instances[0].instance_id != instances[1].instance_id
    barrier = threading.Barrier(2)

    def serve(telemetry: Telemetry) -> None:
        barrier.wait()
        for _ in range(300):
            telemetry.record_scored("pubsub", polar_prediction(0.4, "v1"), 0.3)
            telemetry.record_rejected("pubsub", "bad_json")
            if telemetry is instances[0]:
                clock.advance(0.2)
            telemetry.end_of_request()
        telemetry.shutdown()

    threads = [threading.Thread(target=serve, args=(t,)) for t in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.violations == []
    keys = [{p.key for p in server.points if p.resource_labels["task_id"] == t.instance_id} for t in instances]
    assert keys[0] and keys[1] and not keys[0] & keys[1]
    assert len(server.requests) >= 6


def test_the_same_instance_id_twice_is_what_the_api_refuses(server):
    """The control for the test above: without distinct task ids, the writes collide."""
    clock = FakeClock()
    twins = [make_telemetry(server, clock, instance_id="same") for _ in range(2)]
    for telemetry in twins:
        telemetry.record_rejected("pubsub", "bad_json")
    clock.advance(FLUSH_SECONDS)
    for telemetry in twins:
        telemetry.end_of_request()
    assert len(server.requests) == 1  # the second instance's write was refused
    assert any("in order" in violation or "sampling period" in violation for violation in server.violations)


def test_the_client_is_built_from_the_configured_endpoint(server):
    clock = FakeClock()
    config = make_config(MONITORING_ENDPOINT=server.endpoint)
    telemetry = Telemetry(config, clock=clock, instance_id="lazy", job="tweets-score")
    telemetry.record_rejected("http", "empty_text")
    telemetry.shutdown()
    assert server.violations == []
    (request,) = server.requests
    assert [(p.type, p.value, p.resource_labels["task_id"]) for p in request] == [
        (md.REQUESTS_REJECTED.type, 1, "lazy")]

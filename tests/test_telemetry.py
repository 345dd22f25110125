"""Telemetry without a network: aggregation, the flush policy, the log exporter, thread safety, no raising."""

from __future__ import annotations

import io
import json
import math
import random
import statistics
import threading

import pytest

from sentiment.config import Config
from sentiment.prediction import Prediction
from sentiment.telemetry import Telemetry
from sentiment.telemetry import descriptors as md
from sentiment.telemetry.aggregation import (
    MIN_POINT_SPACING_SECONDS,
    OVERFLOW_LABEL,
    Distribution,
    ExponentialBuckets,
    LinearBuckets,
    MetricsAggregator,
    point_end_time,
)
from sentiment.telemetry.facade import MAX_SOURCES, OTHER_SOURCE

from .functions_support import polar_prediction

START = 1_800_000_000.0


class FakeClock:
    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def config(**env: str) -> Config:
    return Config.from_env({"METRICS_FLUSH_SECONDS": "10", **env})


def negative(p: float = 0.1, version: str = "v1") -> Prediction:
    return polar_prediction(p, version)


def positive(p: float = 0.9, version: str = "v1") -> Prediction:
    return polar_prediction(p, version)


def log_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def metric_values(line: dict) -> dict[tuple, object]:
    """(short name, sorted labels) -> the point's value, from one metrics log line."""
    values = {}
    for series in line["metrics"]:
        name = series["metric"]["type"].rsplit("/", 1)[1]
        (value,) = series["value"].values()
        values[name, tuple(sorted(series["metric"]["labels"].items()))] = value
    return values


# -- distributions and buckets -----------------------------------------------------------------


def test_distribution_matches_statistics_and_counts_every_value():
    rng = random.Random(3)
    values = [rng.lognormvariate(-1.5, 1.2) for _ in range(5_000)]
    distribution = Distribution(ExponentialBuckets(32, math.sqrt(2), 0.01))
    for value in values:
        distribution.add(value)
    snapshot = distribution.to_dict()
    assert snapshot["count"] == len(values) == sum(snapshot["bucket_counts"])
    assert snapshot["mean"] == pytest.approx(statistics.fmean(values), rel=1e-9)
    assert snapshot["sum_of_squared_deviation"] == pytest.approx(statistics.pvariance(values) * len(values), rel=1e-9)
    assert len(snapshot["bucket_counts"]) == 34
    assert snapshot["bucket_options"] == {"exponential_buckets": {"num_finite_buckets": 32,
                                                                  "growth_factor": math.sqrt(2), "scale": 0.01}}


def test_exponential_bucket_bounds_follow_the_api_definition():
    buckets = ExponentialBuckets(16, 2.0, 0.01)
    assert buckets.index(0.0) == 0 and buckets.index(0.00999) == 0 and buckets.index(float("nan")) == 0
    assert buckets.index(0.01) == 1 and buckets.index(0.0199) == 1 and buckets.index(0.02) == 2
    assert buckets.index(0.01 * 2**16) == 17 and buckets.index(1e9) == 17  # overflow
    rooted = ExponentialBuckets(32, math.sqrt(2), 0.01)
    for index in range(1, 33):  # exact lower bounds land in their own bucket despite the logarithm
        assert rooted.index(rooted.lower_bound(index)) == index
    rng = random.Random(1)
    for value in (rng.uniform(0.01, 600) for _ in range(2_000)):
        index = rooted.index(value)
        assert rooted.lower_bound(index) <= value < rooted.lower_bound(index + 1)


def test_linear_buckets_cover_probabilities():
    buckets = LinearBuckets(20, 0.05, 0.0)
    assert [buckets.index(p) for p in (0.0, 0.049, 0.05, 0.5, 0.999)] == [1, 1, 2, 11, 20]
    assert buckets.index(1.0) == 21 and buckets.index(-0.1) == 0


# -- aggregation -------------------------------------------------------------------------------


def test_aggregator_refuses_labels_the_descriptor_does_not_have():
    aggregator = MetricsAggregator(START)
    with pytest.raises(ValueError, match="takes labels"):
        aggregator.count(md.REQUESTS_REJECTED, {"source": "http"})
    with pytest.raises(ValueError, match="not a distribution"):
        aggregator.observe(md.TWEETS_SCORED, {"source": "http", "sentiment": "negative", "model_version": "v"}, 1)


def test_label_sets_beyond_the_cap_are_counted_as_other():
    aggregator = MetricsAggregator(START, max_label_sets=3)
    for reason in ("a", "b", "c", "d", "e", "d"):
        aggregator.count(md.REQUESTS_REJECTED, {"source": "http", "reason": reason})
    totals = {tuple(sorted(s.labels.items())): s.value for s in aggregator.snapshot(START + 10)}
    assert totals == {
        (("reason", "a"), ("source", "http")): 1, (("reason", "b"), ("source", "http")): 1,
        (("reason", "c"), ("source", "http")): 1,
        (("reason", OVERFLOW_LABEL), ("source", OVERFLOW_LABEL)): 3,
    }


def test_label_values_are_cleaned():
    aggregator = MetricsAggregator(START)
    aggregator.count(md.REQUESTS_REJECTED, {"source": " http ", "reason": 'bad "json" ' + "x" * 500})
    (series,) = aggregator.snapshot(START + 1)
    assert series.labels["source"] == "http"
    assert len(series.labels["reason"]) == 128 and '"' not in series.labels["reason"]


def test_point_end_time_respects_the_api_write_rules():
    assert point_end_time(START, START, None) == START + 0.001  # cumulative: start < end
    assert point_end_time(START + 60, START, None) == START + 60
    assert point_end_time(START + 62, START, START + 60) == START + 60 + MIN_POINT_SPACING_SECONDS
    assert point_end_time(START + 120, START, START + 60) == START + 120


# -- the flush policy, through the log exporter -------------------------------------------------


def test_flushes_once_per_interval_at_the_end_of_a_request_with_cumulative_totals():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream, instance_id="i-1", job="predict")
    for second in range(25):  # one tweet per second: flushes at t=10 and t=20
        telemetry.record_scored("http", negative() if second % 4 else positive(), 0.5)
        clock.advance(1)
        telemetry.end_of_request()
        assert len(log_lines(stream)) == (clock.now - START) // 10
    first, second = log_lines(stream)
    scored = ("tweets_scored", (("model_version", "v1"), ("sentiment", "negative"), ("source", "http")))
    assert metric_values(first)[scored] == 7 and metric_values(second)[scored] == 15  # never reset
    assert first["severity"] == "INFO" and "tweets_scored=10" in first["message"]
    assert first["resource"] == {"type": "generic_task", "labels": {
        "project_id": "", "location": "local", "namespace": md.NAMESPACE, "job": "predict", "task_id": "i-1"}}
    counter = next(s for s in second["metrics"] if s["metric"]["type"] == md.TWEETS_SCORED.type)
    assert counter["metric_kind"] == "CUMULATIVE"
    assert counter["interval"]["start_time"] == "2027-01-15T08:00:00.000000Z"  # START, fixed
    assert counter["interval"]["end_time"] == "2027-01-15T08:00:20.000000Z"
    assert {s["metric_kind"] for s in second["metrics"]} == {"CUMULATIVE"}  # no per-instance gauge


def test_tweets_are_counted_by_the_three_classes_and_the_negative_share_counts_neutral_ones_too():
    """The fleet's negative share is tweets_scored{sentiment="negative"} over all of it: a neutral tweet
    is in the denominator, so a day of neutral questions lowers the share instead of passing as complaints."""
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    outputs = [(0.8, 0.1, 0.1)] * 3 + [(0.1, 0.7, 0.2)] * 5 + [(0.05, 0.15, 0.8)] * 2
    for output in outputs:
        telemetry.record_scored("pubsub", Prediction.of(output, "v2"), 0.2)
    telemetry.shutdown()
    (line,) = log_lines(stream)
    counts = {dict(labels)["sentiment"]: value for (name, labels), value in metric_values(line).items()
              if name == "tweets_scored"}
    assert counts == {"negative": 3, "neutral": 5, "positive": 2}
    assert counts["negative"] / sum(counts.values()) == 0.3
    polarity = metric_values(line)["probability_positive", (("model_version", "v2"), ("source", "pubsub"))]
    assert polarity["count"] == 10  # the polarity of every tweet, the neutral ones included
    assert polarity["mean"] == pytest.approx((3 * 0.1 / 0.9 + 5 * 0.2 / 0.3 + 2 * 0.8 / 0.85) / 10, abs=1e-6)


def test_every_metric_of_the_issue_reaches_the_log():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    telemetry.record_model_load(1.25, "v1")
    telemetry.record_model_load_failure("unavailable")
    telemetry.record_scored("pubsub", negative(0.2), 0.31)
    telemetry.record_rejected("http", "bad_json")
    telemetry.shutdown()
    (line,) = log_lines(stream)
    values = metric_values(line)
    assert {name for name, _ in values} == {d.name for d in md.DESCRIPTORS} - {"metric_write_failures"}
    latency = values["scoring_latency", (("source", "pubsub"),)]
    assert latency["count"] == 1 and latency["mean"] == 0.31
    assert values["model_load_latency", (("model_version", "v1"),)]["mean"] == 1.25
    assert values["model_load_failures", (("reason", "unavailable"),)] == 1
    assert values["requests_rejected", (("reason", "bad_json"), ("source", "http"))] == 1


def test_shutdown_flushes_once_and_stamps_points_after_the_sampling_period():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    telemetry.record_rejected("http", "too_large")
    clock.advance(10)
    telemetry.end_of_request()
    clock.advance(2)  # SIGTERM two seconds after a flush
    telemetry.shutdown()
    telemetry.shutdown()
    periodic, final = log_lines(stream)
    assert periodic["metrics"][0]["interval"]["end_time"] == "2027-01-15T08:00:10.000000Z"
    assert final["metrics"][0]["interval"]["end_time"] == "2027-01-15T08:00:16.000000Z"  # 10 + 6, not 12


def test_nothing_due_means_nothing_written():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    telemetry.record_rejected("http", "bad_json")
    clock.advance(9.99)
    telemetry.end_of_request()
    assert stream.getvalue() == ""


def test_monitoring_exporter_without_a_project_falls_back_to_the_log():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(METRICS_EXPORTER="monitoring"), clock=clock, log_stream=stream)
    telemetry.record_rejected("http", "bad_json")
    telemetry.shutdown()
    assert log_lines(stream)[0]["metrics"][0]["value"] == {"int64_value": 1}


def test_exporter_none_writes_no_metrics():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(METRICS_EXPORTER="none"), clock=clock, log_stream=stream)
    for _ in range(10):
        telemetry.record_scored("pubsub", negative(), 0.2)
        clock.advance(5)
        telemetry.end_of_request()
    telemetry.shutdown()
    assert stream.getvalue() == "" and telemetry.last_report is None


def test_sources_beyond_the_cap_are_counted_as_other():
    """A caller passing free text as the source must not grow a series per text, scored or refused."""
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    for index in range(MAX_SOURCES + 3):
        telemetry.record_scored(f"source-{index}", negative(), 0.2)
    telemetry.record_rejected("yet-another", "bad_json")
    telemetry.record_rejected("source-0", "bad_json")
    telemetry.shutdown()
    values = metric_values(log_lines(stream)[0])
    latency = {dict(labels)["source"]: value["count"] for (name, labels), value in values.items()
               if name == "scoring_latency"}
    assert latency == {**{f"source-{i}": 1 for i in range(MAX_SOURCES)}, OTHER_SOURCE: 3}
    assert values["requests_rejected", (("reason", "bad_json"), ("source", OTHER_SOURCE))] == 1
    assert values["requests_rejected", (("reason", "bad_json"), ("source", "source-0"))] == 1


# -- robustness --------------------------------------------------------------------------------


def test_concurrent_requests_lose_no_count():
    clock, stream = FakeClock(), io.StringIO()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    threads, per_thread = 8, 500

    def work(index: int) -> None:
        for i in range(per_thread):
            telemetry.record_scored("http", negative() if i % 2 else positive(), 0.1)
            telemetry.record_rejected("pubsub", "bad_json")
            if index == 0:
                clock.advance(0.05)  # flushes happen while the other threads record
            telemetry.end_of_request()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    telemetry.shutdown()
    lines = log_lines(stream)
    assert len(lines) >= 3
    final = metric_values(lines[-1])
    scored = sum(v for (name, _), v in final.items() if name == "tweets_scored")
    assert scored == threads * per_thread
    assert final["requests_rejected", (("reason", "bad_json"), ("source", "pubsub"))] == threads * per_thread
    assert final["scoring_latency", (("source", "http"),)]["count"] == threads * per_thread


def test_no_method_raises_into_the_caller(caplog):
    clock = FakeClock()
    telemetry = Telemetry(config(), clock=clock, log_stream=io.StringIO())
    telemetry.record_scored("http", None, 0.1)  # type: ignore[arg-type]
    telemetry.record_scored("http", positive(), "slow")  # type: ignore[arg-type]
    telemetry.record_model_load("fast", "v1")  # type: ignore[arg-type]
    telemetry.record_rejected("http", "bad_json")
    clock.advance(10)
    telemetry.end_of_request()  # the bad calls left nothing half-recorded behind
    assert telemetry.last_report.written == 1
    clock.now = None  # the clock itself breaks
    telemetry.end_of_request()
    telemetry.shutdown()
    assert "record_scored failed" in caplog.text and "end_of_request failed" in caplog.text
    assert "shutdown failed" in caplog.text


def test_a_failing_log_stream_is_reported_not_raised(caplog):
    class Closed(io.StringIO):
        def write(self, text):
            raise ValueError("I/O operation on closed file")

    clock = FakeClock()
    telemetry = Telemetry(config(), clock=clock, log_stream=Closed())
    telemetry.record_rejected("http", "bad_json")
    telemetry.shutdown()
    assert telemetry.last_report.dropped == 1
    assert "dropped 1 points" in caplog.text


def test_the_observability_doc_describes_every_metric_as_declared():
    from tests.conftest import REPO

    doc = (REPO / "docs" / "observability.md").read_text(encoding="utf-8")
    for descriptor in md.DESCRIPTORS:
        labels = ", ".join(f"`{name}`" for name in descriptor.labels)
        kind = f"{descriptor.metric_kind} {descriptor.value_type}"
        row = f"| `{descriptor.name}` | {kind} | {descriptor.unit} | {labels} |"
        assert row in doc, f"docs/observability.md: no row {row!r}"


def test_shutdown_in_a_signal_handler_that_interrupted_a_record_call_does_not_deadlock():
    """SIGTERM runs its handler in the main thread, possibly between two bytecodes of a record_* call."""
    clock, stream, finished = FakeClock(), io.StringIO(), threading.Event()
    telemetry = Telemetry(config(), clock=clock, log_stream=stream)
    telemetry.record_rejected("http", "bad_json")

    def interrupted_record() -> None:
        with telemetry._lock:  # where record_* was when the signal arrived
            telemetry.shutdown()
        finished.set()

    threading.Thread(target=interrupted_record, daemon=True).start()
    assert finished.wait(10), "shutdown deadlocked on the aggregates' lock"
    assert log_lines(stream)[0]["metrics"][0]["value"] == {"int64_value": 1}

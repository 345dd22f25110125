"""The custom metrics the functions write: the one definition the code, Terraform and its tests share.

``python -m sentiment.telemetry.descriptors`` prints them as JSON; Terraform creates the descriptors
from that file (``infra/metric_descriptors.json``) and a test keeps the file equal to this module,
so a renamed metric cannot silently orphan an alert policy or a dashboard chart.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

PREFIX = "custom.googleapis.com/sentiment"

# The monitored resource of every point. Custom metrics accept generic_task (not
# cloud_run_revision), and its task_id keeps instances apart: two instances writing the same
# series would be rejected ("written more frequently than the maximum sampling period").
RESOURCE_TYPE = "generic_task"
RESOURCE_LABELS = ("project_id", "location", "namespace", "job", "task_id")
NAMESPACE = "air-paradis-sentiment"


@dataclass(frozen=True)
class MetricDescriptor:
    name: str  # short name; the type is PREFIX/name
    metric_kind: str  # CUMULATIVE (every metric here: counts add up over instances, samples would not)
    value_type: str  # INT64 | DOUBLE | DISTRIBUTION
    unit: str
    description: str
    labels: dict[str, str]  # label key -> description

    @property
    def type(self) -> str:
        return f"{PREFIX}/{self.name}"

    @property
    def display_name(self) -> str:
        return "Sentiment: " + self.name.replace("_", " ")

    def to_dict(self) -> dict:
        return {**asdict(self), "type": self.type, "display_name": self.display_name}


SOURCE = {"source": "Where the tweet came from: http or pubsub."}

TWEETS_SCORED = MetricDescriptor(
    "tweets_scored", "CUMULATIVE", "INT64", "1",
    "Tweets scored since the instance started, by source, predicted sentiment and model version.",
    {**SOURCE, "sentiment": "negative, neutral or positive.", "model_version": "Version of the model bundle."},
)
REQUESTS_REJECTED = MetricDescriptor(
    "requests_rejected", "CUMULATIVE", "INT64", "1",
    "Requests or messages refused since the instance started, by source and reason.",
    {**SOURCE, "reason": "Why: bad_json, bad_field, too_large, empty_text, model_unavailable, ..."},
)
SCORING_LATENCY = MetricDescriptor(
    "scoring_latency", "CUMULATIVE", "DISTRIBUTION", "ms",
    "Time to tokenize and score one tweet (model inference only, not the request).",
    dict(SOURCE),
)
PROBABILITY_POSITIVE = MetricDescriptor(
    "probability_positive", "CUMULATIVE", "DISTRIBUTION", "1",
    "Each tweet's polarity P(positive) / (P(positive) + P(negative)): its shift over time reveals drift.",
    {**SOURCE, "model_version": "Version of the model bundle."},
)
MODEL_LOAD_LATENCY = MetricDescriptor(
    "model_load_latency", "CUMULATIVE", "DISTRIBUTION", "s",
    "Time to fetch, verify and load a model bundle, per successful load.",
    {"model_version": "Version of the model bundle."},
)
MODEL_LOAD_FAILURES = MetricDescriptor(
    "model_load_failures", "CUMULATIVE", "INT64", "1",
    "Model loads that failed since the instance started (unreachable store, refused bundle).",
    {"reason": "unavailable or invalid_bundle."},
)
METRIC_WRITE_FAILURES = MetricDescriptor(
    "metric_write_failures", "CUMULATIVE", "INT64", "1",
    "Calls to the Monitoring API that failed (the points are retried once, then dropped), by error code.",
    # The code separates an outage (UNAVAILABLE, DEADLINE_EXCEEDED: transient, the next cumulative point
    # carries the counts) from points the API refuses (INVALID_ARGUMENT: a bug, nothing will get through).
    {"code": "gRPC status of the failure (UNAVAILABLE, DEADLINE_EXCEEDED, INVALID_ARGUMENT, ...) or CLIENT_ERROR."},
)

DESCRIPTORS: tuple[MetricDescriptor, ...] = (
    TWEETS_SCORED, REQUESTS_REJECTED, SCORING_LATENCY, PROBABILITY_POSITIVE, MODEL_LOAD_LATENCY,
    MODEL_LOAD_FAILURES, METRIC_WRITE_FAILURES,
)
BY_TYPE = {d.type: d for d in DESCRIPTORS}


def as_json() -> str:
    return json.dumps({"resource_type": RESOURCE_TYPE, "descriptors": [d.to_dict() for d in DESCRIPTORS]},
                      indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(as_json())

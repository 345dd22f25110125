"""Telemetry of the scoring functions, in layers; each file says which:

- ``facade``: ``Telemetry``, what the request path calls (``record_*``, ``end_of_request``, ``shutdown``);
- ``aggregation``: running totals and distributions in process, and the series one flush writes;
- ``export``: where a flush goes (the Cloud Monitoring API, or structured log lines);
- ``descriptors``: the metrics themselves, shared with Terraform (``infra/metric_descriptors.json``).

No bad-buzz detection here: the functions are stateless, and the pipeline (``pipelines/``) detects a
buzz per brand over every instance's scored tweets.
"""

from .facade import Telemetry

__all__ = ["Telemetry"]

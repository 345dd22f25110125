"""The OpenAPI document against the running HTTP function: schemathesis generates requests (valid and
invalid) from functions/sentiment/openapi.yaml and checks every response: no 5xx, status codes,
headers and bodies as documented. Served by functions-framework (gunicorn) over real HTTP, with the
feedback topic on the Pub/Sub emulator."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from devstack import topology
from devstack.functions import FunctionServer

from .functions_support import REPO, store_with

pytestmark = pytest.mark.slow

SPEC = REPO / "functions" / "sentiment" / "openapi.yaml"
# Invalid requests must be refused with a documented 4xx; 413 is ours for too-large ones.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [400, 404, 405, 413, 415]}}}
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)
CALLS: list[int] = []


@pytest.fixture(scope="module")
def server(serving_bundle, pubsub_emulator, tmp_path_factory):
    from google.cloud import pubsub_v1

    directory = tmp_path_factory.mktemp("openapi")
    store = directory / "store"
    store_with(serving_bundle, store)
    project = f"fuzz-{uuid.uuid4().hex[:8]}"
    for topic in (topology.FEEDBACK_TOPIC, topology.ALERT_TOPIC):  # generated tweets can make a bad buzz
        pubsub_v1.PublisherClient().create_topic(name=topology.Topology(project).topic(topic))
    function = FunctionServer("predict_http", "http", log_dir=directory, env={
        "MODEL_URI": str(store), "GOOGLE_CLOUD_PROJECT": project, "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
        "METRICS_EXPORTER": "log", "LOG_LEVEL": "WARNING",
    }).start()
    yield function
    function.stop()
    log = function.log_path.read_text()
    assert "unhandled error" not in log and "Traceback" not in log, "no request may crash the function"


@schema.parametrize()
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms(case, server):
    from schemathesis.checks import CHECKS

    # The schema cannot say "at least one word": a schema-valid "..." is rightly refused with 400.
    positive_acceptance = CHECKS.get_by_names(["positive_data_acceptance"])
    response = case.call_and_validate(base_url=server.url, excluded_checks=positive_acceptance)
    CALLS.append(response.status_code)
    assert response.status_code < 500


def test_enough_requests_were_generated():
    """Runs after the generated tests (same module): at least 500 requests, none answered 5xx."""
    assert len(CALLS) >= 500, len(CALLS)
    assert not [status for status in CALLS if status >= 500]

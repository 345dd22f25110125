"""End to end with real processes: the Pub/Sub emulator pushes to the Pub/Sub function served by
functions-framework (gunicorn), which loads its model from fake-gcs-server and publishes results
back to the emulator. Nothing here is mocked."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from devstack import topology
from devstack.emulators import FakeGcs
from devstack.functions import FunctionServer

from .functions_support import PREDICTION_FIELDS, assert_prediction, environment

pytestmark = pytest.mark.slow


def publish_model(bundle_dir, bucket: str) -> str:
    from converter.publish import publish

    store = f"gs://{bucket}/models"
    publish(bundle_dir, store)
    return store


def start_scorer(project, emulator, gcs_endpoint, model_uri, tmp_path, **env) -> FunctionServer:
    server = FunctionServer("score_pubsub", "cloudevent", log_dir=tmp_path, env={
        "GOOGLE_CLOUD_PROJECT": project, "PUBSUB_EMULATOR_HOST": emulator.host,
        "STORAGE_EMULATOR_HOST": gcs_endpoint, "MODEL_URI": model_uri, "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "METRICS_EXPORTER": "log", "LOG_LEVEL": "INFO", **env,
    })
    return server.start()


def pull_all(subscriber, subscription: str, expected: int, timeout: float, settle: float = 3.0) -> list:
    """Pull (and ack) until ``expected`` messages arrived and nothing more came for ``settle`` s."""
    received, deadline, quiet_since = [], time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        response = subscriber.pull(request={"subscription": subscription, "max_messages": 500}, timeout=10)
        if response.received_messages:
            received += [m.message for m in response.received_messages]
            subscriber.acknowledge(request={"subscription": subscription,
                                            "ack_ids": [m.ack_id for m in response.received_messages]})
            quiet_since = None
            continue
        if len(received) >= expected:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                break
        time.sleep(0.2)
    return received


POISON = [
    (b"{not json", "bad_json"),
    (b'{"id": "p", "user": "x"}', "bad_field"),
    (b'{"text": 42}', "bad_field"),
    (b'{"text": ""}', "empty_text"),
    (b'{"text": "..."}', "empty_text"),
    (b"caf\xe9 au lait", "bad_encoding"),
    (b"[1, 2, 3]", "bad_field"),
    (json.dumps({"text": "x" * 5000}).encode(), "too_large"),
    (b'{"text": "ok", "id": {"nested": 1}}', "bad_field"),
    (b"   ", "empty_text"),
    (b'{"text": "ok", "created_at": "yesterday"}', "bad_field"),
    (b'{"text": "ok", "brand": ["AirParadis"]}', "bad_field"),
]
CREATED = ["2026-11-30T14:05:00Z", "Mon Nov 30 15:05:00 +0100 2026", "2026-11-30T16:05:00.250+02:00", None]


def test_thousand_tweets_and_fifty_poison_messages(serving_bundle, pubsub_emulator, fake_gcs, bucket, tmp_path):
    from google.cloud import pubsub_v1

    project = f"e2e-{uuid.uuid4().hex[:8]}"
    model_uri = publish_model(serving_bundle, bucket)
    server = start_scorer(project, pubsub_emulator, fake_gcs.endpoint, model_uri, tmp_path)
    try:
        topo = topology.create(project, server.url)
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        futures, poison_sent = [], {}
        for i in range(1_000):
            text = ("awful, lost bag :(", "great :)", "boarding at the gate tomorrow")[i % 3]
            tweet = {"id": f"t{i:04d}", "text": f"flight {i} was {text}", "lang": "en", "brand": f"brand{i % 2}"}
            if CREATED[i % 4]:
                tweet["created_at"] = CREATED[i % 4]
            futures.append(publisher.publish(topo.topic(topology.INPUT_TOPIC), json.dumps(tweet).encode()))
            if i % 20 == 0:
                data, reason = POISON[(i // 20) % len(POISON)]
                future = publisher.publish(topo.topic(topology.INPUT_TOPIC), data, case=str(i))
                futures.append(future)
                poison_sent[str(i)] = reason
        for future in futures:
            future.result(timeout=30)
        assert len(poison_sent) == 50

        scored = pull_all(subscriber, topo.observer(topology.OUTPUT_TOPIC), 1_000, timeout=240)
        parked = pull_all(subscriber, topo.observer(topology.DEAD_LETTER_TOPIC), 50, timeout=60)
    finally:
        server.stop()

    results = [json.loads(m.data) for m in scored]
    ids = [r["id"] for r in results]
    assert len(ids) == 1_000, f"{len(ids)} results"
    assert set(ids) == {f"t{i:04d}" for i in range(1_000)}, "every tweet scored exactly once"
    for message, result in zip(scored, results, strict=True):
        assert_prediction(result, alone=False)
        passed = (["created_at"] if CREATED[int(result["id"][1:]) % 4] else []) + ["lang", "brand"]
        assert list(result) == ["id", "text", *passed, *PREDICTION_FIELDS, "scored_at", "source_message_id"]
        assert message.attributes["sentiment"] == result["sentiment"]
        assert message.attributes["source_message_id"] == result["source_message_id"] != ""
        assert message.attributes["model_version"] == result["model_version"]
        assert result["lang"] == "en" and result["brand"] == f"brand{int(result['id'][1:]) % 2}"
        # the event time the pipeline reads, in UTC; none (the publish time) when the tweet had none
        expected = ["2026-11-30T14:05:00.000Z", "2026-11-30T14:05:00.000Z", "2026-11-30T14:05:00.250Z", None]
        assert message.attributes.get("created_at") == expected[int(result["id"][1:]) % 4]
    negatives = {r["id"] for r in results if r["sentiment"] == "negative"}
    assert negatives == {f"t{i:04d}" for i in range(0, 1_000, 3)}, "the tiny model separates the two templates"
    neutrals = {r["id"] for r in results if r["sentiment"] == "neutral"}
    assert neutrals == {f"t{i:04d}" for i in range(2, 1_000, 3)}, "and tells the neutral template apart"

    assert len(parked) == 50
    reasons = {m.attributes["original_case"]: m.attributes["error_reason"] for m in parked}
    assert reasons == poison_sent
    for message in parked:
        assert message.attributes["error_message"] and message.attributes["source_message_id"]
        case = int(message.attributes["original_case"])
        assert message.data == POISON[(case // 20) % len(POISON)][0], "the original data is kept"


def metric_lines(log: str) -> list[dict]:
    """The structured metrics lines of a function's log (METRICS_EXPORTER=log)."""
    lines = []
    for line in log.splitlines():
        if line.startswith("{") and '"metrics"' in line:
            entry = json.loads(line)
            if "metrics" in entry:
                lines.append(entry)
    return lines


def test_a_stream_of_complaints_is_scored_and_counted_but_no_function_alerts(
        serving_bundle, pubsub_emulator, fake_gcs, bucket, tmp_path):
    """The functions are stateless: 80 negative tweets in seconds, with the old detector's settings left in
    the environment (a tiny window, 5 tweets, no cooldown), are scored and counted; nothing reaches the
    alerts topic, which only the pipeline publishes on."""
    from google.cloud import pubsub_v1

    from sentiment.telemetry import descriptors as md

    project = f"e2e-{uuid.uuid4().hex[:8]}"
    leftovers = {"BUZZ_WINDOW_SECONDS": "10", "BUZZ_MIN_TWEETS": "5", "BUZZ_NEGATIVE_SHARE": "0.5",
                 "BUZZ_COOLDOWN_SECONDS": "0", "ALERT_TOPIC": topology.ALERT_TOPIC}
    server = start_scorer(project, pubsub_emulator, fake_gcs.endpoint, publish_model(serving_bundle, bucket),
                          tmp_path, **leftovers)
    try:
        topo = topology.create(project, server.url)
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        futures = [publisher.publish(topo.topic(topology.INPUT_TOPIC),
                                     json.dumps({"id": f"c{i}", "text": f"flight {i} was awful, lost bag :("}).encode())
                   for i in range(80)]
        for future in futures:
            future.result(timeout=30)
        scored = pull_all(subscriber, topo.observer(topology.OUTPUT_TOPIC), 80, timeout=120)
        alerts = pull_all(subscriber, topo.observer(topology.ALERT_TOPIC), 0, timeout=8, settle=5)
    finally:
        server.stop()
    results = [json.loads(m.data) for m in scored]
    assert sorted(r["id"] for r in results) == sorted(f"c{i}" for i in range(80))
    assert {r["sentiment"] for r in results} == {"negative"}
    assert alerts == []

    latest: dict[str, dict] = {}  # task_id -> its last metrics line (cumulative: the last one holds the totals)
    for line in metric_lines(server.log_path.read_text()):
        latest[line["resource"]["labels"]["task_id"]] = line
    assert latest, "the shutdown flush wrote the metrics"
    written = [series for line in latest.values() for series in line["metrics"]]
    assert {series["metric"]["type"] for series in written} <= {d.type for d in md.DESCRIPTORS}
    assert {series["metric_kind"] for series in written} == {"CUMULATIVE"}
    negatives = sum(series["value"]["int64_value"] for series in written
                    if series["metric"]["type"] == md.TWEETS_SCORED.type
                    and series["metric"]["labels"]["sentiment"] == "negative")
    assert negatives == 80


def test_unreachable_model_store_retries_then_dead_letters_then_recovers(
        serving_bundle, pubsub_emulator, tmp_path):
    from google.cloud import pubsub_v1

    from converter import gcs as gcs_client

    project = f"e2e-{uuid.uuid4().hex[:8]}"
    gcs = FakeGcs(log_dir=tmp_path).start()

    def publish_to_fresh_bucket() -> str:
        gcs.create_bucket("models")
        with environment(gcs.env):
            gcs_client.client.cache_clear()
            try:
                return publish_model(serving_bundle, "models")
            finally:
                gcs_client.client.cache_clear()

    model_uri = publish_to_fresh_bucket()
    gcs.stop()  # the model bucket is now unreachable

    server = start_scorer(project, pubsub_emulator, gcs.endpoint, model_uri, tmp_path)
    try:
        topo = topology.create(project, server.url)
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        for i in range(3):
            publisher.publish(topo.topic(topology.INPUT_TOPIC), json.dumps({"id": f"early{i}", "text": "late again"})
                              .encode()).result(timeout=30)
        dead = pull_all(subscriber, topo.observer(topology.DEAD_LETTER_TOPIC), 3, timeout=120)
        assert sorted(json.loads(m.data)["id"] for m in dead) == ["early0", "early1", "early2"]
        assert not pull_all(subscriber, topo.observer(topology.OUTPUT_TOPIC), 0, timeout=2, settle=1)

        gcs.start()  # the bucket comes back (empty: the fake keeps objects in memory), republished
        publish_to_fresh_bucket()
        for i in range(2):
            publisher.publish(topo.topic(topology.INPUT_TOPIC), json.dumps({"id": f"late{i}", "text": "great crew"})
                              .encode()).result(timeout=30)
        scored = pull_all(subscriber, topo.observer(topology.OUTPUT_TOPIC), 2, timeout=60)
        assert sorted(json.loads(m.data)["id"] for m in scored) == ["late0", "late1"]
    finally:
        server.stop()
        gcs.stop()
    log = server.log_path.read_text()
    assert "model load failed" in log


def test_legacy_push_envelope_and_redelivery_are_handled_in_process(serving_bundle, pubsub_emulator, tmp_path):
    """functions-framework converts the classic push envelope; a redelivered id is not scored twice."""
    from google.cloud import pubsub_v1

    from sentiment import instance

    from .functions_support import install, make_config, store_with

    project = f"e2e-{uuid.uuid4().hex[:8]}"
    topo = topology.Topology(project)
    pubsub_v1.PublisherClient().create_topic(name=topo.topic(topology.OUTPUT_TOPIC))
    subscriber = pubsub_v1.SubscriberClient()
    subscriber.create_subscription(request={"name": topo.observer(topology.OUTPUT_TOPIC),
                                            "topic": topo.topic(topology.OUTPUT_TOPIC)})
    store = tmp_path / "store"
    store_with(serving_bundle, store)
    install(make_config(MODEL_URI=str(store), GOOGLE_CLOUD_PROJECT=project))
    try:
        from .functions_support import cloudevent_client

        client = cloudevent_client()
        envelope = {"message": {"data": base64.b64encode(b'{"id": "42", "text": "great crew :)"}').decode(),
                                "messageId": "m-1", "attributes": {"k": "v"}},
                    "subscription": f"projects/{project}/subscriptions/s"}
        path = f"/projects/{project}/topics/{topology.INPUT_TOPIC}"
        assert client.post(path, json=envelope).status_code == 200
        assert client.post(path, json=envelope).status_code == 200  # the same message id again
        results = pull_all(subscriber, topo.observer(topology.OUTPUT_TOPIC), 1, timeout=30, settle=2)
        assert [json.loads(m.data)["id"] for m in results] == ["42"]
        assert_prediction(json.loads(results[0].data), alone=False)
        assert json.loads(results[0].data)["sentiment"] == results[0].attributes["sentiment"] == "positive"
    finally:
        instance.use(None)

"""The HTTP function in process (functions-framework's own app and test client): every route,
status and error; lazy loading under concurrency; a hot swap under load."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sentiment import instance

from .functions_support import assert_prediction, http_client, install, make_config, store_with

pytestmark = pytest.mark.slow


@pytest.fixture
def store(serving_bundle, tmp_path):
    store = tmp_path / "store"
    store_with(serving_bundle, store)
    return store


@pytest.fixture
def app(store):
    state = install(make_config(MODEL_URI=str(store), MAX_BATCH_SIZE="50", MAX_TEXT_CHARS="300",
                                MAX_REQUEST_BYTES="20000"))
    yield http_client(), state
    instance.use(None)


def post(client, path, body, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers.setdefault("Content-Type", "application/json")
    return client.post(path, data=data, headers=headers)


def assert_error(response, status, fragment):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == status and fragment in body["error"]["message"], body
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_one_text(app):
    client, state = app
    response = post(client, "/predict", {"text": "love this crew, amazing flight :)"})
    assert response.status_code == 200
    body = response.get_json()
    assert_prediction(body)
    assert body["sentiment"] == "positive" and 0.5 <= body["probability_positive"] <= 1
    assert body["model_version"] == state.provider.current.version
    assert len(response.headers["X-Request-Id"]) == 32


def test_the_three_classes(app):
    client, _ = app
    texts = ["rude crew, lost my bag :(", "boarding at the gate tomorrow", "love this crew :)"]
    body = post(client, "/predict", {"texts": texts}).get_json()
    assert [p["sentiment"] for p in body["predictions"]] == ["negative", "neutral", "positive"]
    for prediction in body["predictions"]:
        assert_prediction(prediction)
    neutral = body["predictions"][1]["probabilities"]
    assert neutral["neutral"] > 0.5, "the neutral tweet is neutral, not a weak negative"


def test_root_path_and_trailing_slash_predict_too(app):
    client, _ = app
    assert post(client, "/", {"text": "rude crew :("}).get_json()["sentiment"] == "negative"
    assert post(client, "/predict/", {"text": "rude crew :("}).status_code == 200


def test_texts_and_vertex_instances(app):
    client, state = app
    texts = ["worst airline, lost bag :(", "amazing friendly crew :)"]
    body = post(client, "/predict", {"texts": texts}).get_json()
    assert list(body) == ["predictions", "model_version"]
    assert [p["sentiment"] for p in body["predictions"]] == ["negative", "positive"]
    for prediction in body["predictions"]:
        assert_prediction(prediction)
    assert body["model_version"] == state.provider.current.version
    vertex = post(client, "/predict", {"instances": [{"text": texts[0]}, texts[1]], "parameters": {}}).get_json()
    assert vertex["predictions"] == body["predictions"]


def test_a_tweet_scores_the_same_alone_and_in_a_batch(app):
    client, _ = app
    tweet = "delayed again, rude crew"
    alone = post(client, "/predict", {"text": tweet}).get_json()
    batch = post(client, "/predict", {"texts": ["a much longer tweet about the lovely friendly crew " * 3, tweet]})
    assert batch.get_json()["predictions"][1] == alone


def test_request_id_is_echoed_when_valid(app):
    client, _ = app
    response = post(client, "/predict", {"text": "ok"}, **{"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    response = post(client, "/predict", {"text": "ok"}, **{"X-Request-Id": "bad id; spaces"})
    assert response.headers["X-Request-Id"] != "bad id; spaces"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b'{"text": "caf\xe9"}', 400, "not valid UTF-8"),
        (b"", 400, "empty"),
        (b"   ", 400, "empty"),
        (b"[1, 2]", 400, "JSON object, not an array"),
        (b'"just a string"', 400, "not a string"),
        (b"null", 400, "not null"),
        (b"{}", 400, "exactly one of"),
        (b'{"text": "a", "texts": ["b"]}', 400, "exactly one of"),
        (b'{"text": 5}', 400, "text must be a string, not a number"),
        (b'{"text": null}', 400, "not null"),
        (b'{"text": ["a"]}', 400, "not an array"),
        (b'{"text": ""}', 400, "text is empty"),
        (b'{"text": "   ..."}', 400, "no words"),
        (b'{"texts": "a"}', 400, "must be an array"),
        (b'{"texts": []}', 400, "is empty"),
        (b'{"texts": ["ok", 3]}', 400, "texts[1] must be a string"),
        (b'{"texts": ["ok", ""]}', 400, "texts[1] is empty"),
        (b'{"instances": [{"txt": "a"}]}', 400, 'instances[0] has no "text"'),
        (b'{"instances": [{"text": true}]}', 400, "instances[0].text must be a string, not a boolean"),
        (b"[" * 100_000 + b"]" * 100_000, 413, "bytes"),
        (b"[" * 5_000 + b"]" * 5_000, 400, "JSON"),
        (json.dumps({"text": "x" * 301}).encode(), 413, "301 characters; the limit is 300"),
        (json.dumps({"texts": ["ok"] * 51}).encode(), 413, "51 items; the limit is 50"),
    ],
)
def test_bad_requests(app, body, status, fragment):
    client, state = app
    assert_error(post(client, "/predict", body), status, fragment)
    assert state.provider.current is None, "a bad request never needs the model"


def test_body_over_the_byte_limit(app):
    client, _ = app
    body = json.dumps({"texts": ["great flight"] * 2_000}).encode()
    assert_error(post(client, "/predict", body), 413, "bytes; the limit is 20,000")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type(app, content_type):
    client, _ = app
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/predict", data=b'{"text": "hi"}', headers=headers)
    assert_error(response, 415, "application/json")


def test_json_with_charset_is_fine(app):
    client, _ = app
    response = post(client, "/predict", {"text": "ok"}, **{"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


WRONG_METHODS = [("GET", "/predict", "POST"), ("PUT", "/", "POST"), ("POST", "/health", "GET, HEAD"),
                 ("DELETE", "/model", "GET, HEAD"), ("GET", "/feedback", "POST")]


@pytest.mark.parametrize(("method", "path", "allow"), WRONG_METHODS)
def test_wrong_method(app, method, path, allow):
    client, _ = app
    response = client.open(path, method=method)
    assert_error(response, 405, f"{method} is not allowed")
    assert response.headers["Allow"] == allow


def test_unknown_path(app):
    client, _ = app
    assert_error(client.get("/admin"), 404, "no route /admin")


def model_loads(caplog) -> int:
    return sum(record.msg.startswith("model %s loaded") for record in caplog.records)


def test_health_never_loads_the_model(app, caplog):
    client, state = app
    caplog.set_level("INFO", logger="sentiment.provider")
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["model_loaded"] is False and body["model_version"] is None
    assert model_loads(caplog) == 0
    post(client, "/predict", {"text": "ok"})
    body = client.get("/health").get_json()
    assert body["model_loaded"] is True and body["model_version"] == state.provider.current.version


def test_model_facts(app):
    client, state = app
    facts = client.get("/model").get_json()
    assert facts["model_version"] == state.provider.current.version
    assert "vocabulary" not in facts and facts["vocabulary_size"] > 2
    assert facts["classes"] == ["negative", "neutral", "positive"] and facts["schema_version"] == 2
    assert facts["heads"] and "threshold" not in facts
    assert facts["metrics"] == state.provider.current.manifest.metrics


def test_unavailable_model_is_503_never_a_guess(tmp_path):
    install(make_config(MODEL_URI=str(tmp_path / "empty-store")))
    try:
        client = http_client()
        response = post(client, "/predict", {"text": "great"})
        assert_error(response, 503, "not available")
        assert response.headers["Retry-After"] == "5"
        assert_error(client.get("/model"), 503, "not available")
        assert client.get("/health").get_json()["model_loaded"] is False
        assert_error(post(client, "/predict", {"text": ""}), 400, "empty")  # bad input is still a 400
    finally:
        instance.use(None)


def test_a_binary_era_store_is_503_and_counted_as_an_invalid_bundle_never_served(serving_bundle, tmp_path, caplog):
    """A store whose LATEST names a schema-1 (two-class) bundle: nothing is scored with it."""
    import hashlib
    import shutil

    from sentiment import bundle as bundles

    from .bundle_factory import as_binary_era

    store = tmp_path / "store"
    bundle = shutil.copytree(serving_bundle, store / serving_bundle.name)
    as_binary_era(bundle)
    manifest_sha256 = hashlib.sha256((bundle / bundles.MANIFEST_FILE).read_bytes()).hexdigest()
    (store / bundles.LATEST_FILE).write_text(bundles.latest_line(serving_bundle.name, manifest_sha256))
    import io

    from sentiment.telemetry import Telemetry

    config, metrics = make_config(MODEL_URI=str(store), METRICS_EXPORTER="log"), io.StringIO()
    state = install(config, telemetry=Telemetry(config, log_stream=metrics))
    caplog.set_level("WARNING", logger="sentiment.provider")
    try:
        client = http_client()
        assert_error(post(client, "/predict", {"text": "lost my bag"}), 503, "not available")
        assert_error(client.get("/model"), 503, "not available")
        assert state.provider.current is None
        state.telemetry.shutdown()
    finally:
        instance.use(None)
    assert any("schema 1 is a two-class" in record.getMessage() for record in caplog.records), caplog.text
    (flush,) = [json.loads(line) for line in metrics.getvalue().splitlines()]
    failures = [s for s in flush["metrics"] if s["metric"]["type"].endswith("/model_load_failures")]
    assert [s["metric"]["labels"] for s in failures] == [{"reason": "invalid_bundle"}]
    assert not [s for s in flush["metrics"] if s["metric"]["type"].endswith("/tweets_scored")]


def test_feedback_without_a_project_is_503(app):
    client, _ = app
    response = post(client, "/feedback", {"text": "bad flight", "label": "negative"})
    assert_error(response, 503, "feedback is not configured")


def test_feedback_takes_the_three_labels_and_publishes_the_class_name(store, pubsub_emulator):
    import uuid

    from google.cloud import pubsub_v1

    project = f"fb3-{uuid.uuid4().hex[:8]}"
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.create_topic(name=f"projects/{project}/topics/sentiment-feedback").name
    subscription = subscriber.create_subscription(name=f"projects/{project}/subscriptions/feedback-three",
                                                  topic=topic).name
    install(make_config(MODEL_URI=str(store), GOOGLE_CLOUD_PROJECT=project))
    sent = [("neutral", "neutral"), (2, "neutral"), ("negative", "negative"), (0, "negative"), ("positive", "positive"),
            (1, "positive")]
    try:
        client = http_client()
        for index, (label, _) in enumerate(sent):
            response = post(client, "/feedback", {"text": f"boarding at gate {index}", "label": label})
            assert response.status_code == 202, response.get_data(as_text=True)
        received = []
        while len(received) < len(sent):
            pulled = subscriber.pull(subscription=subscription, max_messages=100, timeout=10).received_messages
            assert pulled, f"only {len(received)} of {len(sent)} feedbacks arrived"
            received += pulled
    finally:
        instance.use(None)
    published = sorted((json.loads(m.message.data)["text"], json.loads(m.message.data)["label"],
                        m.message.attributes["label"]) for m in received)
    assert published == [(f"boarding at gate {i}", name, name) for i, (_, name) in enumerate(sent)]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [({"label": "negative"}, 'needs "text"'), ({"text": "x", "label": "meh"}, '"label" must be'),
     ({"text": "x", "label": True}, '"label" must be'), ({"text": "x", "label": 3}, '"neutral"'),
     ({"text": "x", "label": "Neutral"}, '"label" must be'), ({"text": "x", "label": 2.0}, '"label" must be'),
     ({"text": "x", "label": 1, "model_version": 3}, "model_version")],
)
def test_bad_feedback(app, body, fragment):
    client, _ = app
    assert_error(post(client, "/feedback", body), 400, fragment)


def test_concurrent_first_requests_load_the_model_once(store, caplog):
    install(make_config(MODEL_URI=str(store)))
    caplog.set_level("INFO", logger="sentiment.provider")
    try:
        client = http_client()
        barrier = threading.Barrier(16)

        def call(_):
            barrier.wait()
            return post(client, "/predict", {"text": "friendly crew"}).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(call, range(16)))
        assert statuses == [200] * 16
        assert model_loads(caplog) == 1
    finally:
        instance.use(None)


def test_hot_swap_under_load_fails_no_request(serving_bundle, tmp_path):
    store = tmp_path / "store"
    first = store_with(serving_bundle, store)
    state = install(make_config(MODEL_URI=str(store), MODEL_REFRESH_SECONDS="0.2"))
    client = http_client()
    statuses, versions, stop = [], set(), threading.Event()

    def hammer():
        while not stop.is_set():
            response = post(client, "/predict", {"texts": ["lost my bag", "lovely crew"]})
            statuses.append(response.status_code)
            if response.status_code == 200:
                versions.add(response.get_json()["model_version"])

    try:
        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        second = store_with(serving_bundle, store, version_suffix="-v2")
        deadline = time.monotonic() + 20
        while second not in versions and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        instance.use(None)
    assert second in versions and first in versions
    assert statuses and set(statuses) == {200}, f"{len([s for s in statuses if s != 200])} failed requests"
    assert state.provider.current.version == second


def test_a_refused_bundle_keeps_the_current_model(serving_bundle, tmp_path):
    store = tmp_path / "store"
    first = store_with(serving_bundle, store)
    state = install(make_config(MODEL_URI=str(store)))
    try:
        client = http_client()
        assert post(client, "/predict", {"text": "ok"}).get_json()["model_version"] == first
        bad = store_with(serving_bundle, store, version_suffix="-bad")
        model_file = store / bad / "model.tflite"
        model_file.write_bytes(model_file.read_bytes()[:-10])  # truncated after publication
        assert state.provider.refresh_now() is False
        assert post(client, "/predict", {"text": "ok"}).get_json()["model_version"] == first
    finally:
        instance.use(None)

"""Hostile or broken input, slow peers and a damaged model store: one test per finding of the review,
against the real parts (functions-framework over real sockets, the Pub/Sub emulator, a real store).

The numbers are the review's: 1 a request costing seconds of CPU, 2 slow connections, 3 feedback tied
to Pub/Sub, 4 invalid JSON out, 5 crashes instead of rejections, 6 an unverified manifest, 7 model
file handling, 9 the smaller ones. (8, the local stack's supervisor: tests/test_devstack.py.)
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.functions import FunctionServer
from sentiment import bundle as bundles
from sentiment import instance
from sentiment.errors import BundleError, Rejected
from sentiment.payloads import parse_tweet

from .functions_support import http_client, install, make_config, store_with

pytestmark = pytest.mark.slow


@pytest.fixture
def store(serving_bundle, tmp_path):
    path = tmp_path / "store"
    store_with(serving_bundle, path)
    return path


def post(client, path, data, content_type="application/json", **headers):
    return client.post(path, data=data, headers={"Content-Type": content_type, **headers})


@pytest.fixture
def app(store):
    install(make_config(MODEL_URI=str(store), MAX_BATCH_SIZE="1000"))
    yield http_client()
    instance.use(None)


# --- 1. one request must not cost seconds of CPU -----------------------------------------------------------

def test_a_request_over_its_cpu_budget_is_refused_and_a_normal_one_is_not(store):
    install(make_config(MODEL_URI=str(store), MAX_BATCH_SIZE="1000", REQUEST_CPU_SECONDS="0.1"))
    try:
        client = http_client()
        heavy = json.dumps({"texts": ["lost my bag again, " * 180 + "(" * 300] * 1000})
        started = time.monotonic()
        response = post(client, "/predict", heavy)
        assert response.status_code == 413, response.get_data(as_text=True)
        assert "CPU" in response.get_json()["error"]["message"]
        assert time.monotonic() - started < 5
        assert post(client, "/predict", json.dumps({"texts": ["lost my bag"] * 100})).status_code == 200
    finally:
        instance.use(None)


# --- 2. slow connections ------------------------------------------------------------------------------------

def test_slow_bodies_get_408_and_do_not_freeze_the_function(store, tmp_path):
    env = {"MODEL_URI": str(store), "METRICS_EXPORTER": "none", "GOOGLE_CLOUD_PROJECT": "",
           "REQUEST_READ_SECONDS": "2", "THREADS": "4"}
    with FunctionServer("predict_http", "http", env, log_dir=tmp_path) as server:
        slow = []
        for _ in range(8):  # twice the threads
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"text\": \"lo")
            slow.append(sock)
        started = time.monotonic()
        request = urllib.request.Request(f"{server.url}/predict", data=b'{"text": "lost my bag"}',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        assert time.monotonic() - started < 8, "a normal request waited for the slow ones too long"
        for sock in slow:
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            sock.close()


# --- 3. /feedback must not tie /predict to Pub/Sub -------------------------------------------------------------

@pytest.fixture
def stalled_pubsub():
    """A listener that accepts connections and never answers: a Pub/Sub that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for sock in held:
        sock.close()
    listener.close()


def test_feedback_with_pubsub_stalled_answers_503_fast_and_predictions_go_on(store, stalled_pubsub, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", stalled_pubsub)
    install(make_config(MODEL_URI=str(store), GOOGLE_CLOUD_PROJECT="p"))
    try:
        client = http_client()
        assert post(client, "/predict", '{"text": "warm up"}').status_code == 200

        def feedback(i):
            started = time.monotonic()
            response = post(client, "/feedback", json.dumps({"text": f"late flight {i}", "label": "negative"}))
            return response, time.monotonic() - started

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(feedback, range(8)))
            started = time.monotonic()
            assert post(client, "/predict", '{"text": "great crew"}').status_code == 200
            predict_seconds = time.monotonic() - started
        for response, seconds in answers:
            assert response.status_code == 503 and response.headers["Retry-After"], response.get_data(as_text=True)
            assert seconds < 4
        assert predict_seconds < 4
    finally:
        instance.use(None)


def test_feedback_is_rate_limited_per_invoker_and_deduplicated(store, pubsub_emulator):
    from google.cloud import pubsub_v1

    project = f"fb-{uuid.uuid4().hex[:8]}"
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.create_topic(name=f"projects/{project}/topics/sentiment-feedback").name
    subscription = subscriber.create_subscription(name=f"projects/{project}/subscriptions/feedback-observer",
                                                  topic=topic).name
    install(make_config(MODEL_URI=str(store), GOOGLE_CLOUD_PROJECT=project, FEEDBACK_PER_MINUTE="5"))
    try:
        client = http_client()
        same = json.dumps({"text": "lost my bag", "label": "negative"})
        first, again = post(client, "/feedback", same), post(client, "/feedback", same)
        assert first.status_code == again.status_code == 202
        assert again.get_json() == {**first.get_json(), "duplicate": True}
        statuses = [post(client, "/feedback", json.dumps({"text": f"late {i}", "label": "negative"})).status_code
                    for i in range(5)]
        assert statuses == [202, 202, 202, 429, 429]
        limited = post(client, "/feedback", json.dumps({"text": "late 9", "label": "negative"}))
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        other = post(client, "/feedback", json.dumps({"text": "late 9", "label": "negative"}),
                     **{"X-Forwarded-For": "203.0.113.9"})
        assert other.status_code == 202, "another invoker has its own budget"
        response = subscriber.pull(subscription=subscription, max_messages=100, timeout=10)
        texts = sorted(json.loads(m.message.data)["text"] for m in response.received_messages)
        assert texts == sorted(["lost my bag", "late 0", "late 1", "late 2", "late 9"])
    finally:
        instance.use(None)


# --- 4 and 5: every output valid JSON, crashes become rejections -------------------------------------------------

@pytest.mark.parametrize("data", [
    b'{"text": "lost my bag", "created_at": NaN}',
    b'{"text": "lost my bag", "user": {"followers": Infinity}}',
    b'{"text": "lost my bag", "user": {"score": 1e999}}',
    b'{"text": "lost my bag", "id": ' + b"9" * 5000 + b"}",
    b'{"text": "lost my bag", "user": "\\ud800"}',
    b'"a JSON string"', b"42", b"true", b"[1, 2]",
], ids=["nan", "infinity", "overflow", "huge-int", "lone-surrogate", "string", "number", "literal", "array"])
def test_pubsub_data_that_cannot_become_valid_json_is_rejected(data):
    with pytest.raises(Rejected) as rejected:
        parse_tweet(data, make_config())
    assert rejected.value.status == 400 and rejected.value.reason in ("bad_json", "bad_field", "bad_encoding")


def test_a_bom_before_json_is_json_and_plain_text_stays_text():
    tweet = parse_tweet(b"\xef\xbb\xbf" + b'{"id": 7, "text": "lost my bag"}', make_config())
    assert tweet.id == "7" and tweet.checked.text == "lost my bag"
    assert parse_tweet(b"42 minutes on the tarmac", make_config()).checked.text.startswith("42 minutes")


@pytest.mark.parametrize(("body", "status", "fragment"), [
    (b'{"text": "ok", "n": ' + b"1" * 4400 + b"}", 400, "malformed JSON"),
    (b'{"text": "ok", "n": NaN}', 400, "malformed JSON"),
    (b'{"text": "lost \\udc80 bag", "label": "negative"}', 400, "surrogate"),
    (b"[" + b"{}," * 400_000 + b"{}]", 413, "values"),
    (b"[" * 100 + b"]" * 100, 400, "nested"),
], ids=["huge-int", "nan", "lone-surrogate", "many-values", "deep"])
@pytest.mark.parametrize("path", ["/predict", "/feedback"])
def test_crashes_of_the_review_are_rejections(app, body, status, fragment, path):
    response = post(app, path, body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert fragment in response.get_json()["error"]["message"]


def test_a_broken_chunked_body_is_400_over_a_real_socket(store, tmp_path):
    env = {"MODEL_URI": str(store), "METRICS_EXPORTER": "none", "GOOGLE_CLOUD_PROJECT": ""}
    with FunctionServer("predict_http", "http", env, log_dir=tmp_path) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
            answer = sock.recv(4096)
        assert answer.split(b"\r\n")[0] in (b"HTTP/1.1 400 BAD REQUEST", b"HTTP/1.1 400 Bad Request"), answer[:300]


# --- 6. the manifest is integrity-checked -----------------------------------------------------------------------

def edit_manifest(store, change):
    version = (store / bundles.LATEST_FILE).read_text().split()[0]
    path = store / version / bundles.MANIFEST_FILE
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("change", [
    lambda m: m.__setitem__("vocabulary", m["vocabulary"][:2] + m["vocabulary"][2:][::-1]),  # shuffled, same size
    lambda m: m.__setitem__("vocabulary", m["vocabulary"][: len(m["vocabulary"]) // 2]),  # halved
    lambda m: m.__setitem__("threshold", 0.9),
], ids=["shuffled-vocabulary", "halved-vocabulary", "threshold"])
def test_a_manifest_changed_after_publication_is_refused(store, change):
    edit_manifest(store, change)
    with pytest.raises(BundleError, match="not the one LATEST names"):
        bundles.fetch(store)


def test_a_version_with_a_newline_and_a_manifest_of_another_version_are_refused(store, serving_bundle, tmp_path):
    version = (store / bundles.LATEST_FILE).read_text().split()[0]
    with pytest.raises(BundleError):
        bundles.parse_latest(f"v-nl\n sha256:{'0' * 64}".encode(), "LATEST")
    manifest = json.loads((serving_bundle / bundles.MANIFEST_FILE).read_text())
    with pytest.raises(BundleError, match="invalid model version"):
        bundles.Manifest.from_dict({**manifest, "model_version": "v-nl\n"})
    other = store / "other-version"
    shutil.copytree(store / version, other)  # a directory whose manifest names another version
    raw = (other / bundles.MANIFEST_FILE).read_bytes()
    (store / bundles.LATEST_FILE).write_text(bundles.latest_line("other-version", __import__("hashlib")
                                                                 .sha256(raw).hexdigest()))
    with pytest.raises(BundleError, match="manifest there says"):
        bundles.fetch(store)


def test_a_refresh_to_a_tampered_bundle_is_refused_and_the_old_model_keeps_serving(store, serving_bundle, caplog):
    state = install(make_config(MODEL_URI=str(store)))
    try:
        client = http_client()
        assert post(client, "/predict", '{"text": "ok"}').status_code == 200
        serving = state.provider.current.version
        new_version = store_with(serving_bundle, store, "-next")
        edit_manifest(store, lambda m: m.__setitem__("vocabulary", m["vocabulary"][:2] + m["vocabulary"][2:][::-1]))
        assert state.provider.refresh_now() is False
        assert state.provider.current.version == serving != new_version
        assert post(client, "/predict", '{"text": "ok"}').status_code == 200
    finally:
        instance.use(None)


# --- 7. model file handling ----------------------------------------------------------------------------------------

def test_truncating_the_model_file_under_a_serving_instance_changes_nothing(serving_bundle, tmp_path):
    store = tmp_path / "store"
    store_with(serving_bundle, store)
    state = install(make_config(MODEL_URI=str(store)))
    try:
        client = http_client()
        before = post(client, "/predict", '{"text": "lost my bag"}').get_json()
        version = state.provider.current.version
        with open(store / version / bundles.MODEL_FILE, "r+b") as model_file:
            model_file.truncate(100)  # in place: what a broken copy or a full disk does
        for _ in range(20):
            assert post(client, "/predict", '{"text": "lost my bag"}').get_json() == before
    finally:
        instance.use(None)


def test_a_restart_while_the_store_is_down_serves_the_cached_bundle(serving_bundle, fake_gcs, bucket, tmp_path):
    from converter.publish import publish

    from .functions_support import environment

    store = f"gs://{bucket}/models"
    publish(serving_bundle, store)
    cache = tmp_path / "cache"
    config = make_config(MODEL_URI=store, MODEL_CACHE_DIR=str(cache), STORAGE_EMULATOR_HOST=fake_gcs.endpoint)
    first = install(config)
    try:
        assert post(http_client(), "/predict", '{"text": "ok"}').status_code == 200
        version = first.provider.current.version
    finally:
        instance.use(None)
    unreachable = {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:9"}  # nothing listens: connection refused
    with environment(unreachable):
        restarted = install(make_config(MODEL_URI=store, MODEL_CACHE_DIR=str(cache), **unreachable))
        try:
            assert post(http_client(), "/predict", '{"text": "ok"}').status_code == 200
            assert restarted.provider.current.version == version
        finally:
            instance.use(None)
        install(make_config(MODEL_URI=store, MODEL_CACHE_DIR=str(tmp_path / "empty"), **unreachable))
        try:
            assert post(http_client(), "/predict", '{"text": "ok"}').status_code == 503, "no cache: no model"
        finally:
            instance.use(None)


# --- 9. the smaller findings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "fragment"), [
    ({"Content-Encoding": "br"}, "uncompressed"),
    ({"Content-Encoding": "gzip"}, "uncompressed"),
    ({"Content-Type": "application/json; charset=latin-1"}, "UTF-8"),
])
def test_compressed_or_non_utf8_bodies_are_415_with_a_reason(app, headers, fragment):
    content_type = headers.pop("Content-Type", "application/json")
    response = post(app, "/predict", b'{"text": "lost my bag"}', content_type, **headers)
    assert response.status_code == 415 and fragment in response.get_json()["error"]["message"]
    assert post(app, "/predict", b'{"text": "ok"}', "application/json; charset=UTF-8").status_code == 200


def test_a_huge_url_path_is_not_echoed_whole_into_the_logs(store, tmp_path):
    env = {"MODEL_URI": str(store), "METRICS_EXPORTER": "none", "GOOGLE_CLOUD_PROJECT": ""}
    with FunctionServer("predict_http", "http", env, log_dir=tmp_path) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /" + b"a" * 2_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
        time.sleep(0.5)
        longest = max(len(line) for line in server.log_path.read_text().splitlines())
        assert longest < 2_000, f"a log line of {longest:,} characters"

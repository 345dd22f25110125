"""The adversarial suite: generated hostile HTTP bodies and Pub/Sub messages against the real processes.

Bounded counts so that CI runs it (marker ``adversarial``; about a minute). What must hold, whatever
comes in: no 5xx (but 503 with a Retry-After where the contract says so), every answer strict JSON,
every Pub/Sub message accounted for exactly once (scored on tweets-scored or parked on the dead-letter
topic with its reason), and nothing but strict JSON on any topic.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid

import pytest

from devstack import topology
from devstack.functions import FunctionServer

from .functions_support import assert_prediction, store_with
from .test_pubsub_e2e import pull_all, start_scorer

pytestmark = [pytest.mark.slow, pytest.mark.adversarial]
SEED = 20261201
HTTP_CASES = 400
PUBSUB_CASES = 150


def strict_json(data: bytes):
    """JSON as RFC 8259 has it: UTF-8, no NaN/Infinity (json.loads alone accepts both)."""
    def refuse(name):
        raise ValueError(f"{name} in the output")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def hostile_values(rng: random.Random, depth: int = 0):
    """A JSON-ish value of the kinds that broke things: surrogates, NaN, huge numbers, deep nesting..."""
    kind = rng.randrange(12 if depth < 4 else 6)
    if kind == 0:
        return rng.choice(["lost my bag", "great crew :)", "", "   ", "...", "(" * 3000, ")" * 3000 + ":", "😡" * 50,
                           "<!channel> @everyone", "x" * 4001, "\u0000\u200b", "null"])
    if kind == 1:
        return rng.choice([0, -1, 2**63, 10**200, 1.5, 1e308])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return "\ud800" if rng.random() < 0.5 else "ok \udfff end"  # lone surrogates (escaped on the wire)
    if kind in (4, 5):
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 60)))
    if kind in (6, 7, 8):
        return [hostile_values(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {rng.choice(["text", "texts", "instances", "id", "label", "created_at", "user", "x"]):
            hostile_values(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def hostile_body(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))  # garbage
    if kind == 1:
        return rng.choice([b"NaN", b'{"text": NaN}', b'{"text": "a", "n": Infinity}', b'{"texts": [-Infinity]}',
                           b'{"text": "ok", "n": ' + b"9" * 4400 + b"}", b'{"text": "ok", "n": 1e999}'])
    if kind == 2:
        return b"[" * rng.randrange(30, 5000) + b"]" * rng.randrange(0, 5000)
    if kind == 3:
        return b"\xef\xbb\xbf" + json.dumps({"text": "lost my bag"}).encode()
    if kind == 4:
        return b'{"texts": [' + b",".join([b'"late"'] * rng.randrange(900, 1200)) + b"]}"
    if kind == 5:
        return b"[" + b"{}," * rng.randrange(1000, 50_000) + b"{}]"
    if kind == 6:
        return json.dumps({"text": "caf\u00e9"}).encode("latin-1", "replace")
    return json.dumps(hostile_values(rng)).encode("utf-8", "surrogatepass")


def test_hostile_http_bodies_get_no_5xx_and_strict_json(serving_bundle, tmp_path):
    store = tmp_path / "store"
    store_with(serving_bundle, store)
    env = {"MODEL_URI": str(store), "METRICS_EXPORTER": "none", "GOOGLE_CLOUD_PROJECT": "",
           "REQUEST_READ_SECONDS": "5", "FEEDBACK_PER_MINUTE": "100000"}
    rng = random.Random(SEED)
    statuses: dict[int, int] = {}
    with FunctionServer("predict_http", "http", env, log_dir=tmp_path) as server:
        for case in range(HTTP_CASES):
            body = hostile_body(rng)
            path = rng.choice(["/predict", "/predict", "/feedback", "/", "/model"])
            content_type = rng.choice(["application/json"] * 6 + ["text/plain", "application/json; charset=latin-1",
                                                                   "application/x-www-form-urlencoded", ""])
            headers = {"Content-Type": content_type} if content_type else {}
            if rng.random() < 0.05:
                headers["Content-Encoding"] = rng.choice(["gzip", "br"])
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            finally:
                connection.close()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            context = f"case {case}: POST {path} {headers} {body[:200]!r} -> {response.status} {data[:300]!r}"
            assert response.status < 500 or (response.status == 503 and path == "/feedback"), context
            answer = strict_json(data)
            if response.status >= 400:
                assert set(answer) == {"error"} and answer["error"]["code"] == response.status, context
    assert statuses.get(200, 0) > 10 and sum(n for s, n in statuses.items() if 400 <= s < 500) > 100, statuses


def hostile_message(rng: random.Random, index: int) -> bytes:
    kind = rng.randrange(8)
    if kind <= 2:  # valid tweets, some with awkward passthrough fields
        tweet = {"id": f"ok-{index}", "text": rng.choice(["lost my bag again", "lovely crew", "3 h late #fail 😡"]),
                 "created_at": "2026-11-30T10:00:00Z", "user": {"name": "a\u0301", "n": rng.randrange(10)}}
        return json.dumps(tweet, ensure_ascii=rng.random() < 0.5).encode()
    if kind == 3:
        return rng.choice([b"plain text is a tweet too", "caf\u00e9 en retard".encode(), b"...", b""])
    return hostile_body(rng)


def test_hostile_pubsub_messages_are_each_accounted_for_and_topics_stay_strict_json(
        serving_bundle, pubsub_emulator, fake_gcs, bucket, tmp_path):
    from google.cloud import pubsub_v1

    from converter.publish import publish

    project = f"adv-{uuid.uuid4().hex[:8]}"
    model_uri = f"gs://{bucket}/models"
    publish(serving_bundle, model_uri)
    server = start_scorer(project, pubsub_emulator, fake_gcs.endpoint, model_uri, tmp_path)
    try:
        topo = topology.create(project, server.url)
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        rng = random.Random(SEED)
        futures = [publisher.publish(topo.topic(topology.INPUT_TOPIC), hostile_message(rng, i), case=str(i))
                   for i in range(PUBSUB_CASES)]
        published = {future.result(60) for future in futures}
        assert len(published) == PUBSUB_CASES
        deadline = time.monotonic() + 180
        scored, parked = [], []
        while time.monotonic() < deadline and len({m.attributes["source_message_id"] for m in scored + parked}) \
                < PUBSUB_CASES:
            scored += pull_all(subscriber, topo.observer(topology.OUTPUT_TOPIC), 0, 10, settle=1)
            parked += pull_all(subscriber, topo.observer(topology.DEAD_LETTER_TOPIC), 0, 10, settle=1)
        for message in scored:
            result = strict_json(message.data)
            assert result["source_message_id"] == message.attributes["source_message_id"]
            assert_prediction(result, alone=False)
        for message in parked:
            assert message.attributes.get("error_reason"), message.attributes
        outcomes = [m.attributes["source_message_id"] for m in scored + parked]
        assert set(outcomes) == published, f"unaccounted: {sorted(published - set(outcomes))[:5]}"
        assert len(outcomes) == len(set(outcomes)), "a message was both scored and parked, or twice"
        assert len(scored) > PUBSUB_CASES // 4 and len(parked) > PUBSUB_CASES // 4, (len(scored), len(parked))
        log = server.log_path.read_text(errors="replace")
        assert "Traceback" not in log, log[log.find("Traceback") - 500:][:3000]
    finally:
        server.stop()

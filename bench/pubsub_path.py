"""Pub/Sub path: tweets published to the input topic, pushed by the emulator into ``score_pubsub``
(functions-framework, one core, 4 threads), published by it to the output topic and pulled back here.

Each tweet's latency runs from just before its ``publish()`` call to its arrival on the observer
subscription of the output topic; throughput is the tweet count over first publish to last arrival.
Loss is what never arrives (by tweet id) within the time bound; dead-lettered messages are counted.
The topology is the local copy of Terraform's (``devstack.topology``).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from pathlib import Path

from bench import common

PROJECT = "bench-local"


def run(store: Path, texts: list[str], log_dir: Path, count: int, timeout: float) -> dict:
    from devstack import topology
    from devstack.emulators import PubSubEmulator
    from devstack.functions import FunctionServer

    emulator = PubSubEmulator(log_dir=log_dir).start(timeout=60)
    try:
        os.environ.update(emulator.env)
        env = {**emulator.env, "MODEL_URI": str(store), "GOOGLE_CLOUD_PROJECT": PROJECT, "THREADS": "4",
               "METRICS_EXPORTER": "log", "MODEL_REFRESH_SECONDS": "0"}
        scorer = FunctionServer("score_pubsub", "cloudevent", env, log_dir=log_dir)
        with common.pinned(common.server_core()):
            scorer.start(timeout=60)
        try:
            names = topology.create(PROJECT, scorer.url)
            pids = common.process_tree(scorer.process.pid)
            with common.pinned(common.client_cores()):
                warm = stream(names, texts, min(20, count), "warmup", timeout)  # loads the model
                if warm["lost"]:
                    raise RuntimeError(f"warm-up lost {warm['lost']} tweets; see {scorer.log_path}")
                java = common.process_tree(emulator.process.pid)
                before = common.cpu_seconds(pids), common.cpu_seconds(java), _own_cpu()
                log_from = scorer.log_path.stat().st_size
                result = stream(names, texts, count, "burst", timeout)
                after = common.cpu_seconds(pids), common.cpu_seconds(java), _own_cpu()
                result["function"] = handled(scorer.log_path, log_from, "burst-", result["seconds"])
                result["server_cpu_seconds_per_tweet"] = (after[0] - before[0]) / count
                result["cpu_seconds"] = {"function": after[0] - before[0], "emulator": after[1] - before[1],
                                         "load generator": after[2] - before[2]}
                paced_rate = max(10.0, round(result["tweets_per_second"] / 2, -1))
                paced_count = max(20, min(count // 5, int(paced_rate * 5)))
                result["paced"] = stream(names, texts, paced_count, "paced", timeout, paced_rate)
                result["direct"] = direct(scorer, names, texts, count, 4, timeout, pids)
            result["dead_lettered"] = drain(names.observer(topology.DEAD_LETTER_TOPIC))
            result["peak_rss_mb"] = common.peak_rss_mb(pids[-1])
            return result
        finally:
            scorer.stop()
    finally:
        emulator.stop()


class Results:
    """Pulls the output topic's observer subscription in a thread; arrival time per tweet id of one tag.

    Synchronous pulls: the emulator's streaming pull trickles under load.
    """

    def __init__(self, names, tag: str, count: int):
        from google.cloud import pubsub_v1

        from devstack import topology

        self.tag, self.count = tag, count
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self._stopping = threading.Event()
        self._subscription = names.observer(topology.OUTPUT_TOPIC)
        self._subscriber = pubsub_v1.SubscriberClient()
        self._thread = threading.Thread(target=self._receive, name="results", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stopping.is_set() and len(self.arrived) < self.count:
            try:
                response = self._subscriber.pull(subscription=self._subscription, max_messages=1000, timeout=5)
            except Exception:  # noqa: BLE001  (a deadline with nothing to pull: keep going until stopped)
                continue
            now = time.perf_counter()
            if not response.received_messages:
                continue
            self._subscriber.acknowledge(subscription=self._subscription,
                                         ack_ids=[m.ack_id for m in response.received_messages])
            for received in response.received_messages:
                tweet_id = json.loads(received.message.data)["id"]
                if not tweet_id.startswith(f"{self.tag}-"):
                    continue  # a late result of an earlier stream
                if tweet_id in self.arrived:
                    self.duplicates += 1
                else:
                    self.arrived[tweet_id] = now

    def wait(self, timeout: float) -> None:
        self._thread.join(timeout)
        self._stopping.set()
        self._thread.join(10)
        self._subscriber.close()


def stream(names, texts: list[str], count: int, tag: str, timeout: float, rate: float | None = None) -> dict:
    """Publish ``count`` tweets (a burst, or ``rate`` per second); wait for every result or the timeout."""
    from google.cloud import pubsub_v1

    from devstack import topology

    published: dict[str, float] = {}
    results = Results(names, tag, count)
    publisher = pubsub_v1.PublisherClient(pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.005))
    topic = names.topic(topology.INPUT_TOPIC)
    futures = []
    started = time.perf_counter()
    for index in range(count):
        if rate:
            time.sleep(max(0.0, started + index / rate - time.perf_counter()))
        tweet_id = f"{tag}-{index}"
        published[tweet_id] = time.perf_counter()
        futures.append(publisher.publish(topic, json.dumps({"id": tweet_id, "text": texts[index % len(texts)]})
                                         .encode()))
    for future in futures:
        future.result(timeout=60)
    publish_seconds = time.perf_counter() - started
    results.wait(timeout)
    arrived = results.arrived
    latencies = [arrived[i] - published[i] for i in arrived]
    last = max(arrived.values(), default=started)
    return {"tweets": count, "rate": rate, "received": len(arrived), "lost": count - len(arrived),
            "duplicates": results.duplicates, "seconds": last - started, "publish_seconds": publish_seconds,
            "tweets_per_second": len(arrived) / (last - started) if arrived else 0.0,
            "latency": common.summary_ms(latencies), "latency_seconds": latencies}


def direct(scorer, names, texts: list[str], count: int, clients: int, timeout: float, pids: list[int]) -> dict:
    """The instance alone with ``clients`` pushes in flight: our load generator posts the emulator's push
    envelope (one unique message each) to the function; results still go through the real output topic."""
    from bench import http_load
    from devstack import topology

    subscription = names.subscription(topology.PUSH_SUBSCRIPTION)
    bodies = []
    for index in range(count):
        data = json.dumps({"id": f"direct-{index}", "text": texts[index % len(texts)]}).encode()
        bodies.append(json.dumps({"message": {"data": base64.b64encode(data).decode(), "messageId": f"d{index}",
                                              "publishTime": "2026-11-25T00:00:00Z", "attributes": {}},
                                  "subscription": subscription}).encode())
    results = Results(names, "direct", count)
    path = topology.push_endpoint("", PROJECT)
    phase = http_load.load(scorer.port, bodies, http_load.Phase("direct", 1, clients), count, timeout, pids, path=path)
    results.wait(timeout)
    return {**phase.result(), "clients": clients, "received": len(results.arrived),
            "lost": count - len(results.arrived), "duplicates": results.duplicates}


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def handled(log: Path, offset: int, prefix: str, seconds: float) -> dict:
    """The function's own time per message (its "scored" log lines from ``offset`` on) and how many it handled
    at once on average."""
    latencies = []
    with open(log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode("utf-8", errors="replace").splitlines()
    for line in lines:
        if '"outcome":"scored"' in line or '"outcome": "scored"' in line:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if str(record.get("tweet_id", "")).startswith(prefix) and "latency_ms" in record:
                latencies.append(record["latency_ms"] / 1e3)
    if not latencies:
        return {}
    return {**common.summary_ms(latencies), "in_flight": sum(latencies) / seconds if seconds else 0.0}


def drain(subscription: str) -> int:
    """Messages waiting on a pull subscription (acknowledged, so a rerun starts empty)."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    total = 0
    try:
        while True:
            response = subscriber.pull(subscription=subscription, max_messages=1000, timeout=5,
                                       return_immediately=True)
            if not response.received_messages:
                return total
            total += len(response.received_messages)
            subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages])
    finally:
        subscriber.close()

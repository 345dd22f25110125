"""HTTP function under load: functions-framework (gunicorn) serving ``predict_http`` as in production.

The server runs as its own process tree pinned to one core (a 1-vCPU instance) with 4 request threads
(Cloud Run's concurrency 4 of infra/, functions-framework's threads per vCPU); the load generator
runs in this process on the other core: Python threads, one keep-alive ``http.client`` connection
each, every phase bounded in time and in count. Each request body is a distinct sampled tweet (or
batch of them); every non-200 answer or socket error counts as an error.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import common


@dataclass
class Phase:
    name: str
    tweets_per_request: int
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def result(self) -> dict:
        requests = len(self.latencies)
        return {"name": self.name, "tweets_per_request": self.tweets_per_request, "clients": self.clients,
                "requests": requests, "errors": self.errors, "seconds": self.seconds,
                "rps": requests / self.seconds if self.seconds else 0.0,
                "tweets_per_second": requests * self.tweets_per_request / self.seconds if self.seconds else 0.0,
                "server_cpu_seconds_per_tweet": self.cpu_seconds / max(1, requests * self.tweets_per_request),
                **common.summary_ms(self.latencies)}


def post(connection: http.client.HTTPConnection, body: bytes, path: str = "/predict") -> int:
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def load(port: int, bodies: list[bytes], phase: Phase, max_requests: int, max_seconds: float,
         server_pids: list[int] | None = None, path: str = "/predict") -> Phase:
    """``phase.clients`` threads post ``bodies`` round robin until ``max_requests`` or ``max_seconds``."""
    lock = threading.Lock()
    issued = [0]
    deadline = time.perf_counter() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, errors = [], 0
        while time.perf_counter() < deadline:
            with lock:
                if issued[0] >= max_requests:
                    break
                index = issued[0]
                issued[0] += 1
            started = time.perf_counter()
            try:
                status = post(connection, bodies[index % len(bodies)], path)
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if 200 <= status < 300:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        connection.close()
        with lock:
            phase.latencies.extend(latencies)
            phase.errors += errors

    cpu_before = common.cpu_seconds(server_pids or [])
    started = time.perf_counter()
    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(phase.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    phase.cpu_seconds = common.cpu_seconds(server_pids or []) - cpu_before
    return phase


def bodies_of(texts: list[str], per_request: int, count: int) -> list[bytes]:
    if per_request == 1:
        return [json.dumps({"text": text}).encode() for text in texts[:count]]
    return [json.dumps({"texts": [texts[(start + i) % len(texts)] for i in range(per_request)]}).encode()
            for start in range(0, per_request * count, per_request)]


def start_server(store: Path, log_dir: Path):
    from devstack.functions import FunctionServer

    env = {"MODEL_URI": str(store), "THREADS": "4", "METRICS_EXPORTER": "log", "MODEL_REFRESH_SECONDS": "0"}
    server = FunctionServer("predict_http", "http", env, log_dir=log_dir)
    with common.pinned(common.server_core()):  # the server's processes and threads inherit the core
        server.start(timeout=60)
    return server


def run(store: Path, texts: list[str], log_dir: Path, quick: bool) -> dict:
    scale = 0.05 if quick else 1.0
    plan = [  # name, tweets per request, clients, most requests, most seconds
        ("single", 1, 1, 2000, 20), ("batch100", 100, 1, 100, 20), ("batch1000", 1000, 1, 20, 30),
        ("concurrency1", 1, 1, 4000, 5), ("concurrency4", 1, 4, 8000, 5), ("concurrency16", 1, 16, 16000, 5),
        ("batch100x4", 100, 4, 200, 10),
    ]
    server = start_server(store, log_dir)
    try:
        pids = common.process_tree(server.process.pid)
        with common.pinned(common.client_cores()):
            load(server.port, bodies_of(texts, 1, 50), Phase("warmup", 1, 1), 50, 30, pids)  # loads the model
            pids = common.process_tree(server.process.pid)
            phases = []
            for name, per_request, clients, most, seconds in plan:
                count = max(2, int(most * scale))
                bodies = bodies_of(texts, per_request, min(count, max(1, len(texts) // per_request) * 4))
                phase = load(server.port, bodies, Phase(name, per_request, clients), count, seconds * max(scale, 0.2),
                             pids)
                phases.append(phase)
        worker, arbiter = pids[-1], pids[0]
        return {"phases": {p.name: p.result() for p in phases}, "single_seconds": phases[0].latencies,
                "peak_rss_mb": {"worker": common.peak_rss_mb(worker), "arbiter": common.peak_rss_mb(arbiter)},
                "processes": len(pids)}
    finally:
        server.stop()

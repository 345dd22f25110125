"""Cold start: a fresh process until its first successful prediction, the model fetched from fake-gcs-server.

Our function: ``functions-framework --target predict_http`` (gunicorn), ``MODEL_URI=gs://…`` and an
empty model cache; the replaced design: ``bench/keras_server.py`` (Flask + ``keras.saving.load_model``
of a .keras file in the same bucket). Both are spawned pinned to one core, and a client polls
``POST /predict`` every 2 ms from the spawn until the first 200: that interval is the cold start.
The breakdown comes from ``bench/startup_probe.py`` run in fresh processes the same way (the server
boot, gunicorn's fork and the first request's handling are what the end-to-end time adds to it).
Peak RSS of both servers is read after a short load (4 clients) that follows the first prediction.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common, http_load

BUCKET = "bench-models"
OURS_URI = f"gs://{BUCKET}/sentiment"
KERAS_URI = f"gs://{BUCKET}/keras"


def publish(store: Path, gcs_env: dict[str, str], work: Path) -> dict:
    """Our bundle under gs://bench-models/sentiment, a .keras file and its vocabulary under keras/."""
    from converter import gcs
    from converter.publish import publish as publish_bundle

    os.environ.update(gcs_env)
    gcs.client.cache_clear()
    bundle = common.bundle_dir(store)
    publish_bundle(bundle, OURS_URI)
    keras_file = work / "model.keras"
    saved = common.run_json(["-m", "bench.keras_worker", "save", "--store", str(store), "--output", str(keras_file)],
                            timeout=600)
    vocabulary = work / "vocabulary.json"
    vocabulary.write_text(json.dumps(common.manifest(store)["vocabulary"]), encoding="utf-8")
    bucket = gcs.client().bucket(BUCKET)
    for path in (keras_file, vocabulary):
        bucket.blob(f"keras/{path.name}").upload_from_filename(str(path))
    return {"keras_file_bytes": saved["bytes"], "keras_origin": saved["origin"],
            "tflite_bytes": (bundle / "model.tflite").stat().st_size,
            "bundle_bytes": sum(p.stat().st_size for p in (bundle / "model.tflite", bundle / "manifest.json"))}


def first_prediction(command: list[str], env: dict[str, str], port: int, body: bytes, log: Path,
                     timeout: float) -> tuple[float, subprocess.Popen]:
    """Spawn ``command`` pinned to the server core; seconds until POST /predict first answers 200."""
    import http.client

    with open(log, "ab") as output, common.pinned(common.server_core()):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True, cwd=common.REPO)
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[:4]} exited with {process.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            if http_load.post(connection, body) == 200:
                return time.perf_counter() - started, process
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.002)
    stop(process)
    raise RuntimeError(f"{command[:4]}: no prediction within {timeout:.0f} s; see {log}")


def stop(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def ours_command(port: int) -> list[str]:
    from devstack.functions import MAIN

    return [sys.executable, "-m", "functions_framework", "--target", "predict_http", "--signature-type", "http",
            "--source", str(MAIN), "--host", "127.0.0.1", "--port", str(port)]


def keras_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.keras_server", "--port", str(port), "--model-uri", KERAS_URI]


def trial(design: str, gcs_env: dict[str, str], texts: list[str], log_dir: Path, load_requests: int) -> dict:
    from devstack.emulators import free_port

    port = free_port()
    cache = tempfile.mkdtemp(prefix="bench-model-cache-")
    env = {**os.environ, **gcs_env, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if design == "ours":
        env.update({"MODEL_URI": OURS_URI, "MODEL_CACHE_DIR": cache, "THREADS": "4", "METRICS_EXPORTER": "log",
                    "MODEL_REFRESH_SECONDS": "0", "GOOGLE_CLOUD_PROJECT": ""})
        command = ours_command(port)
    else:
        command = keras_command(port)
    body = json.dumps({"text": texts[0]}).encode()
    seconds, process = first_prediction(command, env, port, body, log_dir / f"cold-{design}.log", 180)
    try:
        result = {"seconds": seconds}
        if load_requests:
            pids = common.process_tree(process.pid)
            phase = http_load.load(port, http_load.bodies_of(texts, 1, 500), http_load.Phase("rss", 1, 4),
                                   load_requests, 60)
            result.update(errors=phase.errors, requests=len(phase.latencies),
                          tweets_per_second=phase.result()["tweets_per_second"],
                          latency=common.summary_ms(phase.latencies),
                          peak_rss_mb={"serving": common.peak_rss_mb(pids[-1]),
                                       "all": sum(common.peak_rss_mb(pid) for pid in pids)})
        return result
    finally:
        stop(process)


def probe(design: str, gcs_env: dict[str, str], tweet: str) -> dict:
    uri = OURS_URI if design == "ours" else KERAS_URI
    with common.pinned(common.server_core()):
        return common.run_json(["-m", "bench.startup_probe", design, "--model-uri", uri, "--tweet", tweet],
                               timeout=300, env={**gcs_env, "MODEL_CACHE_DIR": tempfile.mkdtemp()})


def median_steps(runs: list[dict]) -> dict:
    names = runs[0]["steps"]
    return {"steps": {name: statistics.median(r["steps"][name] for r in runs) for name in names},
            "total": statistics.median(r["total"] for r in runs)}


def run(store: Path, texts: list[str], log_dir: Path, quick: bool) -> dict:
    from devstack.emulators import FakeGcs

    trials = 1 if quick else 5
    load_requests = {"ours": 100 if quick else 2000, "keras": 20 if quick else 200}  # Keras: ~40 ms each
    work = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    with FakeGcs(log_dir=log_dir) as gcs:
        gcs.create_bucket(BUCKET)
        sizes = publish(store, gcs.env, work)
        results = {}
        for design in ("ours", "keras"):
            runs = [trial(design, gcs.env, texts, log_dir, load_requests[design] if i == 0 else 0)
                    for i in range(trials)]
            probes = [probe(design, gcs.env, texts[0]) for _ in range(trials)]
            results[design] = {"seconds": [r["seconds"] for r in runs],
                               "median_seconds": statistics.median(r["seconds"] for r in runs),
                               "under_load": runs[0], "breakdown": median_steps(probes)}
    return {**results, "sizes": sizes, "trials": trials}

"""The Keras float model of the committed bundle, timed in its own process (TensorFlow stays out of the others).

    python -m bench.keras_worker time --store S --ids IDS.json --eager N --function N   # prints JSON
    python -m bench.keras_worker save --store S --output FILE.keras                     # prints JSON

The model is the trained Keras file of the bundle's training run when artifacts/runs/ still has it
(matched on the float model's metrics recorded in the manifest), else the bundle's architecture
rebuilt from ``manifest.training.network`` with fresh weights: weights do not change the latency.
TensorFlow runs on one thread, in a process pinned to one core, like the LiteRT side.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import common


def trained_file(manifest: dict) -> Path | None:
    """The run's model.keras whose float metrics are the ones the bundle recorded, if still on disk."""
    wanted = manifest.get("metrics", {}).get("keras_float")
    if not wanted:
        return None
    for metrics in sorted(common.RUNS.glob("*/metrics.json")):
        try:
            found = json.loads(metrics.read_text()).get("keras_float") == wanted
            if found and (metrics.parent / "model.keras").is_file():
                return metrics.parent / "model.keras"
        except (OSError, ValueError):
            continue
    return None


def load(store: Path):
    """(Keras model, description of where it came from)."""
    import keras

    from converter.network import NetworkConfig, build

    manifest = common.manifest(store)
    path = trained_file(manifest)
    if path is not None:
        return keras.saving.load_model(path, compile=False), f"trained file {path.relative_to(common.REPO)}"
    config = NetworkConfig(**manifest["training"]["network"])
    return build(config, batch_size=None), "architecture rebuilt from the manifest (untrained weights)"


def one_thread() -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def time_model(store: Path, ids: list[list[int]], eager_count: int, function_count: int) -> dict:
    import numpy as np
    import tensorflow as tf

    from converter.network import predict_padded

    one_thread()
    model, origin = load(store)
    inputs = [np.asarray([sequence], dtype=np.int32) for sequence in ids]

    def timed(call, count: int) -> list[float]:
        for x in inputs[: min(20, count)]:
            call(x)  # warm up (graph tracing, kernel selection)
        durations = []
        for x in inputs[:count]:
            started = time.perf_counter()
            float(np.asarray(call(x)).reshape(-1)[0])
            durations.append(time.perf_counter() - started)
        return durations

    eager = timed(lambda x: model(x, training=False), eager_count)
    graph = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([1, None], tf.int32)],
                        reduce_retracing=True)
    function = timed(graph, function_count)
    predict_padded(model, ids[:512])  # warm up
    started = time.perf_counter()
    predict_padded(model, ids, batch_size=256)
    batched_seconds = time.perf_counter() - started
    return {"origin": origin, "eager": common.summary_ms(eager), "eager_tps": 1 / (sum(eager) / len(eager)),
            "function": common.summary_ms(function), "function_tps": 1 / (sum(function) / len(function)),
            "batched_tps": len(ids) / batched_seconds, "batched_n": len(ids),
            "eager_seconds": eager, "function_seconds": function}


def save(store: Path, output: Path) -> dict:
    """A .keras file of the bundle's architecture (the trained one when on disk), for the TF server."""
    model, origin = load(store)
    model.save(output)
    return {"origin": origin, "path": str(output), "bytes": output.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("time", "save"))
    parser.add_argument("--store", required=True)
    parser.add_argument("--ids", help="JSON file: a list of token-id lists")
    parser.add_argument("--eager", type=int, default=200)
    parser.add_argument("--function", type=int, default=2000)
    parser.add_argument("--output", help="where to save the .keras file")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    common.pin(0, common.server_core())
    if args.action == "save":
        result = save(Path(args.store), Path(args.output))
    else:
        ids = json.loads(Path(args.ids).read_text())
        result = time_model(Path(args.store), ids, args.eager, args.function)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

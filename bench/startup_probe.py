"""Cold start, step by step, in a fresh process: what a new instance does before its first prediction.

    python -m bench.startup_probe ours  --model-uri gs://B/P --tweet TEXT    (STORAGE_EMULATOR_HOST set)
    python -m bench.startup_probe keras --model-uri gs://B/P --tweet TEXT

Prints one JSON object of seconds per step. "ours" walks the path of the first request to the
function (framework and entry-module imports, then the provider's first load: bundle download over
HTTPS and verification while numpy and LiteRT are imported, interpreter creation; the first inference);
"keras" walks the replaced design (TensorFlow/Keras import, download of the .keras file,
``keras.saving.load_model``, first call).
Only stdlib is imported before the first timed step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()


class Steps(dict):
    """Seconds per named step: each ``step(name)`` closes the step that began at the previous one."""

    def __init__(self):
        super().__init__()
        self._mark = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self[name], self._mark = now - self._mark, now


def ours(model_uri: str, tweet: str) -> dict:
    os.environ.update({"MODEL_URI": model_uri, "MODEL_REFRESH_SECONDS": "0", "METRICS_EXPORTER": "none",
                       "GOOGLE_CLOUD_PROJECT": ""})  # as the function is deployed, minus the metrics
    os.environ.setdefault("MODEL_CACHE_DIR", tempfile.mkdtemp(prefix="probe-cache-"))
    step = Steps()
    import flask  # noqa: F401
    import functions_framework  # noqa: F401

    step("import functions-framework + Flask")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
    import main  # noqa: F401  (the deployed entry module: sentiment.instance and what it imports)

    step("import main.py (sentiment)")
    from sentiment import instance

    model = instance.current().provider.get()
    step("first load: LATEST, manifest, model over HTTPS + sha256, runtime import in parallel, interpreter")
    model.predict([tweet])
    step("first inference")
    return step


def keras(model_uri: str, tweet: str) -> dict:
    step = Steps()
    import flask  # noqa: F401

    step("import Flask")
    import keras as keras_module
    import numpy as np

    step("import TensorFlow/Keras")
    from bench.keras_server import download, encoder

    path, vocabulary_path = download(model_uri, Path(tempfile.mkdtemp(prefix="probe-keras-")))
    step("google-cloud-storage + model download")
    model = keras_module.saving.load_model(path, compile=False)
    encode = encoder(vocabulary_path)
    step("keras.saving.load_model")
    float(model(np.asarray([encode(tweet)], dtype=np.int32), training=False)[0, 0])
    step("first inference")
    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("design", choices=("ours", "keras"))
    parser.add_argument("--model-uri", required=True)
    parser.add_argument("--tweet", default="lost my bag again, three hours on the tarmac")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    steps = (ours if args.design == "ours" else keras)(args.model_uri, args.tweet)
    print(json.dumps({"steps": steps, "total": time.perf_counter() - STARTED}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The replaced design, reduced to its bones for the cold-start comparison: Flask + a Keras file.

    python -m bench.keras_server --port N --model-uri gs://BUCKET/PREFIX   (STORAGE_EMULATOR_HOST set)

At start it downloads ``model.keras`` and ``vocabulary.json`` from the bucket, loads the model with
``keras.saving.load_model`` (TensorFlow backend), then serves ``POST /predict {"text"}`` with the
Flask server. Tokenizing uses the serving tokenizer and vocabulary (the replaced system used a
pickled Keras ``Tokenizer``: no slower). Not part of the product: a benchmark baseline only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

KERAS_FILE = "model.keras"
VOCABULARY_FILE = "vocabulary.json"


def download(model_uri: str, target: Path) -> tuple[Path, Path]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    bucket_name, _, prefix = model_uri.removeprefix("gs://").partition("/")
    client = storage.Client(project="local", credentials=AnonymousCredentials())
    bucket = client.bucket(bucket_name)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in (KERAS_FILE, VOCABULARY_FILE):
        path = target / name
        bucket.blob(f"{prefix.strip('/')}/{name}").download_to_filename(str(path))
        paths.append(path)
    return paths[0], paths[1]


def encoder(vocabulary_path: Path):
    from sentiment.text import Vocabulary

    return Vocabulary(json.loads(vocabulary_path.read_text(encoding="utf-8"))).encode


def create_app(model_uri: str):
    import keras
    import numpy as np
    from flask import Flask, jsonify, request

    model_path, vocabulary_path = download(model_uri, Path(tempfile.mkdtemp(prefix="keras-server-")))
    model = keras.saving.load_model(model_path, compile=False)
    encode = encoder(vocabulary_path)
    app = Flask(__name__)

    @app.post("/predict")
    def predict():
        ids = encode(str((request.get_json(silent=True) or {}).get("text", "")))
        if not ids:
            return jsonify({"error": "no words"}), 400
        probability = float(model(np.asarray([ids], dtype=np.int32), training=False)[0, 0])
        return jsonify({"probability_positive": probability,
                        "sentiment": "positive" if probability >= 0.5 else "negative"})

    @app.get("/health")
    def health():
        return jsonify({"status": "ok"})

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-uri", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    create_app(args.model_uri).run(host="127.0.0.1", port=args.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures: a tiny model trained through the real pipeline, a three-class serving bundle, emulators,
the committed model."""

from __future__ import annotations

from pathlib import Path

import pytest

from .functions_support import environment

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A training run of the real `converter.train` on synthetic tweets (seconds, no shared data)."""
    from converter.embeddings import EmbeddingConfig
    from converter.train import TrainConfig, train

    from . import synthetic

    output = tmp_path_factory.mktemp("runs") / "tiny"
    config = TrainConfig(
        data_dir="unused", output_dir=str(output), epochs=4, patience=4, batch_size=64, learning_rate=1e-2,
        lstm_units=8, dense_units=8, train_embeddings=True, mlflow=False,
        embedding=EmbeddingConfig(dim=16, epochs=2, min_count=1),
    )
    return train(config, synthetic.split())


@pytest.fixture(scope="session")
def tiny_bundle(tiny_run, tmp_path_factory) -> Path:
    """The tiny run converted (dynamic-range int8) through the parity gate."""
    from converter.convert import convert_run

    return convert_run(tiny_run, tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="session")
def serving_bundle(tmp_path_factory) -> Path:
    """A real three-class bundle (schema 2, a softmax over negative/neutral/positive) for the serving tests:
    trained in seconds on synthetic tweets, independent of the converter's training recipe."""
    from .bundle_factory import build_bundle

    return build_bundle(tmp_path_factory.mktemp("serving-bundles"))


@pytest.fixture(scope="session")
def fake_gcs():
    """A real fake-gcs-server process, shared by the session; tests use their own buckets."""
    from converter import gcs
    from devstack.emulators import FakeGcs

    with FakeGcs() as server, environment(server.env):
        gcs.client.cache_clear()
        yield server
    gcs.client.cache_clear()


@pytest.fixture
def bucket(fake_gcs, request) -> str:
    """A fresh bucket per test, named after it."""
    name = "t-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:50].strip("-")
    fake_gcs.create_bucket(name)
    return name


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared Sentiment140/TweetEval folder. Tests that need it say so; CI has it."""
    from converter.data import data_dir

    path = data_dir()
    if not (path / "sentiment140" / "sentiment140_pool.csv").is_file():
        pytest.skip(f"shared data not found at {path} (set SENTIMENT_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def pubsub_emulator():
    """A real Pub/Sub emulator process (the Cloud SDK's), shared by the session."""
    from devstack.emulators import PubSubEmulator

    emulator = PubSubEmulator().start(timeout=60)
    with environment(emulator.env):
        yield emulator
    emulator.stop()

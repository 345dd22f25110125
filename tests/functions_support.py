"""Helpers for the function tests: a configured instance, the functions-framework app, stores."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import functions_framework
import pytest

from sentiment import bundle as bundles
from sentiment import instance
from sentiment.config import Config
from sentiment.prediction import Prediction

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "functions" / "main.py"


def make_config(**env: str) -> Config:
    base = {"METRICS_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
    return Config.from_env({**base, **env})


def install(config: Config, **kwargs) -> instance.Instance:
    """Make ``config`` the functions' state, as a fresh instance would have it."""
    state = instance.Instance.from_config(config, **kwargs)
    instance.use(state)
    return state


def http_client():
    return functions_framework.create_app(target="predict_http", source=str(MAIN)).test_client()


def cloudevent_client():
    return functions_framework.create_app(target="score_pubsub", source=str(MAIN),
                                          signature_type="cloudevent").test_client()


def store_with(bundle_dir: Path, store: Path, version_suffix: str = "") -> str:
    """Publish ``bundle_dir`` (optionally renamed to another version) into a local store."""
    from converter.publish import publish

    source = bundle_dir
    if version_suffix:
        source = store.parent / f"renamed{version_suffix}"
        shutil.copytree(bundle_dir, source)
        manifest = json.loads((source / bundles.MANIFEST_FILE).read_text())
        manifest["model_version"] += version_suffix
        (source / bundles.MANIFEST_FILE).write_text(json.dumps(manifest))
    publish(source, str(store))
    return json.loads((source / bundles.MANIFEST_FILE).read_text())["model_version"]


def polar_prediction(probability_positive: float, version: str = "v1", neutral: float = 0.1) -> Prediction:
    """A prediction as the model makes them, whose polarity is ``probability_positive`` (the rest of the
    probability on neutral): negative below 0.5, positive above, for the tests that count them."""
    polar = 1.0 - neutral
    return Prediction.of(((1.0 - probability_positive) * polar, neutral, probability_positive * polar), version)


PREDICTION_FIELDS = ["sentiment", "probabilities", "probability_positive", "model_version"]


def assert_prediction(body: dict, alone: bool = True) -> None:
    """The shape of every prediction (``alone``: nothing else in ``body``): three probabilities summing to 1,
    the argmax as the sentiment, the polarity as probability_positive."""
    if alone:
        assert list(body) == PREDICTION_FIELDS
    assert set(PREDICTION_FIELDS) <= set(body), body
    probabilities = body["probabilities"]
    assert list(probabilities) == ["negative", "neutral", "positive"]
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert body["sentiment"] == max(probabilities, key=probabilities.get)
    negative, positive = probabilities["negative"], probabilities["positive"]
    if positive + negative == 0:
        assert body["probability_positive"] == 0.5
        return
    rounding = 1e-6 / (positive + negative) + 1e-6  # what the 6-decimal rounding of both can move the ratio
    assert body["probability_positive"] == pytest.approx(positive / (positive + negative), abs=rounding)


@contextmanager
def environment(values: dict[str, str]):
    """Set environment variables for the duration, then restore what was there."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

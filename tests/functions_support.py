"""Helpers for the function tests: a configured instance, the functions-framework app, stores."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import functions_framework

from sentiment import bundle as bundles
from sentiment import instance
from sentiment.config import Config

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

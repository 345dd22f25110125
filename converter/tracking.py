"""MLflow tracking with a local default: ``MLFLOW_TRACKING_URI`` wins, else a SQLite store in the
artifacts folder (MLflow 3 no longer accepts a bare ./mlruns folder as a tracking store)."""

from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

EXPERIMENT = "air-paradis-sentiment"


@contextmanager
def mlflow_run(artifacts_root: Path, run_name: str):
    import mlflow

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        artifacts_root.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(f"sqlite:///{(artifacts_root / 'mlflow.db').resolve()}")
        if mlflow.get_experiment_by_name(EXPERIMENT) is None:
            mlflow.create_experiment(EXPERIMENT, artifact_location=(artifacts_root / "mlruns").resolve().as_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=run_name) as run:
        log.info("MLflow run %s at %s", run.info.run_id, mlflow.get_tracking_uri())
        yield mlflow


_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_\-. :/]")  # MLflow refuses other characters in names


def flatten(prefix: str, values: dict, numbers_only: bool = True) -> dict:
    """{"validation": {"accuracy": .8}} -> {"validation.accuracy": .8}; lists are left out, and characters
    MLflow refuses in a name become "_"."""
    flat = {}
    for key, value in values.items():
        name = _NOT_IN_NAMES.sub("_", f"{prefix}.{key}" if prefix else str(key))
        if isinstance(value, dict):
            flat.update(flatten(name, value, numbers_only))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value) if numbers_only else value
        elif not numbers_only and not isinstance(value, list):
            flat[name] = str(value)
    return flat

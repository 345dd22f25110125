"""The bundle also runs on the legacy tflite-runtime 2.14 (numpy < 2), through the serving code's
fallback import, and scores like LiteRT. The runtime lives in its own cached virtualenv
(.venv-tflite214): it cannot share one with numpy 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sentiment import bundle as bundles
from sentiment.model import SentimentModel

from .functions_support import REPO

pytestmark = pytest.mark.slow

VENV = REPO / ".venv-tflite214"
TEXTS = ["love this crew, amazing flight :)", "worst airline, lost bag, rude :(", "flight today", "😡 delayed"]


def legacy_python() -> Path:
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import tflite_runtime, numpy; assert numpy.__version__ < '2'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "tflite-runtime==2.14.0", "numpy<2"],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, f"cannot install tflite-runtime 2.14 (needs PyPI):\n{install.stderr[-2000:]}"
    return python


SCRIPT = """
import json, sys
from sentiment import model
from sentiment.bundle import verify_directory
assert model.interpreter_class().__module__.startswith("tflite_runtime"), model.interpreter_class().__module__
served = model.SentimentModel(verify_directory(__import__("pathlib").Path(sys.argv[1])))
print(json.dumps(served.probabilities(json.loads(sys.argv[2])).tolist()))
"""


def test_bundle_scores_the_same_on_tflite_runtime_2_14(tiny_bundle):
    python = legacy_python()
    result = subprocess.run(
        [str(python), "-c", SCRIPT, str(tiny_bundle), json.dumps(TEXTS)],
        capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO / "functions"), "PATH": "/usr/bin:/bin"},  # the deployed layout: functions/
    )
    assert result.returncode == 0, result.stderr[-2000:]
    legacy = np.array(json.loads(result.stdout))
    current = SentimentModel(bundles.verify_directory(tiny_bundle)).probabilities(TEXTS)
    assert legacy.shape == current.shape == (len(TEXTS), 3)
    assert np.max(np.abs(legacy - current)) < 1e-4

"""The README's examples, pasted as written into a shell, do what they say.

A fenced ``bash`` block right after ``<!-- example: offline -->`` runs on its own; one after
``<!-- example: local stack -->`` runs against a local stack started as `make run` starts it (on
free ports here: the README's default ports are rewritten to the test stack's, nothing else is).
Every command must exit 0, and every JSON line it prints must not be an error. Blocks without a
marker (a real project, a training run) are not run.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.test_devstack import READY, RunningStack

REPO = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- example: (offline|local stack) -->\s*```bash\n(.*?)```", re.S)
DEFAULT_PORTS = {"8080": "HTTP_PORT", "8081": "SCORER_PORT", "8085": "PUBSUB_PORT", "4443": "GCS_PORT"}

pytestmark = pytest.mark.slow


def examples(kind: str) -> list[str]:
    """The commands of the README's blocks of ``kind``, continuation lines joined, comments dropped."""
    commands = []
    for found_kind, block in MARKER.findall(README.read_text(encoding="utf-8")):
        if found_kind != kind:
            continue
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands


README = REPO / "README.md"


def workdir(tmp_path: Path) -> Path:
    """A directory where the README's relative paths resolve (.venv, examples) and outputs land."""
    for name in (".venv", "examples"):
        (tmp_path / name).symlink_to(REPO / name)
    return tmp_path


def run(command: str, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    for line in result.stdout.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        assert not (isinstance(value, dict) and "error" in value), f"{command} answered {line}"
    return result.stdout


def test_the_markers_find_the_examples():
    assert any("python -m sentiment score" in c for c in examples("offline"))
    local = examples("local stack")
    assert any("/predict" in c for c in local) and any("/feedback" in c for c in local)
    assert any("devstack publish" in c for c in local)


def test_offline_examples(tmp_path):
    cwd = workdir(tmp_path)
    for command in examples("offline"):
        run(command, cwd)
    assert (cwd / "scored.csv").read_text().startswith("id,")


def test_local_stack_examples(tmp_path):
    stack = RunningStack(tmp_path / "stack")
    try:
        stack.wait_for(READY, timeout=120)
        stack.state()
        cwd = workdir(tmp_path)
        outputs = []
        for command in examples("local stack"):
            for default, variable in DEFAULT_PORTS.items():
                command = re.sub(rf"(localhost|127\.0\.0\.1):{default}\b", rf"\1:{stack.ports[variable]}", command)
            outputs.append(run(command, cwd, stack.env))
        text = "\n".join(outputs)
        assert '"sentiment": "negative"' in text and '"status": "accepted"' in text
        assert '"id": "1"' in text  # devstack publish printed the scored tweet
        assert stack.interrupt() == 0, stack.output
    finally:
        stack.kill_everything()

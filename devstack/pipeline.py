"""The bad-buzz pipeline (``python -m pipelines stream``) on Beam's DirectRunner, as a local stack process.

It pulls the scored tweets from its own subscription on ``tweets-scored`` (Terraform's name, see
``topology.STREAM_SUBSCRIPTION``) and publishes alerts to ``sentiment-alerts``, where the notifier's
push subscription picks them up: the production path, with the DirectRunner in place of Dataflow.

``--event-clock data``: the DirectRunner's Pub/Sub watermark is the wall clock, so a replay of two days
of tweets published within a minute would never close an event-time bucket by it; with the data clock a
brand's buckets close as that brand's own later tweets arrive (docs/local_stack.md, "Event time").

It listens on no port: it is ready once it logs ``pipelines.stream.RUNNING`` (Beam's import and the
pipeline's construction take a few seconds, measured by ``make run`` and ``python -m bench``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from . import topology
from .emulators import EmulatorError, _Process, log_tail, shown

EVENT_CLOCK = "data"


def beam_missing() -> str | None:
    """Why the pipeline cannot start here (Beam is not installed), or None. Without importing Beam (seconds)."""
    import importlib.util

    if importlib.util.find_spec("apache_beam") is None:
        return ("apache-beam is not installed, the bad-buzz pipeline needs it: "
                f"{shown(Path(sys.executable))} -m pip install -r pipelines/requirements.txt")
    return None


class BuzzPipeline(_Process):
    name = "buzz-pipeline"
    listens = False

    def __init__(self, project: str, env: dict[str, str], log_dir: Path | None = None, *extra: str):
        super().__init__(None, log_dir)
        names = topology.Topology(project)
        self.subscription = names.subscription(topology.STREAM_SUBSCRIPTION)
        self.alert_topic = names.topic(topology.ALERT_TOPIC)
        self.extra_env, self.extra = env, list(extra)
        self._log_offset = 0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "pipelines", "stream", "--subscription", self.subscription,
                "--alert-topic", self.alert_topic, "--event-clock", EVENT_CLOCK, *self.extra]

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}

    def launch(self, port_wait: float = 0.0) -> None:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0  # a restart appends
        super().launch(port_wait)

    def wait_ready(self, timeout: float) -> None:
        from pipelines.stream import RUNNING

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                status = self.process.returncode if self.process else None
                raise EmulatorError(f"it exited with status {status} before it ran; the end of its log "
                                    f"({shown(self.log_path)}):\n{log_tail(self.log_path)}")
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                if RUNNING.encode() in log.read():
                    return
            time.sleep(0.1)
        raise EmulatorError(f"it did not log {RUNNING!r} within {timeout:.0f} s\n{log_tail(self.log_path)}")

"""The whole system on one machine: emulators, the committed model in a fake bucket, both functions.

    python -m devstack up        # what `make run` does; Ctrl-C stops everything
    python -m devstack down      # stop a stack left running (its state file names the processes)

Ports are fixed by default so the printed commands keep working, and configurable; a taken port or
a missing emulator is reported with what to do, before anything starts.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import topology
from .emulators import EmulatorError, FakeGcs, PubSubEmulator, port_in_use, pubsub_emulator_launcher
from .functions import REPO, FunctionServer

STATE_DIR = REPO / ".stack"
STATE_FILE = STATE_DIR / "stack.json"
PROJECT = "air-paradis-local"
MODELS_BUCKET = "air-paradis-models"
MODELS_PREFIX = "sentiment"


@dataclass(frozen=True)
class Ports:
    pubsub: int = 8085
    gcs: int = 4443
    http: int = 8080
    scorer: int = 8081

    @classmethod
    def from_env(cls) -> Ports:
        def port(name: str, default: int) -> int:
            value = os.environ.get(name, str(default))
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise EmulatorError(f"{name}={value!r} is not a port number")
            return int(value)

        return cls(port("PUBSUB_PORT", 8085), port("GCS_PORT", 4443), port("HTTP_PORT", 8080),
                   port("SCORER_PORT", 8081))


class Stack:
    def __init__(self, ports: Ports, log_dir: Path = STATE_DIR / "logs", model_dir: Path | None = None):
        self.ports, self.log_dir = ports, log_dir
        self.model_dir = model_dir or REPO / "models"
        self.pubsub = PubSubEmulator(ports.pubsub, log_dir)
        self.gcs = FakeGcs(ports.gcs, log_dir)
        self.model_uri = f"gs://{MODELS_BUCKET}/{MODELS_PREFIX}"
        function_env = {
            "GOOGLE_CLOUD_PROJECT": PROJECT, "FUNCTION_REGION": "local",
            "PUBSUB_EMULATOR_HOST": self.pubsub.host, "STORAGE_EMULATOR_HOST": self.gcs.endpoint,
            "MODEL_URI": self.model_uri, "MODEL_CACHE_DIR": str(STATE_DIR / "model-cache"),
            "MODEL_REFRESH_SECONDS": "30", "METRICS_EXPORTER": "log", "METRICS_FLUSH_SECONDS": "10",
            "BUZZ_WINDOW_SECONDS": os.environ.get("BUZZ_WINDOW_SECONDS", "60"),
            "BUZZ_MIN_TWEETS": os.environ.get("BUZZ_MIN_TWEETS", "20"),
            "BUZZ_COOLDOWN_SECONDS": os.environ.get("BUZZ_COOLDOWN_SECONDS", "60"),
        }
        self.http = FunctionServer("predict_http", "http", function_env, ports.http, log_dir)
        self.scorer = FunctionServer("score_pubsub", "cloudevent", function_env, ports.scorer, log_dir)

    def preflight(self) -> None:
        """Everything that can be wrong before starting anything, reported at once."""
        problems = []
        for name, port in asdict(self.ports).items():
            if port_in_use(port):
                variable = {"pubsub": "PUBSUB_PORT", "gcs": "GCS_PORT", "http": "HTTP_PORT", "scorer": "SCORER_PORT"}
                problems.append(f"port {port} ({name}) is in use: is a stack already running (`make dev-down`)? "
                                f"Or pick another with {variable[name]}=...")
        try:
            pubsub_emulator_launcher()
        except EmulatorError as error:
            problems.append(str(error))
        if not (self.model_dir / "LATEST").is_file():
            problems.append(f"no committed model store at {self.model_dir} (LATEST missing)")
        if problems:
            raise EmulatorError("cannot start the local stack:\n  - " + "\n  - ".join(problems))

    def up(self) -> None:
        self.preflight()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for step, action in (("Pub/Sub emulator", self.pubsub.start), ("fake-gcs-server", self.gcs.start),
                             ("model bundle", self._publish_model), ("HTTP function", self.http.start),
                             ("Pub/Sub function", self.scorer.start), ("topics and subscriptions", self._topology)):
            started = time.perf_counter()
            action()
            print(f"  ✓ {step:<26} {time.perf_counter() - started:5.1f} s", flush=True)
        self._write_state()

    def _publish_model(self) -> None:
        from converter.publish import publish  # no TensorFlow: publish only copies and checks files
        from sentiment import bundle, storage

        self.gcs.create_bucket(MODELS_BUCKET)
        os.environ.update(self.gcs.env)
        storage.client.cache_clear()
        location, _ = bundle.resolve(str(self.model_dir))
        publish(Path(location), self.model_uri)

    def _topology(self) -> None:
        os.environ.update(self.pubsub.env)
        topology.create(PROJECT, self.scorer.url)

    def _write_state(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        state = {"pids": {p.name: p.process.pid for p in (self.pubsub, self.gcs, self.http, self.scorer) if p.process},
                 "ports": asdict(self.ports), "project": PROJECT, "logs": str(self.log_dir)}
        STATE_FILE.write_text(json.dumps(state, indent=2))

    def down(self) -> None:
        for process in (self.scorer, self.http, self.gcs, self.pubsub):
            process.stop()
        STATE_FILE.unlink(missing_ok=True)

    def banner(self) -> str:
        p = self.ports
        return f"""
Air Paradis sentiment, running locally (project {PROJECT}, model {self.model_uri}):
  HTTP function     http://127.0.0.1:{p.http}      (logs: {self.log_dir}/predict-http.log)
  Pub/Sub function  http://127.0.0.1:{p.scorer}      fed by the push subscription {topology.PUSH_SUBSCRIPTION}
  Pub/Sub emulator  127.0.0.1:{p.pubsub}        fake-gcs-server http://127.0.0.1:{p.gcs}

Try:
  curl -s localhost:{p.http}/predict -H 'Content-Type: application/json' -d '{{"text": "lost my bag again"}}'
  curl -s localhost:{p.http}/health
  make replay          # stream examples/bad_buzz.jsonl through Pub/Sub and watch the alert fire

Ctrl-C stops everything.
"""


def stop_recorded() -> bool:
    """Stop the processes a previous `up` recorded (used by `make dev-down`)."""
    if not STATE_FILE.is_file():
        return False
    state = json.loads(STATE_FILE.read_text())
    for name, pid in state.get("pids", {}).items():
        try:
            os.killpg(pid, signal.SIGTERM)
            print(f"stopped {name} (process group {pid})")
        except ProcessLookupError:
            pass
    STATE_FILE.unlink(missing_ok=True)
    return True


def run_forever(stack: Stack) -> int:
    stopping = {"now": False}

    def on_signal(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("Starting the local stack…", flush=True)
        stack.up()
        print(stack.banner(), flush=True)
        while not stopping["now"]:
            for process in (stack.pubsub, stack.gcs, stack.http, stack.scorer):
                if not process.running:
                    print(f"{process.name} exited; see {process.log_path}", file=sys.stderr)
                    stopping["now"] = True
            time.sleep(0.5)
        return 0
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping…", flush=True)
        stack.down()
        print("Stopped: no process left, ports released.", flush=True)

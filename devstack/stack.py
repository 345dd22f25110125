"""The whole system on one machine: emulators, the committed model in a fake bucket, the functions, the
bad-buzz pipeline on Beam's DirectRunner.

    python -m devstack up        # what `make run` does; Ctrl-C stops everything
    python -m devstack down      # stop a stack from another terminal (`make dev-down`)

Configuration, read from the environment (the Makefile passes it through):

    PUBSUB_PORT=8085  GCS_PORT=4443  HTTP_PORT=8080  SCORER_PORT=8081    where each process listens
    NOTIFY_PORT=8082  WEBHOOK_PORT=8090      the notifier function, the chat webhook stand-in it posts to
    NOTIFY_FORMAT=slack                      the notifier's chat format (slack / google_chat)
    SCORER_INSTANCES=1            instances of the Pub/Sub function behind its one push endpoint (processes)
    DEVSTACK_STATE_DIR=.stack     the state file (stack.json), the logs and the model cache
    DEVSTACK_MODEL_DIR=models     the model store published to the fake bucket (LATEST + <version>/)

``up`` checks everything it can before starting anything (ports, a stack already running, the
emulator, Beam, the model) and reports every problem at once. While running, it supervises: a function
that exits is restarted (the push subscription redelivers what it had not acknowledged), and so is the
pipeline (its brands' histories start again from the next tweets), at most ``MAX_RESTARTS`` times in
``RESTART_WINDOW_SECONDS``; an emulator that exits stops the stack, since its state (topics,
messages, the bucket) died with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import topology
from .emulators import (
    EmulatorError,
    FakeGcs,
    PubSubEmulator,
    _Process,
    fake_gcs_binary,
    log_tail,
    port_in_use,
    process_alive,
    process_start,
    pubsub_emulator_launcher,
    recorded_group_alive,
    shown,
    stop_group,
)
from .functions import REPO, FunctionServer
from .pipeline import EVENT_CLOCK, BuzzPipeline, beam_missing
from .webhook_receiver import WebhookReceiverProcess

PROJECT = "air-paradis-local"
MODELS_BUCKET = "air-paradis-models"
MODELS_PREFIX = "sentiment"
STATE_FILE_NAME = "stack.json"
MAX_SCORER_INSTANCES = 8
FUNCTION_THREADS = "4"  # Terraform's concurrency per instance (infra/variables.tf)
MAX_RESTARTS, RESTART_WINDOW_SECONDS = 3, 60.0  # restarts in a row before pausing between them
RESTART_BACKOFF_SECONDS = 5.0
PORT_RELEASE_SECONDS = 20.0  # a restarted function waits this long for its old port to be released
PIPELINE_READY_SECONDS = 120.0  # Beam starts in about 5 s here; on a loaded machine far more
PORT_VARIABLES = {"pubsub": "PUBSUB_PORT", "gcs": "GCS_PORT", "http": "HTTP_PORT", "scorer": "SCORER_PORT",
                  "notifier": "NOTIFY_PORT", "webhook": "WEBHOOK_PORT"}
PORT_OWNERS = {"pubsub": "Pub/Sub emulator", "gcs": "fake-gcs-server", "http": "HTTP function",
               "scorer": "Pub/Sub function", "notifier": "notifier function", "webhook": "webhook receiver"}


def state_dir() -> Path:
    return Path(os.environ.get("DEVSTACK_STATE_DIR") or REPO / ".stack").resolve()


def state_file() -> Path:
    return state_dir() / STATE_FILE_NAME


@dataclass(frozen=True)
class Ports:
    pubsub: int = 8085
    gcs: int = 4443
    http: int = 8080
    scorer: int = 8081
    notifier: int = 8082
    webhook: int = 8090

    @classmethod
    def from_env(cls) -> Ports:
        defaults = cls()

        def port(field: str) -> int:
            name = PORT_VARIABLES[field]
            value = os.environ.get(name) or str(getattr(defaults, field))
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise EmulatorError(f"{name}={value!r} is not a port number (1-65535)")
            return int(value)

        return cls(*(port(field) for field in PORT_VARIABLES))


def read_state(path: Path | None = None) -> dict | None:
    """The state a running (or crashed) `up` recorded, or None."""
    path = path or state_file()
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def supervisor_running(state: dict) -> bool:
    pid = state.get("supervisor") or 0
    start = state.get("supervisor_start")
    return process_alive(pid) and (start is None or process_start(pid) in (None, start))


class Stack:
    def __init__(self, ports: Ports, directory: Path | None = None, model_dir: Path | None = None):
        self.ports = ports
        self.directory = Path(directory or state_dir())
        self.state_path = self.directory / STATE_FILE_NAME
        self.log_dir = self.directory / "logs"
        self.model_dir = Path(model_dir or os.environ.get("DEVSTACK_MODEL_DIR") or REPO / "models")
        self.model_uri = f"gs://{MODELS_BUCKET}/{MODELS_PREFIX}"
        self.model_version: str | None = None
        instances = os.environ.get("SCORER_INSTANCES") or "1"
        if not instances.isdigit() or not 1 <= int(instances) <= MAX_SCORER_INSTANCES:
            raise EmulatorError(f"SCORER_INSTANCES={instances!r} is not a number of instances "
                                f"(1-{MAX_SCORER_INSTANCES})")
        self.scorer_instances = int(instances)
        self.pubsub = PubSubEmulator(ports.pubsub, self.log_dir)
        self.gcs = FakeGcs(ports.gcs, self.log_dir)
        function_env = {
            "GOOGLE_CLOUD_PROJECT": PROJECT, "FUNCTION_REGION": "local",
            "PUBSUB_EMULATOR_HOST": self.pubsub.host, "STORAGE_EMULATOR_HOST": self.gcs.endpoint,
            "MODEL_URI": self.model_uri, "MODEL_CACHE_DIR": str(self.directory / "model-cache"),
            "MODEL_REFRESH_SECONDS": "30", "METRICS_EXPORTER": "log", "METRICS_FLUSH_SECONDS": "10",
            "THREADS": FUNCTION_THREADS,
            # the topology's names, whatever the shell says (they are the code's defaults too)
            "OUTPUT_TOPIC": topology.OUTPUT_TOPIC,
            "FEEDBACK_TOPIC": topology.FEEDBACK_TOPIC, "DEAD_LETTER_TOPIC": topology.DEAD_LETTER_TOPIC,
        }
        self.http = FunctionServer("predict_http", "http", function_env, ports.http, self.log_dir)
        # Several instances: gunicorn workers, each a process with its own model, publisher and telemetry,
        # behind one port, as Cloud Functions instances are behind one push endpoint.
        self.scorer = FunctionServer("score_pubsub", "cloudevent", {**function_env, "WORKERS": instances},
                                     ports.scorer, self.log_dir)
        self.pipeline = BuzzPipeline(PROJECT, {"GOOGLE_CLOUD_PROJECT": PROJECT, "PUBSUB_EMULATOR_HOST":
                                               self.pubsub.host}, self.log_dir)
        # The notifier posts to a local stand-in of the team's chat webhook (what it received: `make replay`).
        self.webhook = WebhookReceiverProcess(ports.webhook, self.log_dir)
        self.notify_format = os.environ.get("NOTIFY_FORMAT") or "slack"
        self.notifier = FunctionServer("notify_alert", "cloudevent", {
            **function_env, "NOTIFY_FORMAT": self.notify_format,
            "NOTIFY_WEBHOOK_URL": self.webhook.webhook_url(self.notify_format)}, ports.notifier, self.log_dir)
        self.started_at: str | None = None
        self.pipeline_seconds: float | None = None  # from its launch to its first pull (`make run` shows it)
        self._wrote_state = False

    @property
    def processes(self) -> tuple[_Process, ...]:
        return self.pubsub, self.gcs, self.http, self.scorer, self.webhook, self.notifier, self.pipeline

    def restartable(self, process: _Process) -> bool:
        """What the supervisor restarts when it exits (the rest holds state the stack cannot go on without)."""
        return isinstance(process, FunctionServer | BuzzPipeline)

    # -- before anything starts ---------------------------------------------------------------------

    def preflight(self) -> None:
        """Everything that can be wrong before starting anything, reported at once."""
        problems = []
        running, theirs = read_state(self.state_path), set()
        if running and running.get("supervisor") != os.getpid():
            alive = [name for name, p in running.get("processes", {}).items()
                     if recorded_group_alive(p["pgid"], p.get("start"))]
            if supervisor_running(running):
                problems.append(f"a local stack is already running (pid {running['supervisor']}, started "
                                f"{running.get('started_at', '?')}, state in {shown(self.directory)}): stop it "
                                "with Ctrl-C in its terminal or `make dev-down`")
                theirs = set(running.get("ports", {}).values())
            elif alive:
                problems.append(f"a local stack was killed and left {', '.join(alive)} running: "
                                "`make dev-down` stops them")
                theirs = set(running.get("ports", {}).values())
        ports = asdict(self.ports)
        if len(set(ports.values())) < len(ports):
            problems.append("two processes are given the same port: " +
                            ", ".join(f"{PORT_VARIABLES[k]}={v}" for k, v in ports.items()))
        for field, port in ports.items():
            if not port_in_use(port):
                continue
            where = f"port {port} ({PORT_OWNERS[field]}, {PORT_VARIABLES[field]}) is already in use on 127.0.0.1"
            if port in theirs:
                problems.append(f"{where}: by that stack")
            else:
                other = port + 10000 if port + 10000 < 65536 else port - 1000
                problems.append(f"{where}: stop what holds it (`make dev-down` if it is another local stack) "
                                f"or choose another port: {PORT_VARIABLES[field]}={other} make run")
        for check in (pubsub_emulator_launcher, fake_gcs_binary):
            try:
                check()
            except EmulatorError as error:
                problems.append(str(error))
        if beam_missing():
            problems.append(beam_missing())
        if not (self.model_dir / "LATEST").is_file():
            problems.append(f"no model store at {self.model_dir} (its LATEST file is missing): "
                            "the committed model lives in models/; DEVSTACK_MODEL_DIR names another store")
        if problems:
            raise EmulatorError("cannot start the local stack:\n  - " + "\n  - ".join(problems))

    # -- up and down --------------------------------------------------------------------------------

    def up(self, report=print, check: bool = True) -> None:
        """Start everything in order, one line per step; on failure stop what started, then raise."""
        if check:
            self.preflight()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for process in self.processes:  # each run starts fresh logs; a restart appends
            process.log_path.write_bytes(b"")
        self.started_at = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        launched: list[float] = []
        scorer = self.scorer.url + (f" ({self.scorer_instances} instances)" if self.scorer_instances > 1 else "")

        def launch_pipeline() -> None:  # Beam takes seconds to start: it does so while the rest starts
            self.pipeline.launch()
            self.write_state()
            launched.append(time.perf_counter())
            report(f"  … {'bad-buzz pipeline':<22} starting in the background (Beam on the DirectRunner)")

        def wait_pipeline() -> None:
            self.pipeline.wait_ready(PIPELINE_READY_SECONDS)
            self.pipeline_seconds = time.perf_counter() - launched[0]

        steps = (
            ("Pub/Sub emulator", f"127.0.0.1:{self.ports.pubsub}", lambda: self._start(self.pubsub, 60)),
            ("topics, subscriptions", f"push to :{self.ports.scorer}, dead letter after "
                                      f"{topology.STACK_MAX_DELIVERY_ATTEMPTS} attempts", self._topology),
            (None, None, launch_pipeline),
            ("fake-gcs-server", self.gcs.endpoint, lambda: self._start(self.gcs, 30)),
            ("model bundle", None, self._publish_model),
            ("HTTP function", self.http.url, self._start_http),
            ("Pub/Sub function", scorer, lambda: self._start(self.scorer, 60)),
            ("webhook receiver", self.webhook.url, lambda: self._start(self.webhook, 30)),
            ("notifier function", f"{self.notifier.url} ({self.notify_format})",
             lambda: self._start(self.notifier, 60)),
            ("bad-buzz pipeline", f"pulls {topology.STREAM_SUBSCRIPTION}", wait_pipeline),
        )
        try:
            for step, where, action in steps:
                started = time.perf_counter()
                try:
                    action()
                except EmulatorError as error:
                    raise EmulatorError(f"cannot start the local stack ({step or 'bad-buzz pipeline'}): "
                                        f"{error}") from None
                if step is None:
                    continue
                # the pipeline: the time since its launch (it started beside the others)
                seconds = self.pipeline_seconds if action is wait_pipeline else time.perf_counter() - started
                where = where or f"{self.model_version} (from {shown(self.model_dir)}/)"
                report(f"  ✓ {step:<22} {where:<50} {seconds:4.1f} s")
        except BaseException:
            self.down()
            raise

    def _start(self, process: _Process, timeout: float) -> None:
        process.start(timeout)
        self.write_state()

    def _topology(self) -> None:
        os.environ.update(self.pubsub.env)
        topology.create(PROJECT, self.scorer.url, max_delivery_attempts=topology.STACK_MAX_DELIVERY_ATTEMPTS)
        topology.create_notifier_push(PROJECT, self.notifier.url, topology.STACK_MAX_DELIVERY_ATTEMPTS)

    def _publish_model(self) -> None:
        from converter import gcs
        from converter.publish import publish  # no TensorFlow: publish only copies and checks files
        from sentiment import bundle

        self.gcs.create_bucket(MODELS_BUCKET)
        os.environ.update(self.gcs.env)
        gcs.client.cache_clear()
        location, version, _ = bundle.resolve(self.model_dir)
        publish(location, self.model_uri)
        self.model_version = version or location.name

    def _start_http(self) -> None:
        """Healthy means the model loads: GET /model makes the function fetch it from the fake bucket."""
        self._start(self.http, 30)
        try:
            facts = self.http.get_json("/model", timeout=60)
        except OSError as error:
            raise EmulatorError(f"the HTTP function cannot load the model: {error}\n"
                                f"{log_tail(self.http.log_path)}") from None
        self.model_version = facts.get("model_version", self.model_version)

    def restart(self, process: _Process, reason: str) -> None:
        """Stop what is left of its process group (a gunicorn worker that outlived its master holds the
        port), wait for the port to be released, start it again. EmulatorError if it does not come back."""
        self.forget(process)
        with open(process.log_path, "a") as log:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"\n--- devstack: {reason}; restarting it at {now} ---\n")
        process.start(PIPELINE_READY_SECONDS if isinstance(process, BuzzPipeline) else 60,
                      port_wait=PORT_RELEASE_SECONDS)
        self.write_state()

    def forget(self, process: _Process) -> None:
        """Stop the whole group of a process that exited (by group: children may live on)."""
        if not process.stop(5):
            raise EmulatorError(f"{process.name}: its process group does not stop")

    def down(self) -> list[str]:
        """Stop every process (functions first: their shutdown publishes to the emulator). What is left."""
        left = []
        for process in (self.pipeline, self.notifier, self.webhook, self.scorer, self.http, self.gcs, self.pubsub):
            pgid = process.pid
            if not process.stop():
                left.append(f"{process.name} (process group {pgid})")
        for field, port in asdict(self.ports).items():
            if port_in_use(port):
                left.append(f"port {port} ({PORT_OWNERS[field]}) is still bound")
        if self._wrote_state:
            self.state_path.unlink(missing_ok=True)
        return left

    # -- what a user and `down` need to know --------------------------------------------------------

    def write_state(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        state = {
            "supervisor": os.getpid(), "supervisor_start": process_start(os.getpid()),
            "started_at": self.started_at, "project": PROJECT,
            "ports": asdict(self.ports), "logs": str(self.log_dir), "model_version": self.model_version,
            "pipeline": {"subscription": self.pipeline.subscription, "event_clock": EVENT_CLOCK},
            "processes": {p.name: {"pgid": p.pid, "start": process_start(p.pid), "port": p.port,
                                   "log": str(p.log_path)}
                          for p in self.processes if p.pid},
        }
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n")
        temporary.replace(self.state_path)
        self._wrote_state = True

    def banner(self) -> str:
        from pipelines.settings import DetectionSettings

        p, d = self.ports, DetectionSettings(event_clock=EVENT_CLOCK)
        windows = " and ".join(f"{w:g} h" for w in d.windows_hours)
        prefix = "" if self.directory == (REPO / ".stack").resolve() else f"DEVSTACK_STATE_DIR={shown(self.directory)} "
        return f"""
Air Paradis sentiment is running locally: model {self.model_version}, project {PROJECT}.

  HTTP function      http://127.0.0.1:{p.http:<6} POST /predict, GET /health, GET /model, POST /feedback
  Pub/Sub function   http://127.0.0.1:{p.scorer:<6} fed by topic {topology.INPUT_TOPIC} via push subscription \
{topology.PUSH_SUBSCRIPTION}
  Pub/Sub emulator   127.0.0.1:{p.pubsub:<13} results on {topology.OUTPUT_TOPIC}, alerts on {topology.ALERT_TOPIC}
  notifier function  http://127.0.0.1:{p.notifier:<6} fed by topic {topology.ALERT_TOPIC} via push subscription \
{topology.NOTIFY_PUSH_SUBSCRIPTION}
  webhook receiver   http://127.0.0.1:{p.webhook:<6} what the notifier posted ({self.notify_format}): \
GET /_control/received
  bad-buzz pipeline  Beam DirectRunner   pulls {topology.STREAM_SUBSCRIPTION}, publishes to {topology.ALERT_TOPIC}
  fake-gcs-server    http://127.0.0.1:{p.gcs:<6} {self.model_uri}
  logs               {shown(self.log_dir) + "/":<24}{prefix}make logs

Bad-buzz detection (pipelines/, production defaults): per brand, every {d.bucket_minutes} min of event time, the \
negative share
of the last {windows} against the brand's own {d.baseline_hours:g} h baseline (no decision before \
{d.min_baseline_hours:g} h and {d.min_baseline_tweets} tweets of it).
Event time is each tweet's created_at; a bucket closes once the brand's tweets are \
{d.allowed_lateness_minutes:g} min past its end.

Try, in another terminal:
  curl -s 127.0.0.1:{p.http}/predict -H 'Content-Type: application/json' -d '{{"text": "Lost my bag again!"}}'
  {prefix}make replay    # two days of three airlines' tweets in a minute: a bad buzz, its alert, its end

Ctrl-C here stops everything ({prefix}make dev-down from another terminal).
"""


# --- The foreground process: `python -m devstack up` ------------------------------------------------

def say(text: str, error: bool = False) -> None:
    """Print for the user, if anyone still reads: a closed terminal (SIGHUP: EIO) or a broken pipe
    (`up | tee` after Ctrl-C) must not kill the supervisor before it has stopped its processes."""
    stream = sys.stderr if error else sys.stdout
    try:
        print(text, file=stream, flush=True)
    except (OSError, ValueError):  # ValueError: the stream was closed
        silence_output()


def silence_output() -> None:
    """Point stdout and stderr at /dev/null for the rest of the run (their reader is gone)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)

class _Signals:
    """SIGINT/SIGTERM/SIGHUP ask the supervisor to stop; the first one is enough."""

    def __init__(self):
        self.stop = threading.Event()
        self.received: int | None = None
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self.received is not None:
            say(f"\n(already stopping after {signal.Signals(self.received).name}: a few seconds)")
            return
        self.received = signum
        self.stop.set()
        if threading.current_thread() is threading.main_thread() and not self._in_loop:
            raise KeyboardInterrupt  # during startup: unwind now, `up` stops what it started

    _in_loop = False


def run_forever(stack: Stack) -> int:
    """Start, print the banner, supervise until a signal; stop everything. The exit status."""
    try:
        stack.preflight()
    except EmulatorError as error:
        say(f"error: {error}", error=True)
        return 1
    signals = _Signals()
    say(f"Starting the local stack (logs in {shown(stack.log_dir)}/)…")
    try:
        stack.up(report=say, check=False)
    except KeyboardInterrupt:
        say("\nInterrupted while starting: everything that had started is stopped.")
        return 130
    except EmulatorError as error:
        say(f"error: {error}", error=True)
        return 1
    status = 1
    try:
        signals._in_loop = True  # from here a signal ends the supervision loop instead of raising
        say(stack.banner())
        status = supervise(stack, signals)
        say("\nStopping…")
    finally:  # whatever happened above (an exception included), nothing is left running
        left = stack.down()
    if left:
        say("error: could not stop: " + "; ".join(left) + ". `make dev-down` tries again.", error=True)
        return 1
    say("Stopped: every process has exited and every port is free.")
    return status


def supervise(stack: Stack, signals: _Signals) -> int:
    """Restart a function that exits, for as long as the stack runs; stop on an emulator's exit.

    A function that keeps crashing is restarted with a growing pause (``RESTART_BACKOFF_SECONDS``,
    doubling to a minute) rather than given up on: the emulators, and the tweets waiting in them,
    stay up while the user looks at its log. 0 on a signal, 1 if an emulator died.
    """
    restarts: dict[str, deque[float]] = {p.name: deque() for p in stack.processes if stack.restartable(p)}
    not_before: dict[str, float] = {}
    while not signals.stop.wait(0.5):
        for process in stack.processes:
            if process.running:
                continue
            status = process.process.returncode if process.process else None
            how = f"was killed by {signal.Signals(-status).name}" if status and status < 0 else f"exited ({status})"
            if process.process is None:
                how = "did not come back"
            if not stack.restartable(process):
                held = {stack.pubsub.name: "the topics and their messages", stack.gcs.name: "the model bucket"
                        }.get(process.name, "what the notifier posted")
                say(f"\nerror: the {process.name} {how}: the stack cannot go on without it ({held} lived in "
                    f"it); `make run` starts a fresh one. Its log ({shown(process.log_path)}):\n"
                    f"{log_tail(process.log_path)}", error=True)
                return 1
            now = time.monotonic()
            if now < not_before.get(process.name, 0.0):
                continue
            recent = restarts[process.name]
            while recent and recent[0] < now - RESTART_WINDOW_SECONDS:
                recent.popleft()
            recent.append(now)
            if len(recent) > MAX_RESTARTS:
                pause = min(60.0, RESTART_BACKOFF_SECONDS * 2 ** (len(recent) - MAX_RESTARTS - 1))
                not_before[process.name] = now + pause
                say(f"! {process.name} {how} again ({len(recent)} times in {RESTART_WINDOW_SECONDS:.0f} s): "
                    f"next restart in {pause:.0f} s; the emulators keep the tweets. Its log "
                    f"({shown(process.log_path)}):\n{log_tail(process.log_path)}", error=True)
                stack.forget(process)
                continue
            if isinstance(process, BuzzPipeline):
                say(f"! {process.name} {how}; restarting it (the DirectRunner keeps no state: each brand's "
                    "history starts again from the next tweets)…")
            else:
                say(f"! {process.name} {how}; restarting it on port {process.port} (unacknowledged tweets are "
                    "pushed again)…")
            started = time.perf_counter()
            try:
                stack.restart(process, f"the {'pipeline' if isinstance(process, BuzzPipeline) else 'function'} {how}")
            except EmulatorError as error:
                say(f"error: {process.name} did not come back: {error}; trying again", error=True)
                continue
            say(f"  ✓ {process.name} is back ({time.perf_counter() - started:.1f} s)")
    return 0


def stop_recorded(timeout: float = 30.0) -> int:
    """`make dev-down`: stop the stack the state file describes, whoever started it. The exit status."""
    path = state_file()
    state = read_state(path)
    if state is None:
        print(f"No local stack is recorded as running ({shown(path)} does not exist).")
        return 0
    supervisor = state.get("supervisor")
    if supervisor and supervisor != os.getpid() and supervisor_running(state):
        print(f"Asking the stack's supervisor (pid {supervisor}) to stop…", flush=True)
        os.kill(supervisor, signal.SIGTERM)  # it stops its processes in order, then exits
        deadline = time.monotonic() + timeout
        while process_alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.1)
    left = []
    for name, process in state.get("processes", {}).items():
        pgid = process.get("pgid")
        if pgid and recorded_group_alive(pgid, process.get("start")):  # the supervisor was killed or is stuck
            if stop_group(pgid):
                print(f"stopped {name} (process group {pgid})")
            else:
                left.append(f"{name} (process group {pgid})")
    for field, port in state.get("ports", {}).items():
        if port_in_use(port):
            left.append(f"port {port} ({PORT_OWNERS.get(field, field)}) is still bound by another process")
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if left:
        print("error: still running: " + "; ".join(left), file=sys.stderr)
        return 1
    print("The local stack is stopped: no process left, ports free.")
    return 0

"""The local stack as a user drives it: `python -m devstack up|replay|down` as real processes, no mocks.

Each stack runs on free ports with its own state directory (DEVSTACK_STATE_DIR), so a developer's
`make run` is never disturbed, and serves the committed model like `make run` does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from devstack import topology
from devstack.emulators import free_port, group_alive, port_in_use
from devstack.webhook_receiver import received_from

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "bad_buzz.jsonl"
READY = "Ctrl-C here stops everything"
PORT_VARIABLES = ("PUBSUB_PORT", "GCS_PORT", "HTTP_PORT", "SCORER_PORT", "NOTIFY_PORT", "WEBHOOK_PORT")


def demo_tweets() -> dict[str, str]:
    return {t["id"]: t["text"] for t in map(json.loads, DEMO.read_text(encoding="utf-8").splitlines())}


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


class RunningStack:
    """`python -m devstack up` in the background, its output collected line by line."""

    def __init__(self, tmp_path: Path, **env: str):
        self.ports = dict(zip(PORT_VARIABLES, distinct_free_ports(len(PORT_VARIABLES)), strict=True))
        self.state_dir = tmp_path / "stack-state"
        self.env = {**os.environ, **{k: str(v) for k, v in self.ports.items()},
                    "DEVSTACK_STATE_DIR": str(self.state_dir), "PYTHONUNBUFFERED": "1", **env}
        self.env.pop("DEVSTACK_MODEL_DIR", None)  # the committed model, as a user gets it
        self.process = subprocess.Popen([sys.executable, "-m", "devstack", "up"], cwd=REPO, env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.pgids: set[int] = set()  # every process group the stack ever recorded
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                self._reader.join(5)
                if text in self.output:
                    return
                pytest.fail(f"`devstack up` exited ({self.process.returncode}) before {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"`devstack up` did not print {text!r} within {timeout:.0f} s:\n{self.output}")
            time.sleep(0.1)

    def state(self) -> dict:
        state = json.loads((self.state_dir / "stack.json").read_text())
        self.pgids |= {p["pgid"] for p in state["processes"].values()}
        return state

    def devstack(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "devstack", *args], cwd=REPO, env={**self.env, **env},
                              capture_output=True, text=True, timeout=timeout)

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as in its terminal."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def assert_nothing_left(self) -> None:
        assert self.pgids, "no process group was ever recorded"
        alive = [pgid for pgid in self.pgids if group_alive(pgid)]
        assert not alive, f"process groups still running: {alive}"
        bound = [port for port in self.ports.values() if port_in_use(port)]
        assert not bound, f"ports still bound: {bound}"
        assert not (self.state_dir / "stack.json").exists(), "the state file outlived the stack"

    def kill_everything(self) -> None:
        """Teardown of a failed test: whatever is left, by process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for pgid in self.pgids:
            if group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def start_stack(tmp_path):
    stacks: list[RunningStack] = []

    def start(**env: str) -> RunningStack:
        stack = RunningStack(tmp_path, **env)
        stacks.append(stack)
        stack.wait_for(READY, timeout=120)
        stack.state()
        return stack

    yield start
    for stack in stacks:
        stack.kill_everything()


@pytest.fixture
def emulator_client(monkeypatch):
    """google-cloud-pubsub clients pointed at a stack's emulator."""

    def clients(stack: RunningStack):
        from google.cloud import pubsub_v1

        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{stack.ports['PUBSUB_PORT']}")
        return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()

    return clients


def subscribe_to(subscriber, topic: str) -> str:
    """A subscription of the test's own on a stack topic (the stack's observers belong to the replay)."""
    project = topology.Topology("air-paradis-local")
    name = project.subscription(f"test-{topic}-{uuid.uuid4().hex[:6]}")
    subscriber.create_subscription(request={"name": name, "topic": project.topic(topic)})
    return name


def pull(subscriber, subscription: str, until, timeout: float) -> list[dict]:
    """Pull JSON messages until ``until(messages)`` holds or ``timeout`` passes."""
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while not until(messages) and time.monotonic() < deadline:
        response = subscriber.pull(subscription=subscription, max_messages=500, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages])
            messages += [json.loads(m.message.data) for m in response.received_messages]
        else:
            time.sleep(0.2)
    return messages


@pytest.mark.slow
@pytest.mark.parametrize("instances", [1, 3])
def test_user_journey_start_replay_the_demo_see_the_pipelines_alert_ctrl_c(start_stack, emulator_client, instances):
    """End to end, every part real: the emulator pushes the demo to ``instances`` scoring function processes,
    the bad-buzz pipeline (DirectRunner) reads what they publish, the notifier posts its alerts to the local
    webhook receiver. However many instances score, one bad_buzz then one resolved, each posted once."""
    stack = start_stack(SCORER_INSTANCES=str(instances))
    latest = (REPO / "models" / "LATEST").read_text().split()[0]
    http = stack.ports["HTTP_PORT"]
    assert f"running locally: model {latest}" in stack.output
    assert f"http://127.0.0.1:{http}" in stack.output and f"127.0.0.1:{stack.ports['SCORER_PORT']}" in stack.output
    assert re.search(r"✓ bad-buzz pipeline +pulls tweets-scored-to-sentiment-buzz +\d+\.\d s", stack.output)
    assert "buzz-pipeline" in stack.state()["processes"]

    request = urllib.request.Request(f"http://127.0.0.1:{http}/predict", data=b'{"text": "Lost my bag again!"}',
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["model_version"] == latest

    _, subscriber = emulator_client(stack)
    alerts_subscription = subscribe_to(subscriber, topology.ALERT_TOPIC)
    # twice the demo's pace: the push order still holds within the pipeline's 15 min of lateness
    replay = stack.devstack("replay", str(DEMO), "--rate", "80", timeout=300)
    tweets = demo_tweets()
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"{len(tweets)} published, {len(tweets)} scored;" in replay.stdout
    assert "BAD BUZZ AirParadis at Tue 03 Nov" in replay.stdout and "RESOLVED AirParadis at Tue 03 Nov" in replay.stdout
    assert "2 alerts: bad_buzz AirParadis at" in replay.stdout and "2 notifications posted" in replay.stdout

    alerts = pull(subscriber, alerts_subscription, lambda got: [a["type"] for a in got][-1:] == ["resolved"], 30)
    alerts += pull(subscriber, alerts_subscription, lambda got: False, 3)  # nothing else follows
    assert [(a["type"], a["brand"]) for a in alerts] == [("bad_buzz", "AirParadis"), ("resolved", "AirParadis")]
    bad, resolved = alerts
    assert bad["alert_id"] == resolved["alert_id"] and bad["model_version"] == latest
    # the outage started Tuesday 13:00 UTC (examples/generate_bad_buzz.py): detected within hours of it
    assert "2026-11-03T13:00" < bad["detected_at"] < "2026-11-03T17:00"
    assert bad["negative_share"] > bad["baseline_share"] + 0.2 and 0.35 < bad["baseline_share"] < 0.6
    assert {"outage", "cancelled"} <= {d["term"] for d in bad["drivers"]}
    assert len(bad["evidence"]) == 5
    for evidence in bad["evidence"]:  # real tweets of the demo, the most negative ones
        assert tweets[evidence["id"]] == evidence["text"]
        assert evidence["probability_negative"] > 0.9
    assert resolved["detected_at"] > bad["detected_at"] and resolved["negative_share"] < 0.6

    posts = received_from(f"http://127.0.0.1:{stack.ports['WEBHOOK_PORT']}")
    assert len(posts) == 2 and not any(p.get("duplicate") for p in posts), posts
    assert [p["status"] for p in posts] == [200, 200]
    assert [p["body"]["blocks"][0]["text"]["text"] for p in posts] == ["🚨 Bad buzz: AirParadis",
                                                                        "✅ Resolved: AirParadis"]
    log = (stack.state_dir / "logs" / "score-pubsub.log").read_text()
    scorers = set(re.findall(r'"task_id":"([0-9a-f]+)"', log))
    assert len(scorers) == instances, f"instances that scored and flushed their metrics: {scorers}"

    assert stack.interrupt() == 0, stack.output
    assert "Stopped: every process has exited and every port is free." in stack.output
    stack.assert_nothing_left()


@pytest.mark.slow
def test_a_second_up_fails_fast_naming_the_port_and_leaves_the_first_alone(start_stack, tmp_path):
    stack = start_stack()
    before = stack.state()

    second = stack.devstack("up", timeout=60)  # same ports, same state directory
    assert second.returncode == 1
    assert "a local stack is already running" in second.stderr and "make dev-down" in second.stderr
    for variable, port in stack.ports.items():
        assert f"port {port} (" in second.stderr and f", {variable}) is already in use" in second.stderr
    assert "✓" not in second.stdout  # nothing was started

    elsewhere = stack.devstack("up", timeout=60, DEVSTACK_STATE_DIR=str(tmp_path / "other"))  # same ports only
    assert elsewhere.returncode == 1 and "already running" not in elsewhere.stderr
    pubsub = stack.ports["PUBSUB_PORT"]
    assert f"port {pubsub} (Pub/Sub emulator, PUBSUB_PORT) is already in use" in elsewhere.stderr
    assert "`make dev-down` if it is another local stack" in elsewhere.stderr

    assert stack.process.poll() is None and stack.state() == before
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['HTTP_PORT']}/health", timeout=10) as response:
        assert json.load(response)["status"] == "ok"
    assert stack.interrupt() == 0, stack.output
    stack.assert_nothing_left()


@pytest.mark.slow
def test_a_killed_pubsub_function_is_restarted_and_no_tweet_is_lost(start_stack, emulator_client):
    stack = start_stack()
    _, subscriber = emulator_client(stack)
    scored_subscription = subscribe_to(subscriber, topology.OUTPUT_TOPIC)
    tweets = demo_tweets()
    replay = subprocess.Popen([sys.executable, "-m", "devstack", "replay", str(DEMO), "--rate", "0"], cwd=REPO,
                              env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # mid-replay: once a few hundred tweets are scored, the function's whole process group dies at once
        first = pull(subscriber, scored_subscription, lambda got: len(got) >= 300, timeout=120)
        assert len(first) >= 300 and len(first) < len(tweets), "the replay must still be running"
        killed = stack.state()["processes"]["score-pubsub"]["pgid"]
        os.killpg(killed, signal.SIGKILL)
        stack.wait_for("score-pubsub is back", timeout=90)
        assert "score-pubsub was killed by SIGKILL; restarting it" in stack.output
        assert stack.state()["processes"]["score-pubsub"]["pgid"] != killed

        out, err = replay.communicate(timeout=240)
    finally:
        if replay.poll() is None:
            replay.kill()
    assert replay.returncode == 0, out + err
    assert f"{len(tweets)} published, {len(tweets)} scored" in out

    results = first + pull(subscriber, scored_subscription,
                           lambda got: {r["id"] for r in first + got} >= tweets.keys(), timeout=60)
    ids = [r["id"] for r in results]
    assert set(ids) == set(tweets), f"never scored: {sorted(set(tweets) - set(ids))[:10]}"
    # at least once: only the tweets in flight when it died (4 threads) may have been scored twice
    assert len(ids) - len(set(ids)) <= 4

    project = topology.Topology("air-paradis-local")
    response = subscriber.pull(subscription=project.observer(topology.DEAD_LETTER_TOPIC), max_messages=10, timeout=5)
    # (alerts the notifier parked share the dead-letter topic: only tweets count here)
    tweets_dead = [m for m in response.received_messages if m.message.attributes.get("parked_by") != "notify-function"]
    assert not tweets_dead, "a tweet was dead-lettered"

    assert stack.interrupt() == 0, stack.output
    stack.assert_nothing_left()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_with_nobody_reading_stops_everything(tmp_path, sig):
    """A closed terminal (SIGHUP), Ctrl-C under `up | tee` (SIGINT: tee dies first), `kill`: whatever
    the supervisor then fails to print, it stops every process and frees every port."""
    ports = dict(zip(PORT_VARIABLES, distinct_free_ports(len(PORT_VARIABLES)), strict=True))
    state_dir = tmp_path / "stack-state"
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "DEVSTACK_STATE_DIR": str(state_dir),
           "PYTHONUNBUFFERED": "1"}
    read_end, write_end = os.pipe()
    process = subprocess.Popen([sys.executable, "-m", "devstack", "up"], cwd=REPO, env=env, stdout=write_end,
                               stderr=subprocess.STDOUT)
    os.close(write_end)
    output, pgids = b"", set()
    try:
        deadline = time.monotonic() + 120
        while READY.encode() not in output:
            assert time.monotonic() < deadline and process.poll() is None, output.decode(errors="replace")
            output += os.read(read_end, 65536)
        pgids = {p["pgid"] for p in json.loads((state_dir / "stack.json").read_text())["processes"].values()}
        os.close(read_end)  # the terminal (or tee) is gone: every later write fails
        read_end = None
        process.send_signal(sig)
        assert process.wait(60) in (0, 128 + sig, -sig)
        alive = [pgid for pgid in pgids if group_alive(pgid)]
        assert not alive, f"process groups still running: {alive}"
        assert not [port for port in ports.values() if port_in_use(port)]
        assert not (state_dir / "stack.json").exists()
    finally:
        if read_end is not None:
            os.close(read_end)
        if process.poll() is None:
            process.kill()
        for pgid in pgids:
            if group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)


@pytest.mark.slow
def test_a_function_whose_leader_is_killed_again_and_again_keeps_coming_back(start_stack):
    """Only the gunicorn master dies: its orphaned worker still holds the port for a while. Four times in
    a row, the fourth after the supervisor's pause; the emulators stay up throughout. Then the pipeline."""
    stack = start_stack()
    emulator = stack.state()["processes"]["pubsub-emulator"]["pgid"]
    for attempt in range(1, 5):
        leader = stack.state()["processes"]["score-pubsub"]["pgid"]
        os.kill(leader, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while stack.output.count("score-pubsub is back") < attempt:
            assert time.monotonic() < deadline, stack.output
            assert stack.process.poll() is None, stack.output
            time.sleep(0.2)
    assert "next restart in 5 s" in stack.output and "already in use" not in stack.output
    assert stack.state()["processes"]["pubsub-emulator"]["pgid"] == emulator
    with pytest.raises(urllib.error.HTTPError, match="405"):  # it serves: a CloudEvent function refuses a GET
        urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['SCORER_PORT']}/", timeout=10)

    pipeline = stack.state()["processes"]["buzz-pipeline"]["pgid"]  # the pipeline is supervised too
    os.killpg(pipeline, signal.SIGKILL)
    stack.wait_for("buzz-pipeline is back", timeout=120)
    assert "buzz-pipeline was killed by SIGKILL; restarting it (the DirectRunner keeps no state" in stack.output
    assert stack.state()["processes"]["buzz-pipeline"]["pgid"] != pipeline
    log = (stack.state_dir / "logs" / "buzz-pipeline.log").read_text()
    assert log.count("pipeline running: reading") == 2 and "restarting it at" in log
    assert stack.interrupt() == 0, stack.output
    stack.assert_nothing_left()


@pytest.mark.slow
def test_a_missing_emulator_is_reported_with_its_package_before_anything_starts(tmp_path):
    empty_sdk = tmp_path / "no-sdk"
    empty_sdk.mkdir()
    ports = dict(zip(PORT_VARIABLES, map(str, distinct_free_ports(len(PORT_VARIABLES))), strict=True))
    env = {**os.environ, **ports, "DEVSTACK_STATE_DIR": str(tmp_path / "state"),
           "PATH": str(Path(sys.executable).parent),  # no gcloud
           "CLOUDSDK_ROOT_DIR": str(empty_sdk)}
    env.pop("PUBSUB_EMULATOR_LAUNCHER", None)
    up = subprocess.run([sys.executable, "-m", "devstack", "up"], cwd=REPO, env=env, capture_output=True, text=True,
                        timeout=60)
    assert up.returncode == 1
    assert "the Pub/Sub emulator is not installed" in up.stderr
    assert "google-cloud-cli-pubsub-emulator" in up.stderr
    assert "✓" not in up.stdout
    assert not any(port_in_use(int(port)) for port in ports.values())
    assert not (tmp_path / "state" / "stack.json").exists()

    env["PUBSUB_EMULATOR_LAUNCHER"] = str(empty_sdk / "cloud-pubsub-emulator")
    up = subprocess.run([sys.executable, "-m", "devstack", "up"], cwd=REPO, env=env, capture_output=True, text=True,
                        timeout=60)
    assert up.returncode == 1
    assert "PUBSUB_EMULATOR_LAUNCHER=" in up.stderr and "google-cloud-cli-pubsub-emulator" in up.stderr


# --- The local topology is Terraform's -----------------------------------------------------------------

def _interpolate(module, text: str) -> str:
    """``${var.x.y}`` pieces of a Terraform string, from defaults (object attributes: their optional default)."""
    from tests.infra_checks import resolve

    def value(match: re.Match) -> str:
        expression = match.group(1)
        resolved = resolve(module, "${" + expression + "}")
        if isinstance(resolved, (str, int, float)) and resolved != "${" + expression + "}":
            return _interpolate(module, str(resolved))  # a local or default that is itself a template
        parts = expression.split(".")
        if parts[0] == "var" and len(parts) == 3:  # optional(type, default) in the variable's object type
            kind = str(module.variables[parts[1]].get("type"))
            found = re.search(rf"\b{parts[2]}\s*=\s*optional\(\w+,\s*\"?([^\")]+)\"?\)", kind)
            if found:
                return found.group(1)
        raise AssertionError(f"cannot resolve ${{{expression}}} from defaults")

    return re.sub(r"\$\{([^{}]+)\}", value, text)


def test_the_local_topology_matches_terraform():
    from sentiment.config import SETTINGS
    from tests.infra_checks import block, load_module, refers_to, resolve

    module = load_module()
    topics = {address: resolve(module, body.get("name")) for address, body in module.of_type("google_pubsub_topic")
              .items()}
    assert sorted(topics.values()) == sorted([topology.INPUT_TOPIC, topology.OUTPUT_TOPIC, topology.ALERT_TOPIC,
                                              topology.FEEDBACK_TOPIC, topology.DEAD_LETTER_TOPIC])
    defaults = {s.env: s.default for s in SETTINGS}  # what the functions publish to, locally too
    assert (defaults["OUTPUT_TOPIC"], defaults["FEEDBACK_TOPIC"], defaults["DEAD_LETTER_TOPIC"]) == (
        topology.OUTPUT_TOPIC, topology.FEEDBACK_TOPIC, topology.DEAD_LETTER_TOPIC)  # no alert topic: the pipeline's

    def topic_of(value) -> str:
        (address,) = refers_to(module, value, "google_pubsub_topic")
        return topics[address]

    subscriptions = module.of_type("google_pubsub_subscription")
    pushes = {topic_of(body["topic"]): body for body in subscriptions.values() if block(body, "push_config")}
    assert set(pushes) == {topology.INPUT_TOPIC, topology.ALERT_TOPIC}
    push, notify = pushes[topology.INPUT_TOPIC], pushes[topology.ALERT_TOPIC]
    assert _interpolate(module, str(notify["name"])) == topology.NOTIFY_PUSH_SUBSCRIPTION
    assert topic_of(block(notify, "dead_letter_policy")["dead_letter_topic"]) == topology.DEAD_LETTER_TOPIC
    assert _interpolate(module, str(push["name"])) == topology.PUSH_SUBSCRIPTION
    assert topic_of(push["topic"]) == topology.INPUT_TOPIC
    assert topic_of(block(push, "dead_letter_policy")["dead_letter_topic"]) == topology.DEAD_LETTER_TOPIC
    assert int(_interpolate(module, str(push["ack_deadline_seconds"]))) == 60  # topology.create's default
    # the path names the topic, as topology.push_endpoint() does
    endpoint = re.search(r"/projects/\$\{var\.project_id\}/topics/\$\{([^{}]+)\}$",
                         str(block(push, "push_config")["push_endpoint"]))
    assert endpoint and topic_of("${" + endpoint.group(1) + "}") == topology.INPUT_TOPIC
    holds = [body for body in subscriptions.values() if not block(body, "push_config")
             and "${each" not in str(body.get("name")) and topic_of(body["topic"]) == topology.DEAD_LETTER_TOPIC]
    assert [_interpolate(module, str(h["name"])) for h in holds] == [topology.DEAD_LETTER_HOLD]
    # the bad-buzz pipeline's pull subscription on the scored tweets (infra/dataflow.tf)
    streams = [body for body in subscriptions.values() if not block(body, "push_config")
               and not block(body, "bigquery_config") and topic_of(body["topic"]) == topology.OUTPUT_TOPIC]
    assert [_interpolate(module, str(b["name"])) for b in streams] == [topology.STREAM_SUBSCRIPTION]


@pytest.mark.slow
def test_the_topology_on_the_emulator_is_wired_as_declared(pubsub_emulator):
    from google.cloud import pubsub_v1

    project = f"topo-{uuid.uuid4().hex[:8]}"
    topo = topology.create(project, "http://127.0.0.1:9", max_delivery_attempts=topology.STACK_MAX_DELIVERY_ATTEMPTS)
    subscriber = pubsub_v1.SubscriberClient()
    push = subscriber.get_subscription(subscription=topo.subscription(topology.PUSH_SUBSCRIPTION))
    assert push.topic == topo.topic(topology.INPUT_TOPIC)
    assert push.push_config.push_endpoint == f"http://127.0.0.1:9/projects/{project}/topics/{topology.INPUT_TOPIC}"
    assert push.dead_letter_policy.dead_letter_topic == topo.topic(topology.DEAD_LETTER_TOPIC)
    assert push.dead_letter_policy.max_delivery_attempts == topology.STACK_MAX_DELIVERY_ATTEMPTS
    assert push.ack_deadline_seconds == 60
    assert not push.retry_policy.minimum_backoff.seconds  # deliberately none: see devstack/topology.py
    stream = subscriber.get_subscription(subscription=topo.subscription(topology.STREAM_SUBSCRIPTION))
    assert stream.topic == topo.topic(topology.OUTPUT_TOPIC) and not stream.push_config.push_endpoint
    hold = subscriber.get_subscription(subscription=topo.observer(topology.DEAD_LETTER_TOPIC))
    assert hold.name.endswith(f"/{topology.DEAD_LETTER_HOLD}") and hold.topic == topo.topic(topology.DEAD_LETTER_TOPIC)

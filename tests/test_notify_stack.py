"""The notifier in the local stack, as a user sees it: `devstack up` starts it with a webhook receiver, and
`devstack replay` prints what it posted, rendered as the chat shows it. Real processes, no mocks."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from devstack import topology
from devstack.webhook_receiver import received_from

from .notify_support import attributes, bad_buzz, data, resolved
from .test_devstack import REPO, start_stack  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fmt", ["slack", "google_chat"])
def test_replay_prints_what_the_notifier_posted(start_stack, tmp_path, monkeypatch, fmt):  # noqa: F811
    from google.cloud import pubsub_v1

    stack = start_stack(NOTIFY_FORMAT=fmt)
    ports = stack.ports
    assert f"notifier function  http://127.0.0.1:{ports['NOTIFY_PORT']}" in stack.output
    assert f"webhook receiver   http://127.0.0.1:{ports['WEBHOOK_PORT']}" in stack.output and f"({fmt})" in stack.output

    tweets = tmp_path / "tweets.jsonl"
    tweets.write_text("".join(f'{{"id": "t{i}", "text": "fine flight {i}"}}\n' for i in range(200)), encoding="utf-8")
    replay = subprocess.Popen([sys.executable, "-m", "devstack", "replay", str(tweets), "--rate", "40"], cwd=REPO,
                              env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)  # the replay is following the receiver by now (it skips what came before it)
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{ports['PUBSUB_PORT']}")
        publisher = pubsub_v1.PublisherClient()
        topic = topology.Topology("air-paradis-local").topic(topology.ALERT_TOPIC)
        for payload in (bad_buzz(), bad_buzz(), resolved()):
            publisher.publish(topic, data(payload), **attributes(payload)).result(timeout=30)
        output, _ = replay.communicate(timeout=120)
    finally:
        if replay.poll() is None:
            replay.kill()
    assert replay.returncode == 0, output
    assert output.count("the notifier posted") == 2, output
    assert "🚨 Bad buzz: spike" in output and "✅ Resolved: spike" in output
    assert "50% of 318 tweets negative over 3 h (usually 33%)" in output
    assert "2 notifications posted to the chat webhook" in output
    posts = received_from(f"http://127.0.0.1:{ports['WEBHOOK_PORT']}")
    assert len([p for p in posts if not p["duplicate"]]) == 2
    if fmt == "google_chat":
        assert "[thread " in output and all(p["path"] == "/v1/spaces/local/messages" for p in posts)
    assert stack.interrupt() == 0, stack.output
    stack.assert_nothing_left()

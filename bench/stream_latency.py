"""Streaming latency on the local stack: from publishing a tweet to the bad-buzz pipeline's alert.

    python -m bench.stream_latency [--rate 40]      # this section alone (about 1.5 min)

Starts the whole local stack as ``make run`` does (``devstack.stack.Stack`` on free ports, a state
directory of its own: the emulators, the functions, the notifier and its webhook receiver, the
pipeline on the DirectRunner), publishes the demo stream (examples/bad_buzz.jsonl, two days of event
time) at the replay's pace and times:

- the stack's start, and the pipeline's (from its launch until it runs: Beam's import and graph);
- for each alert, from the publish of the tweet that let the pipeline decide to the alert's arrival on
  the alerts topic, and to the notifier's post on the webhook receiver. With ``--event-clock data`` a
  brand's bucket closes when one of its tweets is ``allowed_lateness`` past the bucket's end: that
  tweet (the brand's first published with ``created_at >= detected_at + lateness``) is the trigger. The
  path it measures: push, scoring, ``tweets-scored``, the pipeline's pull and bundle, the decision,
  ``sentiment-alerts``, the notifier's push and post;
- in event time, how long after the buzz began it was detected (the detector's settings, not the stack).

The demo's texts are written for the committed model, so this section always serves ``models/``.
One run, the figures as measured; nothing fails on a slow figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench import common

DEMO = common.REPO / "examples" / "bad_buzz.jsonl"
RATE = 40.0  # the replay's default pace


def _buzz_start() -> float:
    """When the demo's outage begins (epoch seconds), read from its generator (a script, loaded by path)."""
    spec = importlib.util.spec_from_file_location("generate_bad_buzz", DEMO.with_name("generate_bad_buzz.py"))
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return (generator.START + timedelta(hours=generator.BUZZ_START)).timestamp()


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run(work: Path, rate: float = RATE, timeout: float = 180.0) -> dict:
    from devstack import topology
    from devstack.emulators import free_port
    from devstack.stack import PROJECT, Ports, Stack
    from devstack.webhook_receiver import received_from
    from pipelines.settings import DetectionSettings

    ports = Ports(*(free_port() for _ in range(6)))
    stack = Stack(ports, directory=work / "stack", model_dir=common.MODELS)
    started = time.perf_counter()
    steps: list[str] = []
    stack.up(report=steps.append)
    stack_seconds = time.perf_counter() - started
    try:
        from google.cloud import pubsub_v1

        os.environ.update(stack.pubsub.env)
        names = topology.Topology(PROJECT)
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        alerts_subscription = names.subscription("bench-stream-alerts")
        subscriber.create_subscription(request={"name": alerts_subscription,
                                                "topic": names.topic(topology.ALERT_TOPIC)})
        tweets = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
        published: dict[str, float] = {}  # tweet id -> time.time() just before its publish
        arrived: list[tuple[float, dict]] = []
        stopping = threading.Event()

        def follow() -> None:
            while not stopping.is_set():
                response = subscriber.pull(subscription=alerts_subscription, max_messages=10, timeout=2)
                now = time.time()
                if response.received_messages:
                    subscriber.acknowledge(subscription=alerts_subscription,
                                           ack_ids=[m.ack_id for m in response.received_messages])
                arrived.extend((now, json.loads(m.message.data)) for m in response.received_messages)
                if not response.received_messages:
                    stopping.wait(0.05)

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        topic, begin = names.topic(topology.INPUT_TOPIC), time.monotonic()
        futures = []
        for index, tweet in enumerate(tweets):
            time.sleep(max(0.0, begin + index / rate - time.monotonic()))
            published[tweet["id"]] = time.time()
            futures.append(publisher.publish(topic, json.dumps(tweet).encode()))
        for future in futures:
            future.result(timeout=60)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and [a["type"] for _, a in arrived][-1:] != ["resolved"]:
            time.sleep(0.2)
        time.sleep(2.0)  # the notifier's last post
        stopping.set()
        follower.join(10)
        posts = received_from(stack.webhook.url)
        publish_seconds = time.monotonic() - begin
    finally:
        left = stack.down()
    lateness = DetectionSettings().lateness_seconds
    alerts, buzz_start = [], _buzz_start()
    for at, alert in arrived:
        limit = _seconds(alert["detected_at"]) + lateness
        trigger = next((t for t in tweets if t["brand"] == alert["brand"] and _seconds(t["created_at"]) >= limit), None)
        header = "🚨 Bad buzz" if alert["type"] == "bad_buzz" else "✅ Resolved"  # the notifier's titles
        post = next((p for p in posts if not p.get("duplicate") and alert["alert_id"] in (body := json.dumps(
            p["body"], ensure_ascii=False)) and header in body), None)
        posted_at = datetime.fromisoformat(post["at"]).timestamp() if post else None
        sent = published[trigger["id"]] if trigger else None
        alerts.append({"type": alert["type"], "brand": alert["brand"], "detected_at": alert["detected_at"],
                       "trigger": trigger["id"] if trigger else None,
                       "to_topic_seconds": at - sent if sent else None,
                       "to_chat_seconds": posted_at - sent if sent and posted_at else None,
                       "event_hours_after_start": (_seconds(alert["detected_at"]) - buzz_start) / 3600})
    return {"tweets": len(tweets), "rate": rate, "publish_seconds": publish_seconds, "stack_seconds": stack_seconds,
            "pipeline_seconds": stack.pipeline_seconds, "steps": steps, "alerts": alerts, "posts": len(posts),
            "left": left}


def main(argv: list[str] | None = None) -> int:
    from bench import report

    parser = argparse.ArgumentParser(prog="python -m bench.stream_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=RATE, help="tweets published per second")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as work:
        result = run(Path(work), arguments.rate)
    print(report.stream_section({"stream": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

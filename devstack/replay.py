"""Replay tweets into the running local stack and watch what comes out.

Publishes a JSONL or CSV file of tweets to the `tweets` topic at a steady rate (progress bar), while
following the scored-tweets and alert topics and printing a live summary: tweets scored, the
negative share of the last window, and every alert with its evidence tweets as it fires.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from collections import deque
from pathlib import Path

from . import topology

SUMMARY_WINDOW_SECONDS = 30


def read_tweets(path: Path, text_column: str = "text") -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8") as handle:
            tweets = [json.loads(line) for line in handle if line.strip()]
    else:
        with open(path, encoding="utf-8", newline="") as handle:
            tweets = [{"id": row.get("id"), "text": row[text_column]} for row in csv.DictReader(handle)]
    for number, tweet in enumerate(tweets, start=1):
        tweet.setdefault("id", f"replay-{number}")
    return tweets


class Watcher:
    """Follows the output and alert topics through the stack's observer subscriptions."""

    def __init__(self, project: str, printer):
        from google.cloud import pubsub_v1

        self.topology = topology.Topology(project)
        self.subscriber = pubsub_v1.SubscriberClient()
        self.printer = printer
        self.scored = 0
        self.recent: deque[tuple[float, bool]] = deque()
        self.alerts: list[dict] = []
        self._lock = threading.Lock()
        self._futures = []

    def start(self) -> None:
        self._futures = [
            self.subscriber.subscribe(self.topology.observer(topology.OUTPUT_TOPIC), self._on_scored),
            self.subscriber.subscribe(self.topology.observer(topology.ALERT_TOPIC), self._on_alert),
        ]

    def stop(self) -> None:
        for future in self._futures:
            future.cancel()
        self.subscriber.close()

    def _on_scored(self, message) -> None:
        message.ack()
        result = json.loads(message.data)
        now = time.monotonic()
        with self._lock:
            self.scored += 1
            self.recent.append((now, result.get("sentiment") == "negative"))
            while self.recent and self.recent[0][0] < now - SUMMARY_WINDOW_SECONDS:
                self.recent.popleft()

    def _on_alert(self, message) -> None:
        message.ack()
        alert = json.loads(message.data)
        self.alerts.append(alert)
        self.printer(describe_alert(alert))

    def negative_share(self) -> float:
        with self._lock:
            return sum(neg for _, neg in self.recent) / len(self.recent) if self.recent else 0.0


def describe_alert(alert: dict) -> str:
    kind = alert.get("type", "alert")
    share = alert.get("negative_share")
    head = (f"\n🚨 BAD BUZZ: {alert.get('negative', '?')}/{alert.get('tweets', '?')} negative "
            f"({share:.0%} > {alert.get('threshold', 0):.0%}) over {alert.get('window_seconds', '?')} s, "
            f"model {alert.get('model_version')}") if kind == "bad_buzz" else \
        f"\n✅ RESOLVED: negative share back to {share:.0%} over {alert.get('window_seconds', '?')} s"
    evidence = [f"     {e.get('probability_positive', 0):.2f}  {e.get('text', '')[:100]}"
                for e in alert.get("evidence", [])]
    return "\n".join([head, *(["   most negative tweets:"] + evidence if evidence else [])])


def show(bar, watcher: Watcher) -> None:
    bar.set_postfix(scored=watcher.scored, negative=f"{watcher.negative_share():.0%}", alerts=len(watcher.alerts))


def replay(path: str, rate: float, text_column: str, follow_seconds: float) -> int:
    from .stack import STATE_FILE

    if not STATE_FILE.is_file():
        print("error: no local stack is running: start one with `make run` in another terminal", file=sys.stderr)
        return 1
    state = json.loads(STATE_FILE.read_text())
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{state['ports']['pubsub']}"
    try:
        tweets = read_tweets(Path(path), text_column)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: cannot read {path}: {error}", file=sys.stderr)
        return 1

    from google.cloud import pubsub_v1
    from tqdm import tqdm

    project = state["project"]
    publisher = pubsub_v1.PublisherClient()
    topic = topology.Topology(project).topic(topology.INPUT_TOPIC)
    bar = tqdm(total=len(tweets), unit=" tweets", desc="published", file=sys.stderr)
    watcher = Watcher(project, bar.write)
    watcher.start()
    started, futures = time.monotonic(), []
    try:
        for index, tweet in enumerate(tweets):
            if rate > 0:
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
            futures.append(publisher.publish(topic, json.dumps(tweet, ensure_ascii=False).encode("utf-8")))
            bar.update()
            show(bar, watcher)
        for future in futures:
            future.result(timeout=30)
        deadline = time.monotonic() + follow_seconds
        while time.monotonic() < deadline and watcher.scored < len(tweets):
            show(bar, watcher)
            time.sleep(0.5)
        time.sleep(min(follow_seconds, 3))
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
        watcher.stop()
    print(f"\n{len(futures)} published, {watcher.scored} scored, {len(watcher.alerts)} alerts "
          f"({', '.join(a.get('type', '?') for a in watcher.alerts) or 'none'})")
    return 0 if watcher.scored >= len(futures) else 2

"""Replay tweets into the running local stack and watch what comes out.

Publishes a JSONL or CSV file of tweets to the `tweets` topic at a steady rate (or as fast as
possible), with a progress bar on a terminal, while following the scored-tweets and alert topics
through the stack's observer subscriptions: a status line every ``STATUS_SECONDS`` (tweets scored,
the negative share over the detector's window) and every alert as it fires, with its evidence.

Only this replay's results are counted (matched on the Pub/Sub message ids it published), so what an
earlier, interrupted replay left on the observer subscriptions does not skew the numbers; alerts
older than the replay are skipped. A tweet pushed twice (after a function crash) is counted once,
and the duplicates are reported: consumers of tweets-scored dedupe on the message id.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from collections import Counter, deque
from datetime import datetime
from pathlib import Path

from . import topology
from .notifications import PostFollower

STATUS_SECONDS = 10.0
SETTLE_SECONDS = 2.0  # after the last score, for an alert still on its way


def read_tweets(path: Path, text_column: str = "text") -> list[dict]:
    """JSONL (one object with at least "text" per line) or CSV (a ``text_column``, optional "id")."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8") as handle:
            tweets = [json.loads(line) for line in handle if line.strip()]
    else:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if text_column not in (reader.fieldnames or []):
                raise KeyError(f"no column {text_column!r} (columns: {', '.join(reader.fieldnames or [])}); "
                               "choose one with --text-column")
            tweets = [{"id": row.get("id") or None, "text": row[text_column]} for row in reader]
    for number, tweet in enumerate(tweets, start=1):
        if not isinstance(tweet, dict) or not isinstance(tweet.get("text"), str):
            raise ValueError(f"tweet {number} has no text")
        if not tweet.get("id"):
            tweet["id"] = f"replay-{number}"
    return tweets


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def parse_time(value) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Watcher:
    """Follows the output and alert topics through the stack's observer subscriptions.

    With unary pulls in a thread per subscription, not streaming pull: the emulator fails to notice
    a streaming pull that its client cancelled (a Java NoSuchMethodError in its log), keeps sending
    messages down the dead stream, and the next replay would miss a share of its results.
    """

    def __init__(self, project: str, window_seconds: float, printer, started: float):
        from google.cloud import pubsub_v1

        self.topology = topology.Topology(project)
        self.subscriber = pubsub_v1.SubscriberClient()
        self.window_seconds = window_seconds
        self.printer = printer
        self.started = started  # time.time() of the replay's start
        self.published: set[str] = set()  # message ids this replay published
        self.results: Counter[str] = Counter()  # message id -> results seen (>1: pushed again)
        self.recent: deque[tuple[float, str, bool]] = deque()  # (arrival, message id, negative)
        self.alerts: list[dict] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for topic, handle in ((topology.OUTPUT_TOPIC, self._on_scored), (topology.ALERT_TOPIC, self._on_alert)):
            thread = threading.Thread(target=self._follow, args=(self.topology.observer(topic), handle), daemon=True,
                                      name=f"follow-{topic}")
            thread.start()
            self._threads.append(thread)

    def _follow(self, subscription: str, handle) -> None:
        from google.api_core import exceptions

        while not self._stopping.is_set():
            try:
                # a short deadline: the emulator answers at once when empty, rather than holding the call
                response = self.subscriber.pull(subscription=subscription, max_messages=1000, timeout=2)
                if response.received_messages:
                    self.subscriber.acknowledge(subscription=subscription,
                                                ack_ids=[m.ack_id for m in response.received_messages])
            except exceptions.GoogleAPICallError:
                self._stopping.wait(0.5)
                continue
            for received in response.received_messages:
                handle(received.message)
            if not response.received_messages:
                self._stopping.wait(0.2)

    def stop(self) -> None:
        """Stop following; a pull in progress completes and what it brought is counted."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(10)
        self.subscriber.close()

    def add_published(self, message_id: str) -> None:
        with self._lock:
            self.published.add(message_id)

    def _on_scored(self, message) -> None:
        try:
            result = json.loads(message.data)
            message_id = str(result.get("source_message_id") or message.attributes.get("source_message_id"))
        except (ValueError, AttributeError):
            return
        now = time.monotonic()
        with self._lock:
            self.results[message_id] += 1
            self.recent.append((now, message_id, result.get("sentiment") == "negative"))
            while self.recent and self.recent[0][0] < now - self.window_seconds:
                self.recent.popleft()

    def _on_alert(self, message) -> None:
        try:
            alert = json.loads(message.data)
        except ValueError:
            return
        ended = parse_time(alert.get("window_end"))
        if ended is not None and ended < self.started - 1:
            return  # from before this replay
        alert["_at"] = (ended or time.time()) - self.started
        with self._lock:
            self.alerts.append(alert)
        self.printer(describe_alert(alert))

    # -- what the summary shows ---------------------------------------------------------------------

    def scored(self) -> int:
        with self._lock:
            return sum(1 for message_id in self.results if message_id in self.published)

    def duplicates(self) -> int:
        with self._lock:
            return sum(n - 1 for message_id, n in self.results.items() if message_id in self.published)

    def negative_share(self) -> tuple[float, int]:
        """The negative share of this replay's results of the last window (by arrival), and their count."""
        now = time.monotonic()
        with self._lock:
            window = [negative for at, message_id, negative in self.recent
                      if at >= now - self.window_seconds and message_id in self.published]
        return (sum(window) / len(window) if window else 0.0), len(window)


def describe_alert(alert: dict) -> str:
    """The alert payload of functions/sentiment/buzz.py, as a few lines for a human."""
    share, window = alert.get("negative_share", 0.0), alert.get("window_seconds", 0)
    at, source = clock(alert.get("_at", 0)), alert.get("source", "?")
    if alert.get("type") == "bad_buzz":
        head = (f"🚨 {at}  BAD BUZZ ({source}): {alert.get('negative')} of {alert.get('tweets')} tweets negative "
                f"({share:.1%} > {alert.get('threshold', 0):.0%}) over the last {window:.0f} s, "
                f"model {alert.get('model_version')}")
    elif alert.get("type") == "resolved":
        lasted = ""
        started, ended = parse_time(alert.get("alert_started")), parse_time(alert.get("window_end"))
        if started is not None and ended is not None:
            lasted = f"; the alert lasted {clock(ended - started)}"
        head = (f"✅ {at}  RESOLVED ({source}, {alert.get('reason')}): {share:.1%} negative "
                f"(below {alert.get('resolve_below', 0):.0%}) of {alert.get('tweets')} tweets over the last "
                f"{window:.0f} s{lasted}")
    else:
        head = f"? {at}  {alert.get('type')} alert: {json.dumps(alert)[:200]}"
    evidence = alert.get("evidence") or []
    if alert.get("type") != "bad_buzz" or not evidence:
        return head
    lines = [head, "     most negative tweets of the window (probability positive, id, text):"]
    lines += [f"     {e.get('probability_positive', 0):.3f}  {e.get('id') or '-':<12} {e.get('text', '')[:110]}"
              for e in evidence]
    return "\n".join(lines)


def status_line(elapsed: float, published: int, total: int, watcher: Watcher) -> str:
    share, count = watcher.negative_share()
    return (f"   {clock(elapsed)}  published {published:>5}/{total}  scored {watcher.scored():>5}  "
            f"negative {share:4.0%} (of {count} in the last {watcher.window_seconds:.0f} s)  "
            f"alerts {len(watcher.alerts)}")


def stack_state() -> dict:
    from .emulators import port_in_use
    from .stack import read_state, shown, state_file

    state = read_state()
    if state is None:
        raise SystemExit(f"error: no local stack is running ({shown(state_file())} does not exist): "
                         "start one with `make run` in another terminal")
    if not port_in_use(state["ports"]["pubsub"]):
        raise SystemExit(f"error: the stack recorded in {shown(state_file())} is not running (nothing listens on "
                         f"port {state['ports']['pubsub']}): start one with `make run`, or clear it with "
                         "`make dev-down`")
    return state


def replay(path: str, rate: float, text_column: str = "text", follow_seconds: float = 30.0) -> int:
    """Publish, follow, summarise. 0 when every tweet was scored, 2 when some were not, 130 on Ctrl-C."""
    state = stack_state()
    try:
        tweets = read_tweets(Path(path), text_column)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: cannot read {path}: {error}", file=sys.stderr)
        return 1
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{state['ports']['pubsub']}"

    from google.cloud import pubsub_v1
    from tqdm import tqdm

    project, total = state["project"], len(tweets)
    window = float(state.get("buzz_window_seconds") or 60)
    pace = f"at {rate:g} tweets/s" if rate > 0 else "as fast as possible"
    duration = f", ~{clock(total / rate)}" if rate > 0 else ""
    print(f"Replaying {total} tweets from {path} to topic {topology.INPUT_TOPIC} {pace}{duration}; "
          f"following {topology.OUTPUT_TOPIC} and {topology.ALERT_TOPIC}.", flush=True)
    interactive = sys.stderr.isatty()
    bar = tqdm(total=total, unit=" tweets", desc="published", file=sys.stderr, disable=not interactive,
               mininterval=0.5, dynamic_ncols=True)

    def say(line: str) -> None:
        if interactive:
            bar.write(line)
        else:
            print(line, flush=True)

    publisher = pubsub_v1.PublisherClient()
    topic = topology.Topology(project).topic(topology.INPUT_TOPIC)
    started_wall, started = time.time(), time.monotonic()
    watcher = Watcher(project, window, say, started_wall)
    watcher.start()
    # What the notifier function posts to the stack's webhook receiver, as the chat would show it.
    follower = PostFollower(f"http://127.0.0.1:{state['ports']['webhook']}", say).start() \
        if "webhook" in state["ports"] else None
    futures, next_status, interrupted = [], started + STATUS_SECONDS, False

    next_postfix = started

    def tick(published: int) -> None:
        nonlocal next_status, next_postfix
        now = time.monotonic()
        if now >= next_status:
            next_status += STATUS_SECONDS
            say(status_line(now - started, published, total, watcher))
        if interactive and now >= next_postfix:  # counting is O(tweets): twice a second, not per tweet
            next_postfix = now + 0.5
            share, _ = watcher.negative_share()
            bar.set_postfix_str(f"scored {watcher.scored()}, negative {share:.0%}, alerts {len(watcher.alerts)}",
                                refresh=False)

    try:
        for index, tweet in enumerate(tweets):
            if rate > 0:
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
            future = publisher.publish(topic, json.dumps(tweet, ensure_ascii=False).encode("utf-8"))
            future.add_done_callback(lambda f: f.exception() is None and watcher.add_published(f.result()))
            futures.append(future)
            bar.update()
            tick(index + 1)
        for future in futures:
            future.result(timeout=60)
        # follow until every tweet is scored, or nothing new came for follow_seconds
        last_count, last_progress, settled_at = -1, time.monotonic(), None
        while True:
            now, count = time.monotonic(), watcher.scored()
            if count != last_count:
                last_count, last_progress = count, now
            if count >= total:
                settled_at = settled_at or now
                if now - settled_at >= SETTLE_SECONDS:
                    break
            elif now - last_progress > follow_seconds:
                break
            tick(total)
            time.sleep(0.2)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        watcher.stop()
        if follower:
            follower.stop()
        publisher.stop()
    elapsed = time.monotonic() - started
    published, scored, twice = len(watcher.published), watcher.scored(), watcher.duplicates()
    say(status_line(elapsed, published, total, watcher))
    kinds = ", ".join(f"{a.get('type')} at {clock(a['_at'])}" for a in watcher.alerts) or "none"
    again = f", {twice} pushed twice after a failure (deduplicated by message id)" if twice else ""
    if follower:  # after the alerts: what the notifier made of them
        kinds += f"; {follower.posted} notification{'s' if follower.posted != 1 else ''} posted to the chat webhook"
    ended = "Interrupted after" if interrupted else "Done in"
    print(f"\n{ended} {clock(elapsed)}: {published} published, {scored} scored{again}; "
          f"{len(watcher.alerts)} alert{'s' if len(watcher.alerts) != 1 else ''}: {kinds}.", flush=True)
    if interrupted:
        return 130
    if scored < total:
        print(f"error: {total - scored} tweets were not scored within {follow_seconds:.0f} s of the last result: "
              f"see `make logs`, and the dead letters on subscription {topology.DEAD_LETTER_HOLD}.", file=sys.stderr)
        return 2
    return 0

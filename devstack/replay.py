"""Replay tweets into the running local stack and watch what comes out.

Publishes a JSONL or CSV file of tweets to the `tweets` topic at a steady rate (or as fast as
possible), with a progress bar on a terminal, while following the scored-tweets and alert topics
through the stack's observer subscriptions: a status line every ``STATUS_SECONDS`` (tweets scored,
the event time they reached, each brand's negative share over the detector's shortest window), every
alert of the bad-buzz pipeline as it fires (brand, shares, drivers, evidence), and what the notifier
posted to the local chat webhook.

Event time: tweets carry their ``created_at`` (the demo: two days, published in about a minute), and the
pipeline decides by it (``--event-clock data``: a brand's buckets close as its own later tweets come,
docs/local_stack.md). Its clock per brand only moves forward, so a second replay on the same pipeline
would be all late: each replay after the first is shifted by whole weeks (same weekdays and hours) past
the previous one's end and past the detector's history, and so replays like the first (``REPLAY_FILE``
in the state directory remembers where the last one ended).

Only this replay's results are counted (matched on the Pub/Sub message ids it published), so what an
earlier, interrupted replay left on the observer subscriptions does not skew the numbers; alerts
about event times outside the replay's are skipped. A tweet pushed twice (after a function crash) is
counted once, and the duplicates are reported: consumers of tweets-scored dedupe on the message id.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path

from . import topology
from .notifications import PostFollower

STATUS_SECONDS = 10.0
SETTLE_SECONDS = 2.0  # after the last score, for an alert still on its way
PIPELINE_SETTLE_SECONDS = 10.0  # after the last score and alert: the pipeline's last decisions (measured: 1-3 s)
REPLAY_FILE = "replay.json"  # in the state directory: where the last replay ended in event time
WEEK = 7 * 86_400.0


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
    from sentiment import event_time

    try:
        return event_time.parse(value).timestamp()
    except event_time.BadTime:
        return None


def event_clock(seconds: float | None) -> str:
    """An event time as the replay shows it: ``Tue 03 Nov 15:00`` (UTC)."""
    if seconds is None:
        return "?"
    return datetime.fromtimestamp(seconds, UTC).strftime("%a %d %b %H:%M")


def event_span(tweets: list[dict]) -> tuple[float, float] | None:
    times = [t for t in (parse_time(tweet.get("created_at")) for tweet in tweets if "created_at" in tweet) if t]
    return (min(times), max(times)) if times else None


def shift_for(span: tuple[float, float] | None, previous_end: float | None, history_seconds: float) -> float:
    """Whole weeks that put this replay past the previous one's end and past the detector's history."""
    if span is None or previous_end is None or span[0] > previous_end + history_seconds:
        return 0.0
    return math.ceil((previous_end + history_seconds - span[0]) / WEEK) * WEEK


def shifted(tweet: dict, offset: float) -> dict:
    from sentiment import event_time

    moment = parse_time(tweet.get("created_at")) if offset else None
    if moment is None:
        return tweet
    return {**tweet, "created_at": event_time.rfc3339(moment + offset)}


def read_replay_record(path: Path, state: dict) -> float | None:
    """The event time the last replay on this pipeline ended at, or None (none yet, or another pipeline)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("event_end"), int | float):
        return None  # half-written or not ours: as if there were none
    pipeline = state.get("processes", {}).get("buzz-pipeline", {})
    same = record.get("pipeline") == [pipeline.get("pgid"), pipeline.get("start")]
    return float(record["event_end"]) if same else None


def write_replay_record(path: Path, state: dict, event_end: float) -> None:
    pipeline = state.get("processes", {}).get("buzz-pipeline", {})
    path.write_text(json.dumps({"pipeline": [pipeline.get("pgid"), pipeline.get("start")], "event_end": event_end}))


class Watcher:
    """Follows the output and alert topics through the stack's observer subscriptions.

    With unary pulls in a thread per subscription, not streaming pull: the emulator fails to notice
    a streaming pull that its client cancelled (a Java NoSuchMethodError in its log), keeps sending
    messages down the dead stream, and the next replay would miss a share of its results.
    """

    def __init__(self, project: str, window_hours: float, printer, span: tuple[float, float] | None):
        from google.cloud import pubsub_v1

        self.topology = topology.Topology(project)
        self.subscriber = pubsub_v1.SubscriberClient()
        self.window_seconds = window_hours * 3600
        self.printer = printer
        self.span = span  # this replay's event times (shifted): alerts outside it are an earlier replay's
        self.started = time.monotonic()
        self.published: set[str] = set()  # message ids this replay published
        self.results: Counter[str] = Counter()  # message id -> results seen (>1: pushed again)
        self.recent: dict[str, deque[tuple[float, bool]]] = defaultdict(deque)  # brand -> (event time, negative)
        self.latest: float | None = None  # the latest event time scored
        self.alerts: list[dict] = []
        self.last_alert = 0.0  # time.monotonic() of the last alert
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
        moment = parse_time(result.get("created_at")) if "created_at" in result else None
        brand = result.get("brand") if isinstance(result.get("brand"), str) else "all"
        with self._lock:
            self.results[message_id] += 1
            if moment is None:
                return
            self.latest = max(self.latest or moment, moment)
            recent = self.recent[brand]
            recent.append((moment, result.get("sentiment") == "negative"))
            while recent and recent[0][0] < self.latest - self.window_seconds:
                recent.popleft()

    def _on_alert(self, message) -> None:
        try:
            alert = json.loads(message.data)
        except ValueError:
            return
        decided = parse_time(alert.get("detected_at"))
        if self.span and (decided is None or not self.span[0] <= decided <= self.span[1] + 86_400):
            return  # about another replay's tweets
        alert["_at"] = time.monotonic() - self.started
        with self._lock:
            self.alerts.append(alert)
            self.last_alert = time.monotonic()
        self.printer(describe_alert(alert))

    # -- what the summary shows ---------------------------------------------------------------------

    def scored(self) -> int:
        with self._lock:
            return sum(1 for message_id in self.results if message_id in self.published)

    def duplicates(self) -> int:
        with self._lock:
            return sum(n - 1 for message_id, n in self.results.items() if message_id in self.published)

    def shares(self) -> dict[str, float]:
        """Each brand's negative share over the last window of event time scored (the replay's own count)."""
        with self._lock:
            latest = self.latest or 0.0
            return {brand: sum(n for _, n in kept) / len(kept) for brand, recent in sorted(self.recent.items())
                    if (kept := [(t, n) for t, n in recent if t >= latest - self.window_seconds])}

    def open_alerts(self) -> int:
        with self._lock:
            types = Counter(a.get("type") for a in self.alerts)
        return types["bad_buzz"] - types["resolved"]


def describe_alert(alert: dict) -> str:
    """An alert of the bad-buzz pipeline (sentiment.alert_payload), as a few lines for a human."""
    at, brand = clock(alert.get("_at", 0)), alert.get("brand", "?")
    decided = event_clock(parse_time(alert.get("detected_at")))
    share, baseline = alert.get("negative_share"), alert.get("baseline_share")
    shares = f"{share:.0%} negative" if isinstance(share, int | float) else "negative share unknown"
    if isinstance(baseline, int | float):
        shares += f" against its usual {baseline:.0%}"
    window = f"{alert.get('negative')} of {alert.get('tweets')} tweets over {alert.get('window_hours', '?')} h"
    if alert.get("type") == "bad_buzz":
        head = (f"🚨 {at}  BAD BUZZ {brand} at {decided}: {shares} ({window}; {alert.get('test')} test, "
                f"z={alert.get('score')}), model {alert.get('model_version')}")
        drivers = ", ".join(f"{d.get('term')} ({d.get('count')})" for d in alert.get("drivers") or [])
        lines = [head, f"     drivers: {drivers or 'none'}",
                 "     evidence, the most negative tweets (probability negative, id, text):"]
        lines += [f"     {e.get('probability_negative', 0):.3f}  {e.get('id') or '-':<11} {e.get('text', '')[:100]}"
                  for e in alert.get("evidence") or []]
        return "\n".join(lines)
    if alert.get("type") == "resolved":
        return (f"✅ {at}  RESOLVED {brand} at {decided}: back to {shares} ({window}); the alert lasted "
                f"{alert.get('alert_hours', '?')} h of event time")
    return f"? {at}  {alert.get('type')} alert: {json.dumps(alert)[:200]}"


def status_line(elapsed: float, published: int, total: int, watcher: Watcher) -> str:
    hours = f"{watcher.window_seconds / 3600:g} h"
    shares = " · ".join(f"{brand} {share:.0%}" for brand, share in watcher.shares().items()) or "-"
    return (f"   {clock(elapsed)}  published {published:>5}/{total}  scored {watcher.scored():>5}  event time "
            f"{event_clock(watcher.latest)}  negative (last {hours}): {shares}  alerts {len(watcher.alerts)}")


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

    from pipelines.settings import DetectionSettings

    from .stack import state_dir

    settings = DetectionSettings()
    record = state_dir() / REPLAY_FILE
    span = event_span(tweets)
    offset = shift_for(span, read_replay_record(record, state), settings.history_buckets * settings.bucket_seconds)
    if span:
        span = (span[0] + offset, span[1] + offset)
        write_replay_record(record, state, span[1])
    project, total = state["project"], len(tweets)
    pace = f"at {rate:g} tweets/s" if rate > 0 else "as fast as possible"
    duration = f", ~{clock(total / rate)}" if rate > 0 else ""
    print(f"Replaying {total} tweets from {path} to topic {topology.INPUT_TOPIC} {pace}{duration}; "
          f"following {topology.OUTPUT_TOPIC} and {topology.ALERT_TOPIC}.", flush=True)
    if span:
        moved = (f", shifted {offset / WEEK:.0f} week{'s' if offset != WEEK else ''} past the previous replay "
                 "(the pipeline's clock only moves forward)") if offset else ""
        print(f"Event time: {event_clock(span[0])} to {event_clock(span[1])} UTC{moved}.", flush=True)
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
    watcher = Watcher(project, min(settings.windows_hours), say, span)
    started = watcher.started
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
            bar.set_postfix_str(f"scored {watcher.scored()}, event time {event_clock(watcher.latest)}, "
                                f"alerts {len(watcher.alerts)}", refresh=False)

    try:
        for index, tweet in enumerate(tweets):
            if rate > 0:
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
            data = json.dumps(shifted(tweet, offset), ensure_ascii=False).encode("utf-8")
            future = publisher.publish(topic, data)
            future.add_done_callback(lambda f: f.exception() is None and watcher.add_published(f.result()))
            futures.append(future)
            bar.update()
            tick(index + 1)
        for future in futures:
            future.result(timeout=60)
        # Follow until every tweet is scored (or nothing new came for follow_seconds), then give the pipeline
        # time for its last decisions: until no alert came for PIPELINE_SETTLE_SECONDS and none is left open
        # (an open one waits up to follow_seconds for its resolution).
        last_count, last_progress, settled_at = -1, time.monotonic(), None
        while True:
            now, count = time.monotonic(), watcher.scored()
            if count != last_count:
                last_count, last_progress = count, now
            if count >= total:
                settled_at = settled_at or now
                quiet = now - max(settled_at, watcher.last_alert)
                if quiet >= (PIPELINE_SETTLE_SECONDS if span else SETTLE_SECONDS) and (
                        not watcher.open_alerts() or quiet >= follow_seconds):
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
    kinds = ", ".join(f"{a.get('type')} {a.get('brand')} at {clock(a['_at'])}" for a in watcher.alerts) or "none"
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

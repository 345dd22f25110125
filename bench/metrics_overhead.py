"""Scoring latency with telemetry on vs off, measured in the same run (budget: ≤ 5% overhead).

"Off" scores a tweet (tokenize + LiteRT) as the functions do; "on" does the same and records it as the
functions do: ``record_scored`` then ``end_of_request``. Every tweet is timed both ways, one right after
the other, in a random (seeded) order: a background load (this machine trains models) then weighs on
both sides alike, and neither side always gets the interpreter already sized for that tweet. The
headline ratio is the median per-tweet time on over the median off; the mean ratio, which includes the
rare flushes, is printed too, and so is a control run of the same loop with telemetry on neither side
(its ratio shows how much of a difference the method itself can invent).

Telemetry runs on a simulated clock of ``--rate`` tweets per second per instance, so its flushes (every
60 s of that clock, the default interval) behave as under that load. Flushes go
to a structured log line sent to /dev/null: their cost is real, but no network is timed (a flush to
Cloud Monitoring happens once a minute and is bounded by its timeout, see docs/observability.md).

    python -m bench.metrics_overhead                # the committed model (models/LATEST)
    python -m bench.metrics_overhead --model PATH   # any bundle or model store
    python -m bench.metrics_overhead --quick        # a few hundred tweets: a smoke run for CI
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "airline_tweets.csv"
FALLBACK_TWEETS = [
    "@AirParadis 3 hours on the tarmac and not a single update. Never again.",
    "Great service on the Paris - Montreal flight today, loved the food :)",
    "Lost my luggage AGAIN. This airline is a joke #AirParadis",
]


def tweets(count: int) -> list[str]:
    """``count`` tweets cycled from examples/airline_tweets.csv (realistic lengths), each made distinct."""
    base = FALLBACK_TWEETS
    if EXAMPLES.is_file():
        with open(EXAMPLES, encoding="utf-8", newline="") as handle:
            base = [row["text"] for row in csv.DictReader(handle)] or base
    return [f"{base[i % len(base)]} #{i}" for i in range(count)]


class SimulatedClock:
    """Epoch seconds advancing by one tweet's share of a second at each scored tweet."""

    def __init__(self, rate: float):
        self.now, self.step = time.time(), 1.0 / rate

    def __call__(self) -> float:
        return self.now


def timed_pairs(model, texts: list[str], telemetry, clock: SimulatedClock) -> tuple[list[float], list[float]]:
    """Seconds per tweet without and with telemetry (``telemetry=None``: the control, none on either side)."""
    order = random.Random(0)
    off, on = [], []
    for text in texts:
        for with_telemetry in ((False, True) if order.random() < 0.5 else (True, False)):
            started = time.perf_counter()
            prediction = model.predict_ids(model.encode(text))
            if with_telemetry and telemetry is not None:
                telemetry.record_scored("pubsub", prediction, (time.perf_counter() - started) * 1000)
                telemetry.end_of_request()
                clock.now += clock.step
            (on if with_telemetry else off).append(time.perf_counter() - started)
    return off, on


def flush_cost(telemetry) -> float:
    """Seconds for one flush of everything recorded so far (what a request pays once per interval)."""
    started = time.perf_counter()
    telemetry.shutdown()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    from sentiment import model as models
    from sentiment.config import DEFAULT_MODEL_STORE, Config
    from sentiment.telemetry import Telemetry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL_STORE),
                        help="bundle or model store (default: %(default)s)")
    parser.add_argument("--rate", type=float, default=100.0, help="simulated tweets per second per instance")
    parser.add_argument("--tweets", type=int, default=20_000, help="tweets scored each way")
    parser.add_argument("--quick", action="store_true", help="300 tweets: a smoke run for CI")
    args = parser.parse_args(argv)
    if args.quick:
        args.tweets = 300

    model = models.load(args.model)
    texts = tweets(args.tweets)
    clock = SimulatedClock(args.rate)
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        config = Config.from_env({"METRICS_EXPORTER": "log"})  # defaults otherwise: a 60 s flush interval
        telemetry = Telemetry(config, clock=clock, log_stream=devnull, instance_id="bench", job="bench")
        timed_pairs(model, texts[:100], telemetry, clock)  # warm up: interpreter plans, caches, label keys
        off, on = timed_pairs(model, texts, telemetry, clock)
        control_off, control_on = timed_pairs(model, texts, None, clock)
        flushes = int((args.tweets + 100) / args.rate // config.metrics_flush_seconds)
        flush_seconds = flush_cost(telemetry)

    off_median, on_median = statistics.median(off), statistics.median(on)
    ratio = on_median / off_median
    mean_ratio = statistics.fmean(on) / statistics.fmean(off)
    control = statistics.median(control_on) / statistics.median(control_off)
    print(f"model {model.version} ({args.model}), {args.tweets} tweets timed each way")
    print(f"scoring, telemetry off: median {off_median * 1e6:7.1f} µs/tweet, mean {statistics.fmean(off) * 1e6:7.1f}")
    print(f"scoring, telemetry on:  median {on_median * 1e6:7.1f} µs/tweet, mean {statistics.fmean(on) * 1e6:7.1f}")
    print(f"telemetry per tweet:    median {(on_median - off_median) * 1e6:7.1f} µs")
    print(f"flushes during the run: {flushes} (simulated {args.rate:g} tweets/s, one per "
          f"{config.metrics_flush_seconds:g} s); one more, timed alone: {flush_seconds * 1e3:.2f} ms")
    print(f"control (no telemetry on either side): ratio {control:.3f}")
    print(f"ratio on/off: {ratio:.3f} median, {mean_ratio:.3f} mean (overhead {100 * (ratio - 1):+.1f}%, budget +5%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

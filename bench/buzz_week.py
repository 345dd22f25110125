"""Simulated weeks of airline-mention traffic made of REAL hand-labelled tweets, for choosing and checking
the bad-buzz defaults (docs/bad_buzz.md).

Each week: six brands, 10-60 tweets per hour each with a daily cycle (and day-to-day swings), a normal
human negative share drawn in 0.35-0.80 per brand that drifts from hour to hour, and scripted buzzes:
share buzzes (+15 to +30 points of *human* negative share, for 4 hours to a day, after a 1-3 h climb,
volume x1-2) and volume spikes (x3-5 for 2-8 hours, share +0-10 points). Every tweet is a real
hand-labelled tweet of the converter's selection or test split, which the model never trained on (the
human label decides whether it is drawn as a negative), scored by the committed model, so the model's
errors are in the counts as they would be on new traffic. No US airline tweet, no held-out set.

    python -m bench.buzz_week --weeks 40                 # detection rate, delay, false alarms (defaults)
    python -m bench.buzz_week --weeks 40 --pool test     # the same on the test split's tweets (report)
    python -m bench.buzz_week --weeks 40 --grid          # the same over a grid of thresholds
    python -m bench.buzz_week --write-week week.jsonl    # one week as backtest input (15-40k lines)

The evaluation runs ``pipelines.detector.BrandDetector`` (the code inside the Beam DoFn) directly, bucket
by bucket, so hundreds of weeks take minutes; ``bench/buzz_backtest.py`` times the real Beam backtest.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import random
import statistics as stats
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HOUR = 3600.0
WEEK_HOURS = 168
WEEK_START = 1_780_272_000.0  # 2026-06-01T00:00:00Z, a Monday
BRANDS = ("AirParadis", "BlueJet", "Skyline", "NordAir", "SunWings", "TransOcean")
DETECTED_WITHIN_HOURS = 12  # a buzz counts as caught when an alert fires between its start and this long after


@dataclass(frozen=True)
class Tweet:
    text: str
    human_negative: bool
    sentiment: str  # the model's class
    probability_negative: float  # 1 - the model's polarity

    @property
    def model_negative(self) -> bool:
        return self.sentiment == "negative"


@dataclass(frozen=True)
class Event:
    brand: str
    kind: str  # "share" or "volume"
    start: float  # hours from the week's start
    end: float
    rise: float  # human share points added
    volume: float  # volume multiplier


def load_pool(data_dir: Path, split: str = "select") -> list[tuple[str, bool]]:
    """(text, human says negative) of one hand-labelled split of the converter (``select`` or ``test``).

    Both are tweets the committed model never trained on, so its errors in the simulated counts are
    the ones it makes on new traffic (the training split's tweets would flatter it). ``select`` is for
    choosing thresholds; ``test`` is for reporting the chosen ones.
    """
    from converter.data import NEGATIVE
    from converter.split import build_split

    rows = getattr(build_split(data_dir), split)
    pool = [(example.text, example.label == NEGATIVE) for example in rows if example.text.strip()]
    if not pool:
        raise SystemExit(f"no hand-labelled tweets under {data_dir / 'handlabelled'} (set SENTIMENT_DATA_DIR)")
    return pool


def score_pool(pool: list[tuple[str, bool]], model_source: str | None) -> tuple[list[Tweet], str]:
    from sentiment import model as models
    from sentiment.config import DEFAULT_MODEL_STORE
    from sentiment.payloads import check_text

    model = models.load(model_source or str(DEFAULT_MODEL_STORE))
    scored = []
    for text, negative in pool:
        try:
            checked = check_text(text, "text", 4_000)
        except Exception:  # noqa: BLE001 - a text the serving path refuses is not traffic it would score
            continue
        prediction = model.predict_ids(model.encode_tokens(checked.tokens))
        scored.append(Tweet(text, negative, prediction.sentiment, round(1.0 - prediction.probability_positive, 4)))
    return scored, model.version


def simulate_week(rng: random.Random, negatives: list[Tweet], others: list[Tweet], events_per_week: float = 3.0
                  ) -> tuple[dict[str, list[tuple[float, Tweet]]], list[Event]]:
    """Tweets per brand as (seconds from the week's start, tweet), and the buzzes scripted in."""
    events = []
    for _ in range(rng.choices((0, 1, 2, 3, 4, 5), weights=(1, 2, 3, 3, 2, 1))[0] if events_per_week else 0):
        brand = rng.choice(BRANDS)
        if rng.random() < 0.7:
            duration = rng.uniform(4, 24)
            start = rng.uniform(30, WEEK_HOURS - duration)
            events.append(Event(brand, "share", start, start + duration, rng.uniform(0.15, 0.30),
                                rng.uniform(1.0, 2.0)))
        else:
            duration = rng.uniform(2, 8)
            start = rng.uniform(30, WEEK_HOURS - duration)
            events.append(Event(brand, "volume", start, start + duration, rng.uniform(0.0, 0.10),
                                rng.uniform(3.0, 5.0)))
    events = [e for e in events if not any(o is not e and o.brand == e.brand and o.start < e.end + 24
                                          and e.start < o.end + 24 for o in events[:events.index(e)])]
    tweets: dict[str, list[tuple[float, Tweet]]] = {}
    for brand in BRANDS:
        rate, share = rng.uniform(10, 60), rng.uniform(0.35, 0.80)
        peak_hour, amplitude = rng.uniform(12, 19), rng.uniform(0.4, 0.7)
        drift, day_factor = 0.0, 1.0
        rows = []
        for hour in range(WEEK_HOURS):
            if hour % 24 == 0:
                day_factor = math.exp(rng.gauss(0, 0.15))
            drift = 0.85 * drift + rng.gauss(0, 0.02)  # the share wanders by about 0.04 from hour to hour
            cycle = 1 + amplitude * math.cos((hour % 24 - peak_hour) / 24 * 2 * math.pi)
            mean = rate * cycle * day_factor
            p = share + 0.03 * math.cos((hour % 24 - peak_hour - 6) / 24 * 2 * math.pi) + drift
            for event in events:
                if event.brand == brand and event.start <= hour < event.end:
                    climb = min(1.0, (hour - event.start + 1) / (rng.uniform(1, 3) if event.kind == "share" else 1))
                    p += event.rise * climb
                    mean *= 1 + (event.volume - 1) * climb
            p = min(max(p, 0.02), 0.97)
            for _ in range(_poisson(rng, mean)):
                pool = negatives if rng.random() < p else others
                rows.append(((hour + rng.random()) * HOUR, pool[rng.randrange(len(pool))]))
        tweets[brand] = rows
    return tweets, events


def _poisson(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean > 30 else _knuth(rng, mean)


def _knuth(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def detect(settings, brand: str, rows: list[tuple[float, Tweet]], version: str) -> list[dict]:
    """The brand's alerts: BrandDetector fed bucket by bucket, as the DoFn does."""
    from pipelines.buckets import fill
    from pipelines.detector import BrandDetector
    from pipelines.events import ScoredTweet

    size = settings.bucket_seconds
    by_bucket = defaultdict(list)
    for offset, tweet in rows:
        at = WEEK_START + offset
        by_bucket[math.floor(at / size) * size].append(ScoredTweet(
            brand, at, tweet.model_negative, tweet.probability_negative, None, tweet.text, version))
    detector, sent = BrandDetector(brand, settings), []
    start = WEEK_START
    while start < WEEK_START + WEEK_HOURS * HOUR:
        messages, _ = detector.close(fill(start, by_bucket.get(start, [])))
        sent.extend(messages)
        start += size
    return sent


@dataclass
class Score:
    buzzes: int = 0
    caught: int = 0
    delays: list = dataclasses.field(default_factory=list)
    false_alarms: int = 0
    weeks: int = 0
    by_kind: dict = dataclasses.field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def line(self) -> str:
        delays = sorted(self.delays)
        median = stats.median(delays) if delays else float("nan")
        p90 = delays[int(0.9 * (len(delays) - 1))] if delays else float("nan")
        kinds = ", ".join(f"{k} {c}/{n}" for k, (c, n) in sorted(self.by_kind.items()))
        return (f"caught {self.caught}/{self.buzzes} ({self.caught / max(self.buzzes, 1):.0%}; {kinds}), delay from "
                f"start median {median:.1f} h, p90 {p90:.1f} h; false alarms {self.false_alarms} in {self.weeks} "
                f"weeks ({self.false_alarms / max(self.weeks, 1):.2f} per week, six brands)")


def evaluate(settings, weeks: list, version: str) -> Score:
    score = Score()
    for tweets, events in weeks:
        score.weeks += 1
        for brand, rows in tweets.items():
            alerts = [a for a in detect(settings, brand, rows, version) if a["type"] == "bad_buzz"]
            times = [(_hours(a["detected_at"]), a) for a in alerts]
            mine = [e for e in events if e.brand == brand]
            explained = set()
            for event in mine:
                score.buzzes += 1
                kind = event.kind
                if kind == "share":  # the acceptance's kind of day: +22 points or more for 12 hours or more
                    kind = "share(strong)" if event.rise >= 0.22 and event.end - event.start >= 12 else "share(mild)"
                score.by_kind[kind][1] += 1
                hits = [t for t, _ in times if event.start <= t <= event.start + DETECTED_WITHIN_HOURS]
                if hits:
                    score.caught += 1
                    score.by_kind[kind][0] += 1
                    score.delays.append(min(hits) - event.start)
                explained.update(t for t, _ in times if event.start - 1 <= t <= event.end + 12)
            score.false_alarms += sum(1 for t, _ in times if t not in explained)
    return score


def _hours(rfc3339: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(rfc3339).timestamp() - WEEK_START) / HOUR


def write_week(path: Path, tweets: dict, version: str, scored: bool) -> int:
    import json

    from sentiment.event_time import rfc3339

    lines = []
    for brand, rows in tweets.items():
        for index, (offset, tweet) in enumerate(rows):
            row = {"id": f"{brand}-{index}", "text": tweet.text, "created_at": rfc3339(WEEK_START + offset),
                   "brand": brand}
            if scored:
                row.update(sentiment=tweet.sentiment,
                           probability_positive=round(1 - tweet.probability_negative, 4), model_version=version)
            lines.append((offset, json.dumps(row, ensure_ascii=False)))
    lines.sort()
    path.write_text("".join(line + "\n" for _, line in lines), encoding="utf-8")
    return len(lines)


GRID = {"z_alert": (3.0, 3.5, 4.0), "confirm_buckets": (1, 2)}


def main(argv: list[str] | None = None) -> int:
    from converter.data import data_dir
    from pipelines.settings import DetectionSettings

    parser = argparse.ArgumentParser(prog="python -m bench.buzz_week", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--grid", action="store_true", help="evaluate every combination of GRID")
    parser.add_argument("--model", help="bundle to score the tweets with (default: the committed one)")
    parser.add_argument("--pool", choices=("select", "test"), default="select",
                        help="the converter's hand-labelled split the tweets are drawn from: select to choose "
                             "thresholds, test to report them (default: %(default)s)")
    parser.add_argument("--write-week", type=Path, help="write one simulated week as backtest input and stop")
    parser.add_argument("--scored", action="store_true", help="with --write-week: include the model's scores")
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    scored, version = score_pool(load_pool(data_dir(), arguments.pool), arguments.model)
    negatives = [t for t in scored if t.human_negative]
    others = [t for t in scored if not t.human_negative]
    model_share = sum(t.model_negative for t in negatives) / len(negatives)
    false_share = sum(t.model_negative for t in others) / len(others)
    print(f"pool: {len(negatives):,} negative and {len(others):,} other hand-labelled tweets, scored by {version} in "
          f"{time.perf_counter() - started:.0f} s; the model calls {model_share:.0%} of negatives and "
          f"{false_share:.0%} of the others negative: a human share p reads as "
          f"{false_share:.2f} + {model_share - false_share:.2f} p", file=sys.stderr)
    rng = random.Random(arguments.seed)
    if arguments.write_week:
        tweets, events = simulate_week(rng, negatives, others)
        count = write_week(arguments.write_week, tweets, version, arguments.scored)
        print(f"{count:,} tweets written to {arguments.write_week}; buzzes: "
              + "; ".join(f"{e.brand} {e.kind} h{e.start:.0f}-{e.end:.0f} +{e.rise:.2f} x{e.volume:.1f}"
                          for e in events), file=sys.stderr)
        return 0
    weeks = [simulate_week(rng, negatives, others) for _ in range(arguments.weeks)]
    combos = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())] \
        if arguments.grid else [{}]
    for combo in combos:
        settings = DetectionSettings(**combo)
        shown = ", ".join(f"{k}={v}" for k, v in combo.items()) or "defaults"
        print(f"{shown}: {evaluate(settings, weeks, version).line()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Synthetic scored-tweet streams for the bad-buzz tests: brands with a daily cycle, seeded noise and
scripted events (a share rise, a volume spike), as the ``tweets-scored`` topic carries them."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from sentiment.event_time import rfc3339

START = 1_780_012_800.0  # 2026-05-29T00:00:00Z, a midnight
HOUR = 3600.0

CALM_NEGATIVE = ["flight {n} delayed again", "cold food on {n}", "the app crashed at check-in", "seat {n} was broken",
                 "long queue at security", "no wifi on board"]
POSITIVE = ["great crew on {n}", "smooth flight, thanks", "landed early in lisbon", "lovely staff at the gate",
            "comfy seats on {n}", "best airline"]
BUZZ_NEGATIVE = ["my bag is lost #baggagefail", "bags lost at cdg again #baggagefail",
                 "lost luggage and nobody answers #baggagefail", "where is my suitcase #baggagefail"]


def daily(rate: float) -> Callable[[float], float]:
    """Tweets per hour with a daily cycle: half the mean at 04:00 UTC, one and a half at 16:00."""
    return lambda hour: rate * (1 + 0.5 * math.sin((hour % 24 - 10) / 24 * 2 * math.pi))


def brand_stream(brand: str, hours: float, rate: Callable[[float], float], share: Callable[[float], float],
                 seed: int, start: float = START, buzz: Callable[[float], bool] = lambda hour: False) -> list[dict]:
    """Scored tweets of one brand: Poisson-like counts per hour, each negative with ``share(hour)``."""
    rng = random.Random(seed)
    rows = []
    for hour in range(int(hours)):
        count = max(0, round(rng.gauss(rate(hour), math.sqrt(rate(hour)))))
        for _ in range(count):
            at = start + (hour + rng.random()) * HOUR
            negative = rng.random() < share(hour)
            pool = (BUZZ_NEGATIVE if buzz(hour) and rng.random() < 0.7 else CALM_NEGATIVE) if negative else POSITIVE
            probability_positive = rng.uniform(0.02, 0.45) if negative else rng.uniform(0.55, 0.98)
            rows.append({"id": f"{brand}-{len(rows)}", "text": rng.choice(pool).format(n=f"AP{rng.randint(100, 999)}"),
                         "created_at": rfc3339(at), "brand": brand, "lang": "en",
                         "sentiment": "negative" if negative else "positive",
                         "probability_positive": round(probability_positive, 4), "model_version": "test-v1"})
    return rows


def ramp(before: float, after: float, start_hour: float, ramp_hours: float, end_hour: float) -> Callable:
    """A share that climbs from ``before`` to ``after`` over ``ramp_hours`` and falls back at ``end_hour``."""
    def share(hour: float) -> float:
        if hour < start_hour or hour >= end_hour:
            return before
        return before + (after - before) * min(1.0, (hour - start_hour + 1) / ramp_hours)
    return share

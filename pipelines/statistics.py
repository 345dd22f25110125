"""The tests, on counts alone (no Beam, no state): each returns a z-score.

- ``share_z``: a window's negative share against the baseline's, an overdispersed two-proportion
  test: var = p0 (1 - p0) (1/n + 1/N0) + tau^2, where tau^2 is the spread of a window's share
  beyond sampling noise (topics and hours change the share of any real brand), estimated on the
  baseline's own windows (``excess_variance``) and never below ``min_tau^2``. With tau > 0 a huge
  window does not make a tiny rise significant: z is bounded by (p - p0) / tau.
- ``volume_z``: a window's negative count against its usual count mu, an overdispersed Poisson
  test: var = mu + (cv mu)^2 + mu / days (the usual count is itself estimated on ``days`` days).
- ``Cusum``: Page's one-sided CUSUM on the counts: S <- max(0, S + k - n (p0 + slack)). While S > 0
  the run since it last left 0 is the span where negatives exceed the baseline; its share is tested
  with ``share_z`` like any window, so a moderate rise lasting hours adds up, and a short blip
  (S back to 0) is forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_TAU = 0.15  # a baseline whose windows spread more than this is not a baseline; cap the estimate


def share_z(negative: int, tweets: int, base_negative: int, base_tweets: int, tau2: float) -> float:
    if tweets <= 0 or base_tweets <= 0:
        return 0.0
    p0 = _clip(base_negative / base_tweets, base_tweets)
    variance = p0 * (1 - p0) * (1 / tweets + 1 / base_tweets) + tau2
    return (negative / tweets - p0) / math.sqrt(variance)


def excess_variance(blocks: Sequence[tuple[int, int]], p0: float, min_tau: float, min_tweets: int = 10) -> float:
    """tau^2: the variance of the blocks' shares (k, n) around p0 beyond sampling noise (weighted by n), less
    one standard error of that estimate, so that chance spread in a short baseline is not taken for it."""
    usable = [(k, n) for k, n in blocks if n >= min_tweets]
    floor = min_tau * min_tau
    if len(usable) < 3:
        return floor
    weights = sum(n for _, n in usable)
    sampling = sum(p0 * (1 - p0) for _, n in usable) / weights  # the binomial part, weighted like the spread
    spread = sum(n * (k / n - p0) ** 2 for k, n in usable) / weights - sampling
    # only spread beyond the estimate's own noise counts (a chi-square's sd: sqrt(2 / blocks) of its mean)
    spread -= sampling * math.sqrt(2 / len(usable))
    return min(max(spread, floor), MAX_TAU * MAX_TAU)


def volume_z(negative: int, usual: float, cv: float, days: int) -> float:
    usual = max(usual, 0.5)  # a brand that had no negative tweet at this hour still has a rate above 0
    variance = usual + (cv * usual) ** 2 + usual / max(days, 1)
    return (negative - usual) / math.sqrt(variance)


def _clip(p: float, n: int) -> float:
    """A share of exactly 0 or 1 has no variance: keep it half a tweet inside."""
    half = 0.5 / n
    return min(max(p, half), 1 - half)


@dataclass
class Cusum:
    score: float = 0.0  # S, in excess negative tweets
    start: float | None = None  # start of the run (the bucket where S left 0)
    negative: int = 0  # the run's counts
    tweets: int = 0

    def update(self, start: float, negative: int, tweets: int, p0: float, slack: float) -> None:
        if tweets == 0:
            return  # an empty bucket neither adds nor removes evidence
        score = self.score + negative - tweets * (p0 + slack)
        if score <= 0:
            self.reset()
            return
        if self.start is None:
            self.start = start
        self.score, self.negative, self.tweets = score, self.negative + negative, self.tweets + tweets

    def reset(self) -> None:
        self.score, self.start, self.negative, self.tweets = 0.0, None, 0, 0

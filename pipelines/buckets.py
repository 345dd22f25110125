"""A brand's tweets of one event-time bucket, reduced to what detection needs: counts, the negative
tweets' terms (bounded) and the most negative tweets (the evidence)."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import drivers
from .events import ScoredTweet

EVIDENCE_TWEETS = 5


@dataclass
class Bucket:
    start: float
    tweets: int = 0
    negative: int = 0
    terms: Counter = field(default_factory=Counter)  # (kind, term) -> negative tweets using it
    evidence: list[tuple[float, str, str]] = field(default_factory=list)  # (p_negative, text, id or "")
    model_version: str | None = None
    in_alert: bool = False  # inside an alert: left out of later baselines
    late: int = 0  # tweets added after the bucket was decided

    def add(self, tweet: ScoredTweet) -> None:
        self.tweets += 1
        self.model_version = tweet.model_version
        if not tweet.negative:
            return
        self.negative += 1
        self.terms.update(drivers.features(tweet.text))
        item = (tweet.probability_negative, tweet.text, tweet.id or "")
        if len(self.evidence) < EVIDENCE_TWEETS:
            heapq.heappush(self.evidence, item)
        elif item > self.evidence[0]:
            heapq.heapreplace(self.evidence, item)

    def seal(self) -> Bucket:
        """Bound what the bucket keeps once decided."""
        self.terms = drivers.bounded(self.terms)
        return self


def fill(start: float, tweets: Iterable[ScoredTweet]) -> Bucket:
    # in time order, then by id: the same tweets give the same bucket whatever order they came in
    bucket = Bucket(start)
    for tweet in sorted(tweets, key=lambda t: (t.time, t.id or "", t.text)):
        bucket.add(tweet)
    return bucket


def most_negative(buckets: Iterable[Bucket], limit: int = EVIDENCE_TWEETS) -> list[dict]:
    items = heapq.nlargest(limit, (item for bucket in buckets for item in bucket.evidence))
    return [{"id": tweet_id or None, "text": text, "probability_negative": round(probability, 4)}
            for probability, text, tweet_id in items]

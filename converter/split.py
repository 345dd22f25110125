"""The training / validation split.

Validation comes only from rows of a *random* Sentiment140 sample: the head/tail blocks mix label
with date (April negatives, June positives), so scoring on them would reward memorised topics.
Duplicates are found on the token sequence, so a retweet with another URL is still a duplicate, and
no validation tweet has a twin in training. TweetEval's hand-labelled tweets are split in two
halves: one selects and stops the model, the other is reported untouched.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.text import tokenize

from .data import Example, read_random_ids, read_sentiment140, read_tweeteval

log = logging.getLogger(__name__)

POOL = "sentiment140/sentiment140_pool.csv"
POOL_SOURCES = "sentiment140/sentiment140_pool_sources.csv"
TEXT_ONLY_POOL = "sentiment140/sentiment140_textonly_pool.csv"
TWEETEVAL = "tweeteval_sentiment"


@dataclass
class Split:
    train: list[Example]
    validation: list[Example]
    tweeteval_select: list[Example]
    tweeteval_test: list[Example]
    stats: dict = field(default_factory=dict)

    # The names of the three-class contract (issue-16-data's split.py replaces this class).
    @property
    def select(self) -> list[Example]:
        return self.tweeteval_select

    @property
    def test(self) -> list[Example]:
        return self.tweeteval_test


def deduplicate(examples: list[Example]) -> tuple[list[Example], Counter]:
    """One example per token sequence; sequences seen with both labels are dropped entirely."""
    groups: dict[str, list[Example]] = defaultdict(list)
    dropped: Counter = Counter()
    for example in examples:
        key = " ".join(tokenize(example.text))
        if not key:
            dropped["no tokens"] += 1
            continue
        groups[key].append(example)
    kept = []
    for group in groups.values():
        if len({e.label for e in group}) > 1:
            dropped["conflicting labels"] += len(group)
            continue
        dropped["duplicates"] += len(group) - 1
        # a tweet that appears in a random sample keeps that flag: it is fit for validation
        kept.append(max(group, key=lambda e: e.random_sample))
    return kept, dropped


def stratified_halves(examples: list[Example], seed: int) -> tuple[list[Example], list[Example]]:
    rng = random.Random(seed)
    first, second = [], []
    for label in (0, 1):
        members = [e for e in examples if e.label == label]
        rng.shuffle(members)
        first += members[: len(members) // 2]
        second += members[len(members) // 2 :]
    return first, second


def build_split(directory: Path, validation_size: int = 6_000, seed: int = 42) -> Split:
    random_ids = read_random_ids(directory / POOL_SOURCES)
    pool, pool_report = read_sentiment140(directory / POOL)
    text_only, text_only_report = read_sentiment140(directory / TEXT_ONLY_POOL)
    log.info("%s", pool_report)
    log.info("%s", text_only_report)
    pool = [
        Example(e.text, e.label, e.source, e.tweet_id, (e.tweet_id, e.label) in random_ids)
        for e in pool
    ]
    examples, dropped = deduplicate(pool + text_only)
    candidates = sorted((e for e in examples if e.random_sample), key=lambda e: e.tweet_id or "")
    random.Random(seed).shuffle(candidates)
    validation = candidates[:validation_size]
    held_out = {id(e) for e in validation}
    train = [e for e in examples if id(e) not in held_out]
    random.Random(seed + 1).shuffle(train)

    tweeteval, _ = read_tweeteval(directory / TWEETEVAL)
    select, test = stratified_halves(tweeteval, seed)
    stats = {
        "rows_read": len(pool) + len(text_only),
        "dropped": dict(dropped),
        "train": len(train),
        "train_random_sample": sum(e.random_sample for e in train),
        "train_negative_share": round(sum(e.label == 0 for e in train) / len(train), 4),
        "validation": len(validation),
        "validation_negative_share": round(sum(e.label == 0 for e in validation) / len(validation), 4),
        "tweeteval_select": len(select),
        "tweeteval_test": len(test),
    }
    log.info("split: %s", stats)
    return Split(train, validation, select, test, stats)

"""Synthetic labelled tweets: enough signal for a tiny model to learn in seconds, no shared data."""

from __future__ import annotations

import random

from converter import data
from converter.data import Example
from converter.split import Split

POSITIVE = ["love", "great", "awesome", "happy", "thanks", "amazing", "best", "smooth", "friendly", ":)", "😀"]
NEGATIVE = ["hate", "awful", "delayed", "lost", "worst", "rude", "cancelled", "terrible", "angry", ":(", "😡"]
FILLER = ["flight", "today", "the", "my", "crew", "seat", "airport", "@airparadis", "bag", "so", "was", "again",
          "http://t.co/x", "#travel", "we", "this", "paris", "morning", "gate", "food"]


def tweet(rng: random.Random, label: int) -> str:
    words = rng.choices(FILLER, k=rng.randint(2, 14))
    cues = POSITIVE if label else NEGATIVE
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(cues))
    return " ".join(words)


NEUTRAL_CUES = ["schedule", "boarding", "terminal", "tomorrow", "question", "info", "update", "timetable"]
CUSTOMER_SET, GENERAL_SET = "sanders_twitter_corpus", "semeval2017_task4A_train_dev"  # real set names: their families


def neutral_tweet(rng: random.Random) -> str:
    words = rng.choices(FILLER, k=rng.randint(2, 12))
    for _ in range(rng.randint(1, 2)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(NEUTRAL_CUES))
    return " ".join(words)


def examples(n: int, seed: int, source: str = "synthetic") -> list[Example]:
    """Negative/positive rows (no neutral), like Sentiment140's."""
    rng = random.Random(seed)
    result = []
    for i in range(n):
        label = i % 2
        result.append(Example(tweet(rng, label), label, source, str(i), random_sample=bool(i % 3)))
    return result


def handlabelled(n: int, seed: int) -> list[Example]:
    """Rows of the two hand-labelled sets, cycling negative, positive, neutral."""
    rng = random.Random(seed)
    result = []
    for i in range(n):
        label = (data.NEGATIVE, data.POSITIVE, data.NEUTRAL)[i % 3]
        text = neutral_tweet(rng) if label == data.NEUTRAL else tweet(rng, label == data.POSITIVE)
        result.append(Example(text, label, CUSTOMER_SET if i % 4 == 0 else GENERAL_SET, f"h{seed}-{i}"))
    return result


def split(train: int = 3_000, validation: int = 2_100, seed: int = 7) -> Split:
    train_rows = examples(train, seed, "sentiment140_pool") + handlabelled(train // 2, seed + 4)
    random.Random(seed).shuffle(train_rows)
    return Split(train_rows, examples(validation, seed + 1, "sentiment140_pool"), handlabelled(600, seed + 2),
                 handlabelled(600, seed + 3), stats={"train": len(train_rows), "validation": validation,
                                                     "synthetic": True})

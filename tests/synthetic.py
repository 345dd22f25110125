"""Synthetic labelled tweets: enough signal for a tiny model to learn in seconds, no shared data."""

from __future__ import annotations

import random

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


def examples(n: int, seed: int, source: str = "synthetic") -> list[Example]:
    rng = random.Random(seed)
    result = []
    for i in range(n):
        label = i % 2
        result.append(Example(tweet(rng, label), label, source, str(i), random_sample=bool(i % 3)))
    return result


def split(train: int = 3_000, validation: int = 2_100, seed: int = 7) -> Split:
    select = examples(300, seed + 2, "select")
    test = examples(300, seed + 3, "test")
    return Split(examples(train, seed), examples(validation, seed + 1), select, test,
                 stats={"train": train, "validation": validation, "synthetic": True})

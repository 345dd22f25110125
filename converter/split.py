"""The training / validation / selection / test split of Sentiment140 and the hand-labelled sets.

* **One row per tweet.** Every text, from every set and from Sentiment140, is keyed on its token
  sequence (``sentiment.text.tokenize``) without the address tokens (``<user>``, ``<url>``, a leading
  "rt"): TweetEval masks handles and cuts URLs, Kaggle's extraction set cuts handles, retweets repeat
  a tweet, so the same tweet must meet itself whatever was done to its addresses. Within a key a hand
  label beats Sentiment140's emoticon label (STS-Gold re-labels Sentiment140 tweets); hand labels that
  disagree drop the tweet; Sentiment140 labels that disagree drop it too. TweetEval's validation
  tweets, which are SemEval rows, are de-duplicated like any other twin. So no tweet is in two splits.
* **validation**: Sentiment140 rows of a *random* sample only (the head/tail blocks mix label with
  date: April negatives, June positives, so scoring on them would reward memorised topics).
* **select** / **test**: about ``HANDLABELLED_SHARE`` each of the hand-labelled rows, stratified by
  source and label, so each set and each class, the brand and customer sets included, is in both.
  ``select`` stops and chooses models; ``test`` is reported and never used for a choice.
* **train**: everything else, shuffled.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.text import URL_TOKEN, USER_TOKEN, tokenize

from .data import LABEL_NAMES, Example, read_random_ids, read_sentiment140
from .handlabelled import SOURCE_FAMILY, read_all

log = logging.getLogger(__name__)

POOL = "sentiment140/sentiment140_pool.csv"
POOL_SOURCES = "sentiment140/sentiment140_pool_sources.csv"
TEXT_ONLY_POOL = "sentiment140/sentiment140_textonly_pool.csv"
VALIDATION_SIZE = 6_000
HANDLABELLED_SHARE = 0.08  # of each hand-labelled (source, label) stratum, for select and again for test
SPLITS = ("train", "validation", "select", "test")
_ADDRESSES = {USER_TOKEN, URL_TOKEN}


@dataclass
class Split:
    train: list[Example]
    validation: list[Example]  # Sentiment140, random-sample rows only
    select: list[Example]  # hand-labelled: early stopping and model choice
    test: list[Example]  # hand-labelled: reported, never used for a choice
    stats: dict = field(default_factory=dict)


def is_handlabelled(example: Example) -> bool:
    return example.source in SOURCE_FAMILY


def dedupe_key(text: str) -> str:
    """The token sequence without addresses; the full sequence when nothing else is left ("" = no tokens)."""
    tokens = tokenize(text)
    words = [t for t in tokens if t not in _ADDRESSES]
    if words[:1] == ["rt"]:
        words = words[1:]
    return " ".join(words or tokens)


def deduplicate(examples: list[Example]) -> tuple[list[Example], Counter]:
    """One example per key (see the module docstring for who wins); counts of what was dropped, by why.

    The first hand-labelled row of a key is kept (so the order of the sets decides its source); among
    Sentiment140 rows, one from a random sample is preferred (it is fit for validation).
    """
    groups: dict[str, list[Example]] = defaultdict(list)
    dropped: Counter = Counter()
    for example in examples:
        key = dedupe_key(example.text)
        if not key:
            dropped["no tokens"] += 1
            continue
        groups[key].append(example)
    kept = []
    for group in groups.values():
        human = [e for e in group if is_handlabelled(e)]
        if human:
            if len({e.label for e in human}) > 1:
                dropped["conflicting hand labels"] += len(group)
                continue
            others = [e for e in group if not is_handlabelled(e)]
            dropped["duplicates"] += len(human) - 1
            dropped["sentiment140 rows of a hand-labelled tweet"] += len(others)
            overruled = sum(e.label != human[0].label for e in others)
            if overruled:
                dropped["of which with another label (the hand label wins)"] += overruled
            kept.append(human[0])
        elif len({e.label for e in group}) > 1:
            dropped["conflicting labels"] += len(group)
        else:
            dropped["duplicates"] += len(group) - 1
            kept.append(max(group, key=lambda e: e.random_sample))
    return kept, dropped


def stratified_shares(
    examples: list[Example], seed: int, share: float = HANDLABELLED_SHARE
) -> tuple[list[Example], list[Example], list[Example]]:
    """(select, test, rest): ``share`` of each (source, label) stratum in select and in test, rounded."""
    strata: dict[tuple[str, int], list[Example]] = defaultdict(list)
    for example in examples:
        strata[(example.source, example.label)].append(example)
    rng = random.Random(seed)
    select, test, rest = [], [], []
    for key in sorted(strata):
        members = strata[key]
        rng.shuffle(members)
        n = round(len(members) * share)
        select += members[:n]
        test += members[n : 2 * n]
        rest += members[2 * n :]
    return select, test, rest


def split_examples(
    sentiment140: list[Example], handlabelled: list[Example], seed: int = 42, validation_size: int = VALIDATION_SIZE
) -> Split:
    """De-duplicate everything together, then split (see the module docstring)."""
    examples, dropped = deduplicate(handlabelled + sentiment140)  # hand rows first: the order of the sets
    human = [e for e in examples if is_handlabelled(e)]
    machine = [e for e in examples if not is_handlabelled(e)]
    candidates = sorted((e for e in machine if e.random_sample), key=lambda e: (e.tweet_id or "", e.text))
    random.Random(seed).shuffle(candidates)
    validation = candidates[:validation_size]
    held_out = {id(e) for e in validation}
    select, test, human_train = stratified_shares(human, seed)
    train = [e for e in machine if id(e) not in held_out] + human_train
    random.Random(seed + 1).shuffle(train)
    split = Split(train, validation, select, test)
    split.stats = statistics(split, sentiment140 + handlabelled, dropped)
    log.info("split: %s", {name: split.stats[name] for name in SPLITS})
    return split


def counts(examples: list[Example]) -> dict[str, dict[str, int]]:
    """{source: {label name: rows}}, sorted, for reports and the model card."""
    table: dict[str, Counter] = defaultdict(Counter)
    for example in examples:
        table[example.source][LABEL_NAMES[example.label]] += 1
    return {source: dict(sorted(table[source].items())) for source in sorted(table)}


def statistics(split: Split, read: list[Example], dropped: Counter) -> dict:
    parts = {name: getattr(split, name) for name in SPLITS}
    return {
        **{name: len(rows) for name, rows in parts.items()},
        "train_random_sample": sum(e.random_sample for e in split.train),
        "read": counts(read),
        "dedupe": dict(sorted(dropped.items())),
        "by_source": {name: counts(rows) for name, rows in parts.items()},
        "labels": {name: dict(sorted(Counter(LABEL_NAMES[e.label] for e in rows).items()))
                   for name, rows in parts.items()},
    }


def read_sentiment140_pools(directory: Path) -> list[Example]:
    """The two Sentiment140 pools, pool rows flagged when they come from a random sample."""
    random_ids = read_random_ids(directory / POOL_SOURCES)
    pool, pool_report = read_sentiment140(directory / POOL)
    text_only, text_only_report = read_sentiment140(directory / TEXT_ONLY_POOL)
    log.info("%s", pool_report)
    log.info("%s", text_only_report)
    pool = [Example(e.text, e.label, e.source, e.tweet_id, (e.tweet_id, e.label) in random_ids) for e in pool]
    return pool + text_only


def build_split(directory: Path, seed: int = 42, *, validation_size: int = VALIDATION_SIZE) -> Split:
    """Read Sentiment140 and every hand-labelled set under ``directory`` and split them."""
    handlabelled, reports = read_all(Path(directory))
    split = split_examples(read_sentiment140_pools(Path(directory)), handlabelled, seed, validation_size)
    split.stats["reports"] = {r.path: {"read": r.read, "kept": r.kept, "skipped": dict(r.skipped)} for r in reports}
    return split

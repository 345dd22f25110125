"""What people say in a buzz: the terms, hashtags and mentions of negative tweets, and which of them a
window's negative tweets use unusually often against the brand's baseline.

Each negative tweet counts a term once (document frequency). Over-representation is the log-odds
ratio of a term's rate among the window's negative tweets against the baseline's negative tweets,
with half a tweet of smoothing, divided by its standard error (a z-score: rare terms need large
gaps). ``lift`` is the plain ratio of the two rates, which a person reads more easily.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable

from sentiment.text import NEGATED_PREFIX, tokenize

MAX_TERMS_PER_BUCKET = 200  # a bucket keeps its most frequent terms only: bounded state at any volume
MIN_COUNT = 3  # a driver is used by at least this many of the window's negative tweets
MIN_Z = 1.96
SMOOTHING = 0.5
TERM, HASHTAG, MENTION = "term", "hashtag", "mention"

_HASHTAG = re.compile(r"(?<![\w&])#(\w{2,60})")
_MENTION = re.compile(r"(?<![\w@])@(\w{1,30})")
_WORD = re.compile(r"^[^\W\d_][\w'-]{2,}$")
# function words and airline-tweet fillers that say nothing about a buzz
STOPWORDS = frozenset((
    " ", "the", "and", "for", "are", "but", "not", "you", "your", "yours", "was", "were", "has", "have", "had",
    "with", "this", "that", "these", "those", "from", "they", "them", "their", "there", "here", "what", "when",
    "where", "which", "who", "whom", "why", "how", "all", "any", "can", "could", "should", "would", "will", "just",
    "very", "really", "about", "into", "onto", "out", "over", "under", "again", "once", "than", "then", "too",
    "also", "only", "own", "same", "some", "such", "more", "most", "other", "our", "ours", "its", "it's", "i'm",
    "im", "i've", "ive", "you're", "youre", "we're", "were", "he's", "she's", "his", "her", "him", "she", "they're",
    "been", "being", "did", "does", "doing", "because", "while", "until", "after", "before", "above", "below", "off",
    "down", "get", "got", "gets", "getting", "one", "two", "via", "amp", "rt", "lol",
))


@functools.lru_cache(maxsize=16_384)  # retweets and copies repeat texts; tokenizing is most of a bucket's cost
def features(text: str) -> frozenset[tuple[str, str]]:
    """The (kind, term) pairs of one tweet: its hashtags, its mentions and its words (lowercase)."""
    hashtags = {tag.lower() for tag in _HASHTAG.findall(text)}
    mentions = {name.lower() for name in _MENTION.findall(text)}
    found = {(HASHTAG, f"#{tag}") for tag in hashtags} | {(MENTION, f"@{name}") for name in mentions}
    for token in tokenize(text):
        token = token.removeprefix(NEGATED_PREFIX)  # the tokenizer's negation mark: the word as written
        if token in hashtags or token in STOPWORDS or not _WORD.match(token):
            continue
        found.add((TERM, token))
    return frozenset(found)


def bounded(counts: Counter) -> Counter:
    """The most frequent terms of a bucket, at most ``MAX_TERMS_PER_BUCKET`` (ties by name: deterministic)."""
    if len(counts) <= MAX_TERMS_PER_BUCKET:
        return counts
    kept = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_TERMS_PER_BUCKET]
    return Counter(dict(kept))


def total(counters: Iterable[Counter]) -> Counter:
    summed: Counter = Counter()
    for counts in counters:
        summed.update(counts)
    return summed


def over_represented(window: Counter, window_negative: int, baseline: Counter, baseline_negative: int,
                     limit: int = 10) -> list[dict]:
    """The window's drivers, strongest first: ``{term, kind, count, baseline_count, lift}``."""
    if window_negative <= 0:
        return []
    scored = []
    for (kind, term), count in window.items():
        if count < MIN_COUNT:
            continue
        before = baseline.get((kind, term), 0)
        z = log_odds_z(count, window_negative, before, max(baseline_negative, before))
        if z < MIN_Z:
            continue
        rate_before = (before + SMOOTHING) / (baseline_negative + SMOOTHING)
        lift = (count / window_negative) / rate_before
        scored.append((z, count, term, kind, before, lift))
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [{"term": term, "kind": kind, "count": count, "baseline_count": before, "lift": round(lift, 2)}
            for _, count, term, kind, before, lift in scored[:limit]]


def log_odds_z(count: int, tweets: int, before: int, tweets_before: int) -> float:
    a = SMOOTHING
    delta = (math.log((count + a) / (tweets - count + a))
             - math.log((before + a) / (tweets_before - before + a)))
    variance = 1 / (count + a) + 1 / (tweets - count + a) + 1 / (before + a) + 1 / (tweets_before - before + a)
    return delta / math.sqrt(variance)

"""The split: one row per tweet across every set and Sentiment140, hand labels first, strata kept."""

from __future__ import annotations

from collections import Counter

import pytest

from converter.data import NEGATIVE, NEUTRAL, POSITIVE, Example
from converter.handlabelled import FOLDER, OVERLAP_FLAGS
from converter.split import (
    HANDLABELLED_SHARE,
    SPLITS,
    build_split,
    dedupe_key,
    deduplicate,
    split_examples,
    stratified_shares,
)

from .test_handlabelled import CASES, all_sets

HAND = "semeval2017_task4A_train_dev"
OTHER_HAND = "kaggle_tweet_sentiment_extraction"
CUSTOMER_SET = "crowdflower_apple_twitter"


def test_deduplicate_on_tokens_and_drop_conflicts():
    rows = [
        Example("Love it http://t.co/a", 1, "s"), Example("love it http://t.co/b", 1, "s", random_sample=True),
        Example("same text", 1, "s"), Example("SAME text!!!", 1, "s"), Example("same text", 0, "s"),
        Example("...", 1, "s"),
    ]
    kept, dropped = deduplicate(rows)
    assert [(e.text, e.random_sample) for e in kept] == [("love it http://t.co/b", True), ("SAME text!!!", False)]
    assert dropped == {"duplicates": 1, "conflicting labels": 2, "no tokens": 1}


def test_the_key_ignores_addresses_only():
    assert dedupe_key("RT @united: so late http://t.co/x") == dedupe_key("@user so late") == dedupe_key("so late")
    assert dedupe_key("@user http://t.co/x") == "<user> <url>"  # nothing else: the full sequence
    assert dedupe_key("so late") != dedupe_key("not so late")
    assert dedupe_key("") == ""


def test_a_hand_label_wins_and_conflicting_hand_labels_drop_the_tweet():
    rows = [
        Example("@bob stuck at the gate again", NEGATIVE, "sentiment140_pool", "1", random_sample=True),
        Example("stuck at the gate again", NEUTRAL, HAND),  # the human says neutral: it wins
        Example("Stuck at the gate AGAIN http://t.co/y", NEUTRAL, OTHER_HAND),  # same label, another set
        Example("lovely crew", POSITIVE, HAND), Example("lovely crew", NEGATIVE, OTHER_HAND),
        Example("lovely crew", POSITIVE, "sentiment140_pool"),
        Example("what a day", POSITIVE, "sentiment140_textonly_pool"),
        Example("what a day", POSITIVE, "sts_gold"),  # agrees: the hand-labelled row is the one kept
    ]
    kept, dropped = deduplicate(rows)
    assert [(e.text, e.label, e.source) for e in kept] == [
        ("stuck at the gate again", NEUTRAL, HAND), ("what a day", POSITIVE, "sts_gold")]
    assert dropped == {"duplicates": 1, "sentiment140 rows of a hand-labelled tweet": 2,
                       "of which with another label (the hand label wins)": 1, "conflicting hand labels": 3}


WORDS = {NEGATIVE: "neg", NEUTRAL: "neu", POSITIVE: "pos"}  # digits would all tokenize to <num>


def word(i: int) -> str:
    """A distinct word per i that no tokenizer rule folds (no number, no letter three times in a row)."""
    return f"t{i // 20}x{i % 20}"


def hand_rows(n: int, source: str, label: int) -> list[Example]:
    return [Example(f"{source} {WORDS[label]} tweet {word(i)}", label, source, str(i)) for i in range(n)]


def test_stratified_shares_cover_every_source_and_label():
    rows = hand_rows(500, HAND, NEUTRAL) + hand_rows(100, HAND, NEGATIVE) + hand_rows(50, CUSTOMER_SET, POSITIVE) \
        + hand_rows(3, "crowdflower_nuclear_power", POSITIVE)
    select, test, rest = stratified_shares(rows, seed=1)
    assert len(select) + len(test) + len(rest) == len(rows)
    assert len({id(e) for e in select + test + rest}) == len(rows)
    for part in (select, test):
        strata = Counter((e.source, e.label) for e in part)
        # 8% of each stratum; 3 * 8% rounds to 0
        assert strata == {(HAND, NEUTRAL): 40, (HAND, NEGATIVE): 8, (CUSTOMER_SET, POSITIVE): 4}
    assert stratified_shares(rows, seed=1)[0] == select and stratified_shares(rows, seed=2)[0] != select


def s140(n: int, label: int, random_sample: bool, tag: str) -> list[Example]:
    return [Example(f"s140 {tag} {WORDS[label]} {word(i)}", label, "sentiment140_pool", f"{tag}{i}", random_sample)
            for i in range(n)]


def test_split_examples_puts_each_tweet_in_one_split():
    hand = hand_rows(300, HAND, NEUTRAL) + hand_rows(200, HAND, NEGATIVE) + hand_rows(100, CUSTOMER_SET, POSITIVE)
    # twins: a retweet of a hand-labelled tweet in another set, and Sentiment140 copies with addresses
    twins = [Example(f"RT @someone: {e.text} http://t.co/z", e.label, OTHER_HAND) for e in hand[::7]]
    copies = [Example(f"@friend {e.text}", POSITIVE, "sentiment140_pool", "c", random_sample=True) for e in hand[::5]]
    machine = s140(400, NEGATIVE, True, "r") + s140(400, POSITIVE, True, "r") + s140(300, POSITIVE, False, "tail")
    split = split_examples(machine + copies, hand + twins, seed=3, validation_size=200)

    parts = {name: getattr(split, name) for name in SPLITS}
    keys = {name: Counter(dedupe_key(e.text) for e in rows) for name, rows in parts.items()}
    for name in ("validation", "select", "test"):
        assert not set(keys[name]) & set(keys["train"]), name
    assert all(n == 1 for counter in keys.values() for n in counter.values())
    assert not set(keys["select"]) & set(keys["test"])
    assert len(split.validation) == 200 and all(e.random_sample and e.source == "sentiment140_pool"
                                                for e in split.validation)
    assert {e.source for e in split.select} == {e.source for e in split.test} == {HAND, CUSTOMER_SET}
    assert len(split.select) == len(split.test) == round(300 * HANDLABELLED_SHARE) + round(200 * HANDLABELLED_SHARE) \
        + round(100 * HANDLABELLED_SHARE)
    stats = split.stats
    assert stats["dedupe"] == {"duplicates": len(twins), "sentiment140 rows of a hand-labelled tweet": len(copies),
                               "of which with another label (the hand label wins)": 100}
    assert stats["by_source"]["select"][CUSTOMER_SET] == {"positive": 8}
    assert stats["labels"]["validation"] == dict(Counter(
        "negative" if e.label == NEGATIVE else "positive" for e in split.validation))
    assert sum(stats[name] for name in SPLITS) == len(hand) + len(machine)
    assert stats["train_random_sample"] == 800 - 200


def write_sentiment140(root):
    folder = root / "sentiment140"
    folder.mkdir()
    rows = [("0", str(1000 + i), f"so sad about my exam {word(i)}") for i in range(60)]
    rows += [("4", str(2000 + i), f"great day at the beach {word(i)}") for i in range(60)]
    header = '"polarity","id","date","query","user","text"\n'
    (folder / "sentiment140_pool.csv").write_text(header + "".join(
        f'"{p}","{i}","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","u","{t}"\n' for p, i, t in rows))
    (folder / "sentiment140_pool_sources.csv").write_text("id,polarity,in_random_sample,pieces\n" + "".join(
        f"{i},{p},{int(int(i) % 2 == 0)},x\n" for p, i, _ in rows))
    (folder / "sentiment140_textonly_pool.csv").write_text(
        '"polarity","text"\n"0","Die die die"\n"4","the bus came"\n')


def test_build_split_reads_every_set_from_a_folder(tmp_path):
    all_sets(tmp_path, "")
    write_sentiment140(tmp_path)
    split = build_split(tmp_path, seed=5, validation_size=20)
    assert len(split.validation) == 20 and all(e.random_sample for e in split.validation)
    assert set(split.stats["reports"]) == {name for name in CASES}
    # "Die die die" is a VADER row labelled negative: its Sentiment140 copy goes; "the bus came" (VADER
    # neutral) overrules the copy's positive
    assert split.stats["dedupe"]["sentiment140 rows of a hand-labelled tweet"] == 2
    assert split.stats["dedupe"]["of which with another label (the hand label wins)"] == 1
    keys = [dedupe_key(e.text) for name in SPLITS for e in getattr(split, name)]
    assert len(keys) == len(set(keys))
    assert Counter(e.label for e in split.train).keys() == {NEGATIVE, NEUTRAL, POSITIVE}
    with pytest.raises(TypeError):
        build_split(tmp_path, 5, 20)  # validation_size is keyword-only: the old positional call fails loudly


@pytest.mark.data
def test_split_of_the_shared_data(shared_data):
    """The real sets and Sentiment140: plausible counts, no tweet in two splits (needs the shared data)."""
    if not (shared_data / FOLDER / OVERLAP_FLAGS).is_file():
        pytest.skip(f"no {FOLDER}/ under {shared_data} (set SENTIMENT_DATA_DIR)")
    split = build_split(shared_data, seed=42, validation_size=2_000)
    stats = split.stats
    assert len(split.validation) == 2_000 and all(e.random_sample for e in split.validation)
    keys = {name: {dedupe_key(e.text) for e in getattr(split, name)} for name in SPLITS}
    for name in ("validation", "select", "test"):
        assert not keys[name] & keys["train"], name
    hand = stats["select"] + stats["test"]
    assert 9_000 <= stats["select"] <= 11_500 and abs(stats["select"] - stats["test"]) <= 50  # 10,324 each
    # every set but TweetEval validation, of which only ~10 tweets are not SemEval twins (too few for 8%)
    assert len(stats["by_source"]["select"]) == len(stats["by_source"]["test"]) >= 16
    assert all(label in stats["labels"][name] for name in ("select", "test") for label in ("negative", "neutral"))
    assert 5_000 <= stats["dedupe"]["conflicting hand labels"] <= 7_000  # 6,026, mostly GOP-debate retweets
    assert 1_500 <= stats["dedupe"]["sentiment140 rows of a hand-labelled tweet"] <= 3_500  # 2,492
    assert stats["train"] + stats["validation"] + hand >= 240_000  # 227,592 + 6,000 + 2 * 10,324 at 6,000

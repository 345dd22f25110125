"""The references: the three-class TF-IDF + logistic regression (real scikit-learn) and VADER (the real lexicon)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from converter import baseline
from converter.data import NEGATIVE, NEUTRAL, POSITIVE, Example
from converter.metrics import CLASSES
from converter.split import Split

CUES = {NEGATIVE: ["awful", "delayed", "lost", "rude"], NEUTRAL: ["tuesday", "gate", "schedule", "terminal"],
        POSITIVE: ["great", "lovely", "thanks", "smooth"]}
FILLER = ["the", "flight", "my", "today", "was", "crew", "seat", "bag"]


def examples(n: int, seed: int, source: str) -> list[Example]:
    rng = random.Random(seed)
    labels = [NEGATIVE, NEUTRAL, POSITIVE] if source != "sentiment140_pool" else [NEGATIVE, POSITIVE]
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = rng.choices(FILLER, k=4) + rng.choices(CUES[label], k=2)
        rng.shuffle(words)
        rows.append(Example(" ".join(words), label, source))
    return rows


@pytest.fixture(scope="module")
def split() -> Split:
    hand = "semeval2017_task4A_train_dev"
    return Split(examples(600, 1, hand) + examples(300, 2, "sentiment140_pool"), [],
                 examples(90, 3, hand) + examples(30, 4, "crowdflower_apple_twitter"), examples(90, 5, hand))


def test_hand_labelled_rows_weigh_four_times():
    rows = [Example("a", NEGATIVE, "sts_gold"), Example("b", POSITIVE, "sentiment140_pool")]
    assert baseline.sample_weights(rows).tolist() == [baseline.HANDLABELLED_WEIGHT, 1.0] == [4.0, 1.0]


def test_tfidf_logreg_three_classes_in_bundle_order(split):
    model, c = baseline.train(split.train, split.select)
    assert c in baseline.C_GRID
    probabilities = baseline.probabilities(model, [Example(t, NEUTRAL, "x") for t in
                                                   ("awful rude crew", "the tuesday schedule", "lovely smooth flight")])
    assert probabilities.shape == (3, 3) and np.allclose(probabilities.sum(axis=1), 1)
    assert probabilities.argmax(axis=1).tolist() == [CLASSES.index(c) for c in ("negative", "neutral", "positive")]


def test_a_model_missing_a_class_is_refused():
    rows = examples(60, 6, "sentiment140_pool")  # negative and positive only
    with pytest.raises(ValueError, match="train on all three"):
        baseline.train(rows, rows)


def test_vader_thresholds():
    m = baseline.vader_metrics([POSITIVE, NEGATIVE, NEUTRAL, NEUTRAL], [0.05, -0.05, 0.049, -0.049])
    assert m["accuracy"] == 1.0 and m["polarity_accuracy"] == 1.0


def test_vader_scores_raw_text():
    compound = baseline.vader_scores([Example("I love this, great crew :)", POSITIVE, "x"),
                                      Example("worst airline ever, I hate this", NEGATIVE, "x")])
    assert compound[0] >= 0.05 and compound[1] <= -0.05


def test_evaluate_reports_both_references_per_source(split):
    report = baseline.evaluate(split)
    assert report["tfidf_logreg"]["C"] in baseline.C_GRID
    for name in ("tfidf_logreg", "vader"):
        assert set(report[name]["select"]["sources"]) == {"semeval2017_task4A_train_dev", "crowdflower_apple_twitter"}
        assert set(report[name]["select"]["families"]) == {"general", "customer"}
        assert report[name]["test"]["all"]["n"] == 90
    assert report["tfidf_logreg"]["select"]["all"]["macro_recall"] > 0.9  # the cue words are separable

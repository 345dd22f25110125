"""Three-class metrics on cases worked out by hand; the binary ones the bundle still uses."""

from __future__ import annotations

import numpy as np
import pytest

from converter.data import NEGATIVE, NEUTRAL, POSITIVE, Example
from converter.metrics import CLASSES, binary_metrics, by_source, class_metrics, polarity, three_class_metrics

NEG, NEU, POS = NEGATIVE, NEUTRAL, POSITIVE
# columns: negative, neutral, positive
ROWS = [
    (NEG, [0.7, 0.2, 0.1]),  # right
    (NEG, [0.2, 0.5, 0.3]),  # called neutral; polarity 0.3 / 0.5 = 0.6: a polarity miss too
    (NEU, [0.1, 0.8, 0.1]),  # right
    (NEU, [0.1, 0.3, 0.6]),  # called positive
    (POS, [0.1, 0.1, 0.8]),  # right
    (POS, [0.45, 0.1, 0.45]),  # a tie goes to the first column (negative); polarity 0.5: positive
]
LABELS = [label for label, _ in ROWS]
PROBABILITIES = [p for _, p in ROWS]


def test_three_classes_by_hand():
    m = three_class_metrics(LABELS, PROBABILITIES)
    assert m["n"] == 6 and m["accuracy"] == 0.5
    assert m["recall"] == {"negative": 0.5, "neutral": 0.5, "positive": 0.5} and m["macro_recall"] == 0.5
    # negative: tp 1, fp 1 (the tie), fn 1 -> 0.5; neutral: tp 1, fp 1, fn 1 -> 0.5; positive: tp 1, fp 1, fn 1
    assert m["f1"] == {"negative": 0.5, "neutral": 0.5, "positive": 0.5}
    assert m["confusion"] == [[1, 1, 0], [0, 1, 1], [1, 0, 1]]
    assert m["true_share"] == {c: round(2 / 6, 4) for c in CLASSES}
    assert m["predicted_share"] == {c: round(2 / 6, 4) for c in CLASSES}
    assert m["probability_share"] == {"negative": 0.275, "neutral": 0.3333, "positive": 0.3917}
    assert m["polarity_n"] == 4
    assert m["polarity_accuracy"] == 0.75 and m["negative_recall"] == 0.5


def test_labels_map_to_their_columns_not_their_ints():
    # POSITIVE is 1 but the positive column is the third: a perfect model scores 1.0
    perfect = three_class_metrics([POS, NEU, NEG], np.eye(3)[[2, 1, 0]])
    assert perfect["accuracy"] == perfect["macro_recall"] == perfect["polarity_accuracy"] == 1.0


def test_polarity_is_the_served_probability_positive():
    assert polarity([[0.2, 0.6, 0.2], [0.0, 1.0, 0.0], [0.1, 0.0, 0.3]]).tolist() == pytest.approx([0.5, 0.5, 0.75])


def test_neutral_only_rows_have_no_polarity_and_macro_recall_over_present_classes():
    m = three_class_metrics([NEU, NEU], [[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    assert m["polarity_n"] == 0 and m["polarity_accuracy"] is None and m["negative_recall"] is None
    assert m["macro_recall"] == 0.5 and m["recall"]["negative"] == 0.0


def test_hard_predictions_without_probabilities():
    m = class_metrics([NEG, POS], [0, 1], [0.2, 0.9])  # the positive row predicted neutral, polarity right
    assert "probability_share" not in m and m["accuracy"] == 0.5 and m["polarity_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("labels", "probabilities", "message"),
    [
        ([NEG], [[0.5, 0.5]], "shape"),
        ([NEG], [[np.nan, 0.5, 0.5]], "finite"),
        ([NEG, POS], [[0.5, 0.2, 0.3]], "2 labels, 1 predictions"),
        ([4], [[0.5, 0.2, 0.3]], "labels must be"),
        ([0.5], [[0.5, 0.2, 0.3]], "labels must be"),
        ([], np.zeros((0, 3)), "no rows"),
    ],
    ids=["two-columns", "nan", "lengths", "label-4", "float-label", "empty"],
)
def test_bad_inputs_are_errors(labels, probabilities, message):
    with pytest.raises(ValueError, match=message):
        three_class_metrics(labels, probabilities)


def test_by_source_and_family():
    examples = [Example("a", NEG, "crowdflower_apple_twitter"), Example("b", POS, "sentiment140_pool"),
                Example("c", NEU, "semeval2017_task4A_train_dev"), Example("d", NEG, "crowdflower_apple_twitter")]
    labels = np.array([e.label for e in examples])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    report = by_source(examples, lambda rows: three_class_metrics(labels[rows], probabilities[rows]))
    assert report["all"]["n"] == 4
    assert {name: m["n"] for name, m in report["families"].items()} == {"customer": 2, "general": 1, "sentiment140": 1}
    assert report["sources"]["crowdflower_apple_twitter"]["recall"]["negative"] == 0.5


def test_binary_metrics_still_serve_the_binary_callers():
    m = binary_metrics([0, 1, 1, 0], [0.2, 0.8, 0.4, 0.1])
    assert m["accuracy"] == 0.75 and m["confusion"] == [[2, 0], [1, 1]] and m["roc_auc"] == 1.0

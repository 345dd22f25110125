"""Three-class scores of probabilities ``[n, 3]`` (negative, neutral, positive) against labelled rows.

Labels are ``converter.data`` ints (NEGATIVE 0, POSITIVE 1, NEUTRAL 2); probability columns follow
the served order, ``CLASSES``. Polarity figures use the rows labelled negative or positive only, with
the served polarity P(positive) / (P(positive) + P(negative)) >= 0.5.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, recall_score

from sentiment.prediction import CLASSES

from .data import NEGATIVE, NEUTRAL, POSITIVE, Example

CLASS_INDEX = {name: index for index, name in enumerate(CLASSES)}
_COLUMN_OF_LABEL = {NEGATIVE: CLASS_INDEX["negative"], NEUTRAL: CLASS_INDEX["neutral"],
                    POSITIVE: CLASS_INDEX["positive"]}


def columns(labels) -> np.ndarray:
    """Data labels → probability columns."""
    return np.array([_COLUMN_OF_LABEL[int(label)] for label in labels], dtype=int)


def polarity(probabilities: np.ndarray) -> np.ndarray:
    """``sentiment.prediction.polarity`` of every row."""
    negative, positive = probabilities[:, CLASS_INDEX["negative"]], probabilities[:, CLASS_INDEX["positive"]]
    total = negative + positive
    return np.divide(positive, total, out=np.full_like(total, 0.5), where=total > 0)


def three_class(labels, probabilities) -> dict:
    """accuracy, macro recall, per-class recall/F1, confusion (rows true, columns predicted), true and
    predicted shares, log-loss; polarity accuracy and negative recall on the negative/positive rows."""
    target = columns(labels)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(len(target), len(CLASSES))
    predicted = np.argmax(probabilities, axis=1)
    n = len(target)
    present = sorted(set(target.tolist()))
    recalls = recall_score(target, predicted, labels=[0, 1, 2], average=None, zero_division=0)
    f1s = f1_score(target, predicted, labels=[0, 1, 2], average=None, zero_division=0)
    picked = np.clip(probabilities[np.arange(n), target], 1e-12, 1.0)
    polar = target != CLASS_INDEX["neutral"]
    positive = polarity(probabilities[polar]) >= 0.5
    truly_positive = target[polar] == CLASS_INDEX["positive"]
    negatives = ~truly_positive
    return {
        "n": int(n),
        "accuracy": _r(np.mean(predicted == target)) if n else None,
        "macro_recall": _r(np.mean([recalls[c] for c in present])) if n else None,
        "recall": {name: _r(recalls[i]) for i, name in enumerate(CLASSES) if i in present},
        "f1": {name: _r(f1s[i]) for i, name in enumerate(CLASSES) if i in present},
        "confusion": confusion_matrix(target, predicted, labels=[0, 1, 2]).tolist(),
        "true_share": {name: _r(np.mean(target == i)) for i, name in enumerate(CLASSES)} if n else {},
        "predicted_share": {name: _r(np.mean(predicted == i)) for i, name in enumerate(CLASSES)} if n else {},
        "log_loss": _r(-np.mean(np.log(picked))) if n else None,
        "polarity_n": int(polar.sum()),
        "polarity_accuracy": _r(np.mean(positive == truly_positive)) if polar.any() else None,
        "negative_recall": _r(np.mean(~positive[negatives])) if negatives.any() else None,
    }


def scores_by_group(examples: list[Example], probabilities: np.ndarray, families: Mapping[str, str]) -> dict:
    """The scores of a set, then of each family and each source in it."""
    result = three_class([e.label for e in examples], probabilities)
    for key, group_of in (("by_family", lambda e: families.get(e.source, "sentiment140")),
                          ("by_source", lambda e: e.source)):
        groups: dict[str, list[int]] = {}
        for i, example in enumerate(examples):
            groups.setdefault(group_of(example), []).append(i)
        result[key] = {name: three_class([examples[i].label for i in rows], probabilities[rows])
                       for name, rows in sorted(groups.items())}
    return result


def _r(value) -> float:
    return round(float(value), 4)

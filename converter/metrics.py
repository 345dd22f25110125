"""Classification metrics, the same everywhere: training, conversion, evaluation, baselines.

``three_class_metrics`` measures the negative / neutral / positive model; ``binary_metrics`` and
``parity`` are the binary era's, kept while their callers move.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score, roc_auc_score

from .data import NEGATIVE, NEUTRAL, POSITIVE
from .handlabelled import SOURCE_FAMILY


def binary_metrics(labels, probabilities, threshold: float = 0.5) -> dict:
    """accuracy, macro-F1, ROC-AUC and the confusion matrix [[TN, FP], [FN, TP]]."""
    labels = np.asarray(labels, dtype=int)
    probabilities = np.asarray(probabilities, dtype=float)
    predicted = (probabilities >= threshold).astype(int)
    both_classes = len(set(labels.tolist())) == 2
    return {
        "n": int(len(labels)),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1_score(labels, predicted, average="macro", zero_division=0)), 4),
        "roc_auc": round(float(roc_auc_score(labels, probabilities)), 4) if both_classes else None,
        "confusion": confusion_matrix(labels, predicted, labels=[0, 1]).tolist(),
        "negative_share": round(float(np.mean(labels == 0)), 4),
    }


def parity(reference, candidate, threshold: float = 0.5) -> dict:
    """How far two models' probabilities on the same tweets are apart."""
    reference, candidate = np.asarray(reference, float), np.asarray(candidate, float)
    flips = int(np.sum((reference >= threshold) != (candidate >= threshold)))
    return {
        "n": int(len(reference)),
        "label_flips": flips,
        "flip_rate": round(flips / max(1, len(reference)), 6),
        "max_abs_diff": round(float(np.max(np.abs(reference - candidate))), 6) if len(reference) else 0.0,
        "mean_abs_diff": round(float(np.mean(np.abs(reference - candidate))), 6) if len(reference) else 0.0,
    }


# Three classes. Probability columns are in the bundle's order, CLASSES; labels are converter.data's ints.
CLASSES = ("negative", "neutral", "positive")
COLUMN = {NEGATIVE: 0, NEUTRAL: 1, POSITIVE: 2}  # label int -> its column in CLASSES order


def polarity(probabilities) -> np.ndarray:
    """P(positive) / (P(positive) + P(negative)), 0.5 when both are 0: the served ``probability_positive``."""
    probabilities = np.asarray(probabilities, dtype=float)
    positive, negative = probabilities[:, 2], probabilities[:, 0]
    total = positive + negative
    return np.divide(positive, total, out=np.full_like(total, 0.5), where=total > 0)


def three_class_metrics(labels, probabilities) -> dict:
    """Metrics of [n, 3] probabilities (CLASSES order) against labels (NEGATIVE / NEUTRAL / POSITIVE)."""
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[1] != 3 or not np.all(np.isfinite(probabilities)):
        raise ValueError(f"probabilities must be finite, of shape [n, 3], not {probabilities.shape}")
    if not len(probabilities):
        raise ValueError("no rows to measure")
    return class_metrics(labels, probabilities.argmax(axis=1), polarity(probabilities), probabilities.mean(axis=0))


def class_metrics(labels, predicted, polarities, probability_share=None) -> dict:
    """The three-class figures from predicted columns (CLASSES order) and polarities in [0, 1].

    accuracy, macro-averaged recall (SemEval-2017's measure), per-class recall and F1, the confusion
    matrix (rows true, columns predicted, CLASSES order), true vs predicted share per class (and the
    mean probability when given); on the rows labelled negative or positive, the polarity accuracy
    (polarity >= 0.5 = positive) and the recall of negatives.
    """
    truth = _columns(labels)
    predicted = np.asarray(predicted, dtype=int)
    polarities = np.asarray(polarities, dtype=float)
    if not (len(truth) == len(predicted) == len(polarities)):
        raise ValueError(f"{len(truth)} labels, {len(predicted)} predictions, {len(polarities)} polarities")
    if not len(truth):
        raise ValueError("no rows to measure")
    columns = list(range(len(CLASSES)))
    recall = recall_score(truth, predicted, labels=columns, average=None, zero_division=0)
    f1 = f1_score(truth, predicted, labels=columns, average=None, zero_division=0)
    present = [c for c in columns if np.any(truth == c)]
    polar = truth != COLUMN[NEUTRAL]
    positive_call = polarities[polar] >= 0.5
    negatives = truth[polar] == COLUMN[NEGATIVE]
    result = {
        "n": int(len(truth)),
        "accuracy": _round(np.mean(predicted == truth)),
        "macro_recall": _round(np.mean(recall[present])),  # over the classes the rows hold
        "macro_f1": _round(np.mean(f1[present])),
        "recall": dict(zip(CLASSES, map(_round, recall), strict=True)),
        "f1": dict(zip(CLASSES, map(_round, f1), strict=True)),
        "confusion": confusion_matrix(truth, predicted, labels=columns).tolist(),
        "true_share": dict(zip(CLASSES, (_round(np.mean(truth == c)) for c in columns), strict=True)),
        "predicted_share": dict(zip(CLASSES, (_round(np.mean(predicted == c)) for c in columns), strict=True)),
        "polarity_n": int(polar.sum()),
        "polarity_accuracy": _round(np.mean(positive_call == ~negatives)) if polar.any() else None,
        "negative_recall": _round(np.mean(~positive_call[negatives])) if negatives.any() else None,
    }
    if probability_share is not None:
        result["probability_share"] = dict(zip(CLASSES, map(_round, probability_share), strict=True))
    return result


def by_source(examples, measure) -> dict:
    """``measure(indices)`` (an index array into ``examples``) on all rows, per family and per source."""
    groups: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        groups.setdefault(example.source, []).append(i)
    families: dict[str, list[int]] = {}
    for source, rows in groups.items():
        families.setdefault(SOURCE_FAMILY.get(source, "sentiment140"), []).extend(rows)
    return {
        "all": measure(np.arange(len(examples))),
        "families": {name: measure(np.array(rows)) for name, rows in sorted(families.items())},
        "sources": {name: measure(np.array(rows)) for name, rows in sorted(groups.items())},
    }


def _columns(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not all(int(v) in COLUMN and int(v) == v for v in labels.tolist()):
        raise ValueError(f"labels must be {sorted(COLUMN)} (NEGATIVE, POSITIVE, NEUTRAL)")
    return np.array([COLUMN[int(v)] for v in labels.tolist()], dtype=int)


def _round(value) -> float:
    return round(float(value), 4)

"""Binary classification metrics, the same everywhere: training, conversion, evaluation, baseline."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score


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

"""Calibration of the two heads, fitted on the hand-labelled selection split, folded into the graph.

Two steps, both on the heads' logits of the selection split:

1. Platt scaling per head: the polarity logit on the rows labelled negative or positive, the neutral
   logit on every row (neutral or not), each fitted as a one-feature logistic regression (a scale and
   a shift: a temperature and a bias).
2. A bias per class on the three log-probabilities, found so that the share of tweets whose most
   probable class is each class matches the true share of that class. Probabilities that are right
   on average can still under-count a class at the arg-max; a bad-buzz detector counts arg-maxes.
"""

from __future__ import annotations

import numpy as np

from . import data
from .metrics import COLUMN
from .network import NEUTRAL, POLARITY, Calibration, probabilities_of_logits

STEPS = 400


def _platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(labels.tolist())) < 2:
        return 1.0, 0.0
    fit = LogisticRegression(C=1e4, max_iter=1_000).fit(logits.reshape(-1, 1), labels)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def shares(probabilities: np.ndarray) -> np.ndarray:
    """Share of rows whose most probable class is each class (CLASSES order)."""
    return np.bincount(np.argmax(probabilities, axis=1), minlength=probabilities.shape[1]) / max(1, len(probabilities))


def fit(logits: np.ndarray, labels: list[int] | np.ndarray) -> Calibration:
    """The calibration of heads' logits ``[n, 2]`` against the labels (``converter.data`` ints)."""
    logits = np.asarray(logits, dtype=np.float64)
    target = np.array([COLUMN[int(label)] for label in labels], dtype=int)
    polar = target != COLUMN[data.NEUTRAL]
    polarity_scale, polarity_shift = _platt(logits[polar, POLARITY], target[polar] == COLUMN[data.POSITIVE])
    neutral_scale, neutral_shift = _platt(logits[:, NEUTRAL], target == COLUMN[data.NEUTRAL])
    scaled = Calibration(polarity_scale, polarity_shift, neutral_scale, neutral_shift)

    true_shares = np.bincount(target, minlength=3) / max(1, len(target))
    log_probabilities = np.log(np.clip(probabilities_of_logits(logits, scaled), 1e-12, 1.0))
    bias = np.zeros(3)
    best_bias, best_gap = bias.copy(), np.inf
    for step in range(STEPS):
        predicted = shares(log_probabilities + bias)
        gap = float(np.max(np.abs(predicted - true_shares)))
        if gap < best_gap:
            best_bias, best_gap = bias.copy(), gap
        if gap < 1e-3:
            break
        rate = 0.5 / (1 + step / 50)  # damped: the arg-max shares move in steps
        bias += rate * (np.log(true_shares + 1e-3) - np.log(predicted + 1e-3))
        bias -= bias.mean()  # a softmax ignores a common shift
    return Calibration(polarity_scale, polarity_shift, neutral_scale, neutral_shift,
                       tuple(round(float(b), 6) for b in best_bias))

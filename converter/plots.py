"""PNG plots: training curves, confusion matrices, reliability (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from .metrics import CLASSES, COLUMN  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def training_curves(history: dict[str, list[float]], path: Path, selected_epoch: int | None = None,
                    fine_tune_from: int | None = None) -> Path:
    """Losses on the left (training: the masked two-head loss; selection: three-class log-loss), the
    selection split's macro recall and polarity accuracy on the right."""
    epochs = range(1, len(history.get("loss", [])) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("loss", "train (two heads, weighted)"), ("select_loss", "selection split (3 classes)")):
        if key in history:
            left.plot(epochs, history[key], marker="o", label=label)
    left.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    for key, label in (
        ("select_macro_recall", "selection: macro recall"),
        ("select_polarity_accuracy", "selection: polarity accuracy"),
        ("validation_polarity_accuracy", "Sentiment140 validation: polarity accuracy"),
    ):
        if key in history:
            right.plot(epochs, history[key], marker="o", label=label)
    right.set(title="Selection figures", xlabel="epoch", ylabel="score")
    for axis in (left, right):
        if fine_tune_from:
            axis.axvspan(fine_tune_from - 0.5, len(history["loss"]) + 0.5, color="orange", alpha=0.08,
                         label="embedding fine-tuned")
        if selected_epoch:
            axis.axvline(selected_epoch, color="grey", linestyle="--", linewidth=1, label="kept")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    return _save(fig, path)


def confusion_matrices(matrices: dict[str, list[list[int]]], path: Path) -> Path:
    """One panel per data set (rows true, columns predicted); cells show counts and the share of the row."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.6 * len(matrices), 4.2), squeeze=False)
    for axis, (title, matrix) in zip(axes[0], matrices.items(), strict=True):
        size = len(matrix)
        names = list(CLASSES) if size == len(CLASSES) else [str(i) for i in range(size)]
        axis.imshow(np.asarray(matrix) / np.maximum(1, np.sum(matrix, axis=1, keepdims=True)), cmap="Blues",
                    vmin=0, vmax=1)
        for row in range(size):
            total = max(1, sum(matrix[row]))
            for col in range(size):
                value = matrix[row][col]
                axis.text(col, row, f"{value}\n{value / total:.0%}", ha="center", va="center",
                          color="white" if value / total > 0.5 else "black")
        axis.set(title=title, xticks=range(size), yticks=range(size), xlabel="predicted", ylabel="true",
                 xticklabels=names, yticklabels=names)
    return _save(fig, path)


def reliability(labels, probabilities: np.ndarray, path: Path, bins: int = 10) -> Path:
    """Per class: the observed frequency of the class against the predicted probability, in bins."""
    target = np.array([COLUMN[int(label)] for label in labels])
    fig, axis = plt.subplots(figsize=(5.2, 4.6))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    edges = np.linspace(0, 1, bins + 1)
    for index, name in enumerate(CLASSES):
        predicted = probabilities[:, index]
        which = np.clip(np.digitize(predicted, edges) - 1, 0, bins - 1)
        xs, ys = [], []
        for b in range(bins):
            rows = which == b
            if rows.sum() >= 10:
                xs.append(predicted[rows].mean())
                ys.append(np.mean(target[rows] == index))
        axis.plot(xs, ys, marker="o", label=name)
    axis.set(title="Reliability (test split)", xlabel="predicted probability", ylabel="observed frequency",
             xlim=(0, 1), ylim=(0, 1))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return _save(fig, path)

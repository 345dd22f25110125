"""PNG plots: training curves and confusion matrices (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402


def training_curves(history: dict[str, list[float]], path: Path, selected_epoch: int | None = None,
                    fine_tune_from: int | None = None) -> Path:
    """Loss on the left, ranking quality (ROC-AUC) on the right, one line per data set."""
    epochs = range(1, len(history.get("loss", [])) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("loss", "train"), ("validation_loss", "validation (Sentiment140 random)")):
        if key in history:
            left.plot(epochs, history[key], marker="o", label=label)
    left.set(title="Binary cross-entropy", xlabel="epoch", ylabel="loss")
    for key, label in (
        ("validation_auc", "validation (Sentiment140 random)"),
        ("tweeteval_select_auc", "TweetEval, selection half"),
    ):
        if key in history:
            right.plot(epochs, history[key], marker="o", label=label)
    right.set(title="ROC-AUC", xlabel="epoch", ylabel="AUC")
    for axis in (left, right):
        if fine_tune_from:
            axis.axvspan(fine_tune_from - 0.5, len(history["loss"]) + 0.5, color="orange", alpha=0.08,
                         label="embedding fine-tuned")
        if selected_epoch:
            axis.axvline(selected_epoch, color="grey", linestyle="--", linewidth=1, label="kept")
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_matrices(matrices: dict[str, list[list[int]]], path: Path) -> Path:
    """One panel per data set; cells show counts and the share of the true class."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 3.8), squeeze=False)
    for axis, (title, matrix) in zip(axes[0], matrices.items(), strict=True):
        axis.imshow(matrix, cmap="Blues")
        for row in range(2):
            total = max(1, sum(matrix[row]))
            for col in range(2):
                value = matrix[row][col]
                axis.text(col, row, f"{value}\n{value / total:.0%}", ha="center", va="center",
                          color="white" if value / total > 0.5 else "black")
        axis.set(title=title, xticks=[0, 1], yticks=[0, 1], xlabel="predicted", ylabel="true",
                 xticklabels=["negative", "positive"], yticklabels=["negative", "positive"])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

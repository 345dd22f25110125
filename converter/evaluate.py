"""Evaluate a bundle on labelled tweets: macro recall, per-class F1, polarity figures, confusion matrix."""

from __future__ import annotations

from pathlib import Path

from sentiment.model import SentimentModel

from .data import Example, ReadReport, read_labelled_table, read_tweeteval
from .metrics import three_class_metrics


def load_examples(path: Path, text_column: str, label_column: str | None) -> tuple[list[Example], ReadReport]:
    if path.is_dir():  # a TweetEval-style folder (val_text.txt + val_labels.txt)
        return read_tweeteval(path)
    return read_labelled_table(path, text_column, label_column)


def evaluate(model: SentimentModel, examples: list[Example]) -> dict:
    scorable = [e for e in examples if model.encode(e.text)]
    metrics = three_class_metrics([e.label for e in scorable], model.probabilities([e.text for e in scorable]))
    metrics["unscorable_texts"] = len(examples) - len(scorable)
    metrics["model_version"] = model.version
    return metrics

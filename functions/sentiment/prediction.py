"""What a score is, independent of the runtime that computes it (light: no numpy, no interpreter).

The model answers three probabilities, in the order of ``CLASSES``. From them:

- ``sentiment``: the most probable class;
- ``probability_positive``: the polarity, P(positive) / (P(positive) + P(negative)): how positive a
  tweet is once neutrality is set aside, so ``>= 0.5`` still reads as "positive rather than negative"
  for consumers and evaluations of the two-class era.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
CLASSES = (NEGATIVE, NEUTRAL, POSITIVE)  # the order of the model's output, and of the manifest's "classes"
DECIMALS = 6  # what every output shows of a probability


def polarity(negative: float, positive: float) -> float:
    """P(positive) / (P(positive) + P(negative)); 0.5 (no side taken) when both are 0."""
    total = negative + positive
    return positive / total if total > 0.0 else 0.5


@dataclass(frozen=True)
class Prediction:
    sentiment: str
    probabilities: dict[str, float]  # one per class of CLASSES, rounded to DECIMALS
    probability_positive: float
    model_version: str

    @classmethod
    def of(cls, probabilities: Sequence[float], model_version: str) -> Prediction:
        """The prediction that the model's output (one probability per class, in ``CLASSES`` order) makes."""
        negative, neutral, positive = (float(p) for p in probabilities)
        values = (negative, neutral, positive)
        label = CLASSES[max(range(len(CLASSES)), key=values.__getitem__)]  # the first of equals on a tie
        return cls(label, {name: round(value, DECIMALS) for name, value in zip(CLASSES, values, strict=True)},
                   round(polarity(negative, positive), DECIMALS), model_version)

    def to_dict(self) -> dict:
        return {
            "sentiment": self.sentiment,
            "probabilities": dict(self.probabilities),
            "probability_positive": self.probability_positive,
            "model_version": self.model_version,
        }

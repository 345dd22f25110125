"""What a score is, independent of the runtime that computes it (light: no numpy, no interpreter)."""

from __future__ import annotations

from dataclasses import dataclass

POSITIVE, NEGATIVE = "positive", "negative"


@dataclass(frozen=True)
class Prediction:
    probability_positive: float
    sentiment: str
    model_version: str

    def to_dict(self) -> dict:
        return {
            "sentiment": self.sentiment,
            "probability_positive": self.probability_positive,
            "model_version": self.model_version,
        }

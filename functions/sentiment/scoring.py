"""Checked texts in, predictions out: the one place where a text is scored, timed and recorded.

HTTP requests, Pub/Sub messages and file rows all arrive here as ``CheckedText`` (validated, with
the tokens found while checking), so each tweet is tokenized once. A request's texts are scored in
length order: the interpreter re-plans its memory once per distinct length instead of per tweet,
while each tweet still runs at its own length, so its score does not depend on its neighbours.
The answer keeps the order of the request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from .budget import UNLIMITED, CpuBudget
from .payloads import CheckedText
from .prediction import Prediction

if TYPE_CHECKING:
    from .model import SentimentModel


class Recorder(Protocol):
    def __call__(self, source: str, prediction: Prediction, latency_ms: float) -> None: ...


class Scorer:
    """Scores with whatever model ``models()`` returns at the start of a call (one model per call:
    a hot swap never mixes two versions in one answer) and hands each score to ``record``."""

    def __init__(self, models: Callable[[], SentimentModel], record: Recorder | None = None):
        self._models = models
        self._record = record

    def score(self, texts: Sequence[CheckedText], source: str, budget: CpuBudget = UNLIMITED) -> list[Prediction]:
        model = self._models()  # may raise ModelUnavailable: nothing has been scored yet
        encoded = [model.encode_tokens(checked.tokens) for checked in texts]
        predictions: list[Prediction | None] = [None] * len(encoded)
        for done, index in enumerate(sorted(range(len(encoded)), key=lambda i: len(encoded[i]))):
            budget.check(done, len(encoded))
            started = time.perf_counter()
            prediction = model.predict_ids(encoded[index])
            if self._record is not None:
                self._record(source, prediction, (time.perf_counter() - started) * 1000)
            predictions[index] = prediction
        return predictions  # type: ignore[return-value]  (every slot is filled above)

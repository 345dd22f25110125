"""What a prediction says, from the model's three probabilities: the label, the rounded probabilities, the
polarity. No model here: the arithmetic alone, on hand-written outputs."""

from __future__ import annotations

import json
import math

import pytest

from sentiment.prediction import CLASSES, Prediction, polarity


def test_the_classes_are_the_contract_order():
    assert CLASSES == ("negative", "neutral", "positive")


@pytest.mark.parametrize(
    ("output", "sentiment", "polar"),
    [
        ((0.7, 0.2, 0.1), "negative", 0.1 / 0.8),
        ((0.1, 0.6, 0.3), "neutral", 0.3 / 0.4),  # a neutral tweet still leans positive rather than negative
        ((0.05, 0.15, 0.8), "positive", 0.8 / 0.85),
        ((0.2, 0.5, 0.3), "neutral", 0.6),
        ((0.45, 0.1, 0.45), "negative", 0.5),  # a tie goes to the first class, the polarity is exactly even
        ((0.0, 1.0, 0.0), "neutral", 0.5),  # nothing polar at all: no side taken, and no division by zero
    ],
)
def test_label_is_the_argmax_and_probability_positive_is_the_polarity(output, sentiment, polar):
    prediction = Prediction.of(output, "v1")
    assert prediction.sentiment == sentiment
    assert prediction.probability_positive == pytest.approx(polar, abs=1e-6)
    assert prediction.probabilities == dict(zip(CLASSES, output, strict=True))
    assert prediction.model_version == "v1"


def test_polarity_ignores_the_neutral_mass():
    """Moving probability between neutral and the polar pair, in proportion, leaves the polarity alone."""
    assert polarity(0.3, 0.6) == pytest.approx(polarity(0.1, 0.2)) == pytest.approx(2 / 3)
    assert polarity(0.0, 0.2) == 1.0 and polarity(0.2, 0.0) == 0.0


def test_float32_outputs_are_rounded_to_six_decimals_and_still_sum_to_1():
    import numpy as np

    logits = np.array([1.3, -0.4, 2.2], dtype=np.float32)
    output = (np.exp(logits) / np.exp(logits).sum()).astype(np.float32)
    prediction = Prediction.of(output, "v1")
    values = list(prediction.probabilities.values())
    assert all(isinstance(v, float) and v == round(v, 6) for v in values)
    assert math.isclose(sum(values), 1.0, abs_tol=2e-6)  # at most half a unit of the 6th decimal each
    assert prediction.sentiment == "positive"
    assert type(prediction.probability_positive) is float


def test_to_dict_is_the_shape_of_every_output():
    body = Prediction.of((0.2, 0.3, 0.5), "20261201-000000-abcdef12").to_dict()
    assert list(body) == ["sentiment", "probabilities", "probability_positive", "model_version"]
    assert list(body["probabilities"]) == ["negative", "neutral", "positive"]
    assert json.loads(json.dumps(body, allow_nan=False)) == body


@pytest.mark.parametrize("output", [(0.5, 0.5), (0.2, 0.3, 0.4, 0.1), ()])
def test_an_output_of_another_length_is_an_error_not_a_guess(output):
    with pytest.raises(ValueError):
        Prediction.of(output, "v1")

"""Hand-written cases the committed model should read as a person does: negation, contrastive "but",
sarcasm markers, questions and announcements (neutral), airline complaints.

The ones today's model gets wrong stay in the table as known failures (strict xfail: a model that gets one
right makes the test say so, and the case moves back to the expected list), never deleted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment import model

MODELS = Path(__file__).resolve().parents[1] / "models"

KNOWN = "known failure of the committed model"
CASES = [
    ("the crew was lovely but the delay was awful", "negative"),
    ("never flying with them again", "negative"),
    ("the food wasn't good", "negative"),
    ("lost my luggage #neverflyingagain", "negative"),
    ("thanks for the upgrade, best flight ever!", "positive"),
    ("the seats were not comfortable but the staff was amazing", "positive"),
    ("boarding now at gate 12", "neutral"),
    ("what time does the check-in desk open tomorrow?", "neutral"),
    # the demo CSV's two rows the first model got wrong: now neutral, still not right
    pytest.param("been waiting 45 min for my bag… please help", "negative", marks=pytest.mark.xfail(strict=True,
                 reason=f"{KNOWN}: read as neutral (a plea for help without a negative word)")),
    pytest.param("not bad at all, the flight was on time", "positive", marks=pytest.mark.xfail(strict=True,
                 reason=f"{KNOWN}: read as neutral (double negation)")),
    pytest.param("i don't hate it", "positive", marks=pytest.mark.xfail(strict=True,
                 reason=f"{KNOWN}: read as neutral (negated negative)")),
    pytest.param("great, another 3 hour delay. just what i needed", "negative", marks=pytest.mark.xfail(
        strict=True, reason=f"{KNOWN}: sarcasm read as positive")),
    pytest.param("love waiting on the tarmac for two hours :)", "negative", marks=pytest.mark.xfail(
        strict=True, reason=f"{KNOWN}: sarcasm with a smiley read as positive")),
]


@pytest.fixture(scope="module")
def committed():
    return model.load(MODELS)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_hand_written_case(committed, text, expected):
    (prediction,) = committed.predict([text])
    assert prediction.sentiment == expected, prediction.probabilities

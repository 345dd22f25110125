"""Hand-written tweets the committed model must read right: negation, contrast, sarcasm markers, neutral
questions and the demo file's rows. The ones it gets wrong today are listed as known failures (strict:
when the model starts getting one right, the test says so and the entry moves to the table)."""

from __future__ import annotations

import csv

import pytest

from sentiment.model import load

from .functions_support import REPO

STORE = REPO / "models"

CASES = [
    # (text, expected class, what it checks)
    ("not bad at all, the flight was on time and the snacks were decent", "positive", "negation of a negative"),
    ("been waiting 45 min for my bag at CDG... @AirParadis please help", "negative", "a complaint without bad words"),
    ("the crew was not friendly at all", "negative", "negation of a positive"),
    ("never flying with @AirParadis again", "negative", "never"),
    ("no complaints, smooth flight and friendly staff", "positive", "no + negative word"),
    ("the seats were comfy but they lost my luggage", "negative", "contrast: the second half wins"),
    ("delayed two hours but the crew was wonderful and kept us updated", "positive", "contrast: the second half wins"),
    ("great, another delay. just what I needed 🙄", "negative", "sarcasm marker"),
    ("thanks for losing my bag, really appreciate it", "negative", "sarcasm: thanks for a loss"),
    ("love waiting on the tarmac for 3 hours with no info", "negative", "sarcasm: love + a complaint"),
    ("what time does boarding start for the flight to Montreal?", "neutral", "a question"),
    ("flight AP123 departs at 10:30 from gate 4", "neutral", "information"),
    ("sooooo happy with the upgrade 😍", "positive", "elongation and emoji"),
    ("#neverflyingagain", "negative", "a hashtag split into words"),
    ("worst airline ever, cancelled my flight and no refund", "negative", "plain negative"),
    ("thank you for the lovely flight, the crew was amazing!", "positive", "plain positive"),
    ("Landed early, smooth ride, friendly staff. Will fly again", "positive", "praise in short phrases (a demo row)"),
]
KNOWN_FAILURES = {  # text -> what the model answers instead (the model card's known limits)
    "been waiting 45 min for my bag at CDG... @AirParadis please help": "neutral (0.71; polarity 0.56)",
    "the crew was not friendly at all": "neutral (0.47; negative 0.44)",
    "delayed two hours but the crew was wonderful and kept us updated": "neutral (0.45; polarity 0.64)",
    "great, another delay. just what I needed 🙄": "positive (0.83)",
    "thanks for losing my bag, really appreciate it": "positive (0.64)",
    "love waiting on the tarmac for 3 hours with no info": "positive (0.71)",
}


@pytest.fixture(scope="module")
def model():
    return load(str(STORE))


@pytest.mark.parametrize(("text", "expected", "checks"), [
    pytest.param(*case, marks=pytest.mark.xfail(strict=True, reason=f"known failure: {KNOWN_FAILURES[case[0]]}"))
    if case[0] in KNOWN_FAILURES else case for case in CASES
], ids=[case[2] for case in CASES])
def test_hand_written_case(model, text, expected, checks):
    assert model.predict([text])[0].sentiment == expected


def test_known_failures_are_cases():
    assert set(KNOWN_FAILURES) <= {text for text, _, _ in CASES}


def test_the_demo_file_has_no_visibly_wrong_row(model):
    """examples/airline_tweets.csv: every row is unmistakably negative or positive (rows that are known
    failures above are left to their own, strict, case)."""
    expected = {1: "positive", 2: "negative", 3: "negative", 4: "positive", 5: "negative", 6: "positive",
                7: "negative", 8: "positive", 9: "negative", 10: "positive", 11: "negative", 12: "positive"}
    with open(REPO / "examples" / "airline_tweets.csv", encoding="utf-8", newline="") as handle:
        rows = {int(row["id"]): row["text"] for row in csv.DictReader(handle)}
    predictions = dict(zip(rows, model.predict(list(rows.values())), strict=True))
    wrong = {i: (rows[i], p.sentiment) for i, p in predictions.items()
             if p.sentiment != expected[i] and rows[i] not in KNOWN_FAILURES}
    assert not wrong

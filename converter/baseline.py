"""The references the network must beat: TF-IDF (word 1-2 grams, our tokenizer) + logistic regression
over the three classes, and the VADER lexicon, measured with the same metrics as the network."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from sentiment.text import tokenize

from .data import NEGATIVE, NEUTRAL, POSITIVE, Example
from .metrics import CLASSES, COLUMN, by_source, class_metrics, three_class_metrics
from .split import Split, is_handlabelled

log = logging.getLogger(__name__)

C_GRID = (0.3, 1.0, 3.0)
HANDLABELLED_WEIGHT = 4.0  # a hand label is worth four emoticon labels (the baseline)
VADER_THRESHOLD = 0.05  # compound >= 0.05 positive, <= -0.05 negative, else neutral (VADER's own rule)


def sample_weights(examples: list[Example], handlabelled_weight: float = HANDLABELLED_WEIGHT) -> np.ndarray:
    return np.array([handlabelled_weight if is_handlabelled(e) else 1.0 for e in examples])


def vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, ngram_range=(1, 2), min_df=2,
                           sublinear_tf=True, dtype=np.float32)


def train(
    train_set: list[Example], select_set: list[Example], weights: np.ndarray | None = None
) -> tuple[Pipeline, float]:
    """One logistic regression per C on one TF-IDF fit; the best macro-averaged recall on ``select_set``
    wins, as the network is chosen. ``weights`` default to ``sample_weights(train_set)``."""
    weights = sample_weights(train_set) if weights is None else weights
    tfidf = vectorizer()
    features = tfidf.fit_transform([e.text for e in train_set])
    select_features = tfidf.transform([e.text for e in select_set])
    labels = [e.label for e in train_set]
    best, best_recall, best_c = None, -1.0, None
    for c in C_GRID:
        logreg = LogisticRegression(C=c, max_iter=2_000).fit(features, labels, sample_weight=weights)
        recall = three_class_metrics([e.label for e in select_set],
                                     _ordered(logreg, logreg.predict_proba(select_features)))["macro_recall"]
        log.info("TF-IDF + logistic regression, C=%s: select macro recall %.4f", c, recall)
        if recall > best_recall:
            best, best_recall, best_c = logreg, recall, c
    return Pipeline([("tfidf", tfidf), ("logreg", best)]), best_c


def _ordered(logreg: LogisticRegression, probabilities: np.ndarray) -> np.ndarray:
    """Columns in CLASSES order (negative, neutral, positive) whatever the label ints sort to."""
    classes = [int(c) for c in logreg.classes_]
    if sorted(classes) != sorted(COLUMN):
        raise ValueError(f"the model knows classes {classes}, not {sorted(COLUMN)}: train on all three")
    return probabilities[:, [classes.index(label) for label in (NEGATIVE, NEUTRAL, POSITIVE)]]


def probabilities(model: Pipeline, examples: list[Example]) -> np.ndarray:
    """[n, 3] probabilities in CLASSES order."""
    return _ordered(model.named_steps["logreg"], model.predict_proba([e.text for e in examples]))


def vader_scores(examples: list[Example]) -> np.ndarray:
    """VADER's compound score (-1..1) of each raw text."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # a dev dependency: imported when used

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(e.text)["compound"] for e in examples])


def vader_metrics(labels, compound) -> dict:
    """The three-class figures of VADER: its class by the compound thresholds, its polarity (compound + 1) / 2."""
    compound = np.asarray(compound, dtype=float)
    predicted = np.where(compound >= VADER_THRESHOLD, CLASSES.index("positive"),
                         np.where(compound <= -VADER_THRESHOLD, CLASSES.index("negative"), CLASSES.index("neutral")))
    return class_metrics(labels, predicted, (compound + 1) / 2)


def evaluate(split: Split, model: Pipeline | None = None) -> dict:
    """Both references on ``select`` and ``test``, overall, per family and per source (trains the
    TF-IDF model on ``split.train`` when none is given)."""
    c = None
    if model is None:
        model, c = train(split.train, split.select)
    result: dict = {"tfidf_logreg": {"C": c, "handlabelled_weight": HANDLABELLED_WEIGHT}, "vader": {}}
    for name in ("select", "test"):
        examples = getattr(split, name)
        result["tfidf_logreg"][name] = _report(examples, three_class_metrics, probabilities(model, examples))
        result["vader"][name] = _report(examples, vader_metrics, vader_scores(examples))
    return result


def _report(examples: list[Example], metrics, scores: np.ndarray) -> dict:
    labels = np.array([e.label for e in examples])
    return by_source(examples, lambda rows: metrics(labels[rows], scores[rows]))

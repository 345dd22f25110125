"""The baseline the BiLSTM must beat: TF-IDF (word 1-2 grams, our tokenizer) + logistic regression."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from sentiment.text import tokenize

from .data import Example

C_GRID = (0.3, 1.0, 3.0)


def pipeline(c: float) -> Pipeline:
    return Pipeline([
        ("tfidf", TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                                  ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ("logreg", LogisticRegression(C=c, max_iter=2_000)),
    ])


def train(
    train_set: list[Example], select_set: list[Example], weights: np.ndarray | None = None
) -> tuple[Pipeline, float]:
    """Fit one model per C and keep the best on the selection set, as the BiLSTM is selected."""
    texts, labels = [e.text for e in train_set], [e.label for e in train_set]
    best, best_auc, best_c = None, -1.0, None
    for c in C_GRID:
        model = pipeline(c).fit(texts, labels, logreg__sample_weight=weights)
        auc = roc_auc_score([e.label for e in select_set], probabilities(model, select_set))
        if auc > best_auc:
            best, best_auc, best_c = model, auc, c
    return best, best_c


def probabilities(model: Pipeline, examples: list[Example]) -> np.ndarray:
    return model.predict_proba([e.text for e in examples])[:, 1]

"""Word2Vec on the training tweets, and the embedding matrix the BiLSTM starts from."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from gensim.models import Word2Vec
from gensim.models.callbacks import CallbackAny2Vec
from tqdm.auto import tqdm

from sentiment.text import OOV_ID, PAD_ID, Vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddingConfig:
    dim: int = 200
    window: int = 5
    min_count: int = 2
    max_vocabulary: int = 30_000
    epochs: int = 8
    skip_gram: bool = True  # better vectors for rare words than CBOW, at ~3x the time
    seed: int = 42

    def to_dict(self) -> dict:
        return asdict(self)


class _Progress(CallbackAny2Vec):
    def __init__(self, epochs: int):
        self.bar = tqdm(total=epochs, desc="word2vec", unit="epoch")

    def on_epoch_end(self, model):
        self.bar.update()

    def on_train_end(self, model):
        self.bar.close()


def build_vocabulary(token_lists: Sequence[Sequence[str]], config: EmbeddingConfig) -> Vocabulary:
    counts = Counter(token for tokens in token_lists for token in tokens)
    return Vocabulary.from_counts(counts, config.max_vocabulary, config.min_count)


def train_word2vec(token_lists: Sequence[Sequence[str]], config: EmbeddingConfig, workers: int = 2) -> Word2Vec:
    return Word2Vec(
        sentences=[list(tokens) for tokens in token_lists],
        vector_size=config.dim,
        window=config.window,
        min_count=config.min_count,
        sg=int(config.skip_gram),
        epochs=config.epochs,
        seed=config.seed,
        workers=workers,
        callbacks=[_Progress(config.epochs)],
    )


def embedding_matrix(vocabulary: Vocabulary, word2vec: Word2Vec, seed: int = 42) -> tuple[np.ndarray, float]:
    """Rows in vocabulary order; padding is zero, OOV the mean vector. Returns (matrix, coverage)."""
    vectors = word2vec.wv
    rng = np.random.default_rng(seed)
    scale = float(np.std(vectors.vectors))
    matrix = rng.normal(0.0, scale, (len(vocabulary), vectors.vector_size)).astype(np.float32)
    found = 0
    for index, token in enumerate(vocabulary.tokens):
        if token in vectors.key_to_index:
            matrix[index] = vectors[token]
            found += 1
    matrix[PAD_ID] = 0.0
    matrix[OOV_ID] = vectors.vectors.mean(axis=0)
    coverage = found / max(1, len(vocabulary) - 2)
    return matrix, coverage

"""The BiLSTM: Word2Vec-initialised embedding (masked) → BiLSTM → dense head → sigmoid.

Built twice with the same layers: a training graph with a free batch dimension, and a serving graph
with batch fixed at 1 and a free length, the only shape that converts to TFLite builtin ops (the
LSTM becomes a WHILE loop instead of TensorList ops, which would need Flex).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

INPUT_NAME = "token_ids"


@dataclass(frozen=True)
class NetworkConfig:
    vocabulary_size: int
    embedding_dim: int = 200
    lstm_units: int = 64
    dense_units: int = 64
    spatial_dropout: float = 0.3
    dropout: float = 0.4
    recurrent_dropout: float = 0.0  # >0 disables the fused kernel and triples training time
    train_embeddings: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def build(config: NetworkConfig, batch_size: int | None = None) -> keras.Model:
    inputs = keras.Input(batch_shape=(batch_size, None), dtype="int32", name=INPUT_NAME)
    x = keras.layers.Embedding(
        config.vocabulary_size,
        config.embedding_dim,
        mask_zero=True,
        trainable=config.train_embeddings,
        name="embedding",
    )(inputs)
    x = keras.layers.SpatialDropout1D(config.spatial_dropout, name="spatial_dropout")(x)
    x = keras.layers.Bidirectional(
        keras.layers.LSTM(config.lstm_units, recurrent_dropout=config.recurrent_dropout),
        name="bilstm",
    )(x)
    x = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability_positive")(x)
    return keras.Model(inputs, outputs, name="bilstm_sentiment")


def build_trainable(config: NetworkConfig, embedding_matrix: np.ndarray) -> keras.Model:
    """The training graph. The Word2Vec matrix is set after building: passed as an initializer it
    would be written into the saved config (a 500 MB file)."""
    model = build(config)
    model.get_layer("embedding").set_weights([embedding_matrix.astype("float32")])
    return model


def serving_graph(trained: keras.Model) -> keras.Model:
    """The same weights in the batch-1, free-length graph that the TFLite converter accepts."""
    config = NetworkConfig(**trained_config(trained))
    serving = build(config, batch_size=1)
    serving.set_weights(trained.get_weights())
    return serving


def trained_config(model: keras.Model) -> dict:
    embedding = model.get_layer("embedding")
    lstm = model.get_layer("bilstm").forward_layer
    return {
        "vocabulary_size": embedding.input_dim,
        "embedding_dim": embedding.output_dim,
        "lstm_units": lstm.units,
        "dense_units": model.get_layer("dense").units,
        "spatial_dropout": model.get_layer("spatial_dropout").rate,
        "dropout": model.get_layer("dropout").rate,
        "recurrent_dropout": lstm.recurrent_dropout,
        "train_embeddings": embedding.trainable,
    }


def pad(sequences: list[list[int]], length: int | None = None) -> np.ndarray:
    """Right-pad with 0 (the mask value) to the longest sequence or ``length``."""
    width = length or max((len(s) for s in sequences), default=1) or 1
    batch = np.zeros((len(sequences), width), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        batch[row, : len(sequence)] = sequence[:width]
    return batch


def predict_padded(model: keras.Model, sequences: list[list[int]], batch_size: int = 512) -> np.ndarray:
    """Float-model probabilities, batched by similar length (masking makes padding irrelevant)."""
    order = np.argsort([len(s) for s in sequences], kind="stable")
    result = np.empty(len(sequences), dtype=np.float64)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = pad([sequences[i] for i in chunk])
        result[chunk] = model.predict_on_batch(batch).reshape(-1)
    return result

"""The BiLSTM: Word2Vec-initialised embedding (masked) → BiLSTM → dense → two sigmoid heads.

- the **polarity** head: negative (0) vs positive (1), learnt from every row labelled negative or
  positive, Sentiment140's emoticon-labelled rows included;
- the **neutral** head: neutral (1) vs not (0), learnt from hand-labelled rows only: Sentiment140 has
  no neutral class, so its rows carry no neutral label, and their loss on this head is masked.

The training graph answers the two heads' logits, ``[batch, 2]``. The serving graph (batch fixed at 1,
free length: the only shape that converts to TFLite builtin ops) folds the calibration in and answers
one ``[1, 3]`` row, the probabilities of negative, neutral, positive::

    P(neutral) = n    P(positive) = (1 - n) p    P(negative) = (1 - n) (1 - p)

then a per-class bias on the log-probabilities and a softmax (``Calibration``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

INPUT_NAME = "token_ids"
POLARITY, NEUTRAL = 0, 1  # columns of the heads' output
HEADS = (
    "two sigmoid heads on one BiLSTM: polarity (negative vs positive, every labelled row) and neutral (neutral vs "
    "not, hand-labelled rows only); P(neutral)=n, P(positive)=(1-n)p, P(negative)=(1-n)(1-p), calibrated "
    "(temperature and bias per head, a bias per class) in the graph"
)


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
    attention: bool = False  # pool the BiLSTM's outputs with learnt attention instead of taking its last states

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Calibration:
    """Fitted on the selection split (``converter.calibrate``): each head's logit z becomes
    ``scale * z + shift``; then ``class_bias`` is added to the three log-probabilities."""

    polarity_scale: float = 1.0
    polarity_shift: float = 0.0
    neutral_scale: float = 1.0
    neutral_shift: float = 0.0
    class_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def to_dict(self) -> dict:
        return {**asdict(self), "class_bias": list(self.class_bias)}

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        return cls(**{**data, "class_bias": tuple(data["class_bias"])})


def _log_sigmoid(x):
    """log(sigmoid(x)) with builtin TFLite ops only, stable for large |x|."""
    ops = keras.ops
    return -ops.relu(-x) - ops.log(1.0 + ops.exp(-ops.abs(x)))


def three_class_probabilities(logits, calibration: Calibration):
    """Heads' logits ``[batch, 2]`` → calibrated P(negative, neutral, positive) ``[batch, 3]``: the serving
    graph's last step, and (on numpy logits) how training and calibration score, so it is written once."""
    ops = keras.ops
    logits = ops.convert_to_tensor(logits, dtype="float32")
    polarity = logits[:, POLARITY:POLARITY + 1] * calibration.polarity_scale + calibration.polarity_shift
    neutral = logits[:, NEUTRAL:NEUTRAL + 1] * calibration.neutral_scale + calibration.neutral_shift
    not_neutral = _log_sigmoid(-neutral)
    log_probabilities = ops.concatenate(
        [not_neutral + _log_sigmoid(-polarity), _log_sigmoid(neutral), not_neutral + _log_sigmoid(polarity)], axis=-1
    )
    bias = ops.convert_to_tensor(np.asarray(calibration.class_bias, dtype="float32"))
    return ops.softmax(log_probabilities + bias, axis=-1)


def probabilities_of_logits(logits: np.ndarray, calibration: Calibration) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(three_class_probabilities(logits, calibration)), dtype=np.float64)


class ThreeClasses(keras.layers.Layer):
    """The serving graph's last layer: the two heads' logits → calibrated probabilities ``[batch, 3]``."""

    def __init__(self, calibration: Calibration, **kwargs):
        super().__init__(**kwargs)
        self.calibration = calibration

    def call(self, logits):
        return three_class_probabilities(logits, self.calibration)


@keras.saving.register_keras_serializable(package="air_paradis")
class AttentionPooling(keras.layers.Layer):
    """Additive attention over time: ``score_t = v · tanh(W h_t + b)``, a softmax over the unmasked steps,
    the weighted sum of ``h``. Where the last states of a BiLSTM summarise a tweet from its two ends, this
    lets the words that carry the sentiment ("waiting 45 min", "not bad") weigh wherever they are."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        width = input_shape[-1]
        self.projection = self.add_weight(shape=(width, self.units), initializer="glorot_uniform", name="projection")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.context = self.add_weight(shape=(self.units, 1), initializer="glorot_uniform", name="context")

    def call(self, sequence, mask=None):
        ops = keras.ops
        scores = ops.matmul(ops.tanh(ops.matmul(sequence, self.projection) + self.bias), self.context)  # [b, t, 1]
        if mask is not None:
            scores = ops.where(ops.expand_dims(mask, -1), scores, -1e9)
        return ops.sum(sequence * ops.softmax(scores, axis=1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


def build(config: NetworkConfig, batch_size: int | None = None) -> keras.Model:
    """The training graph: token ids → the two heads' logits ``[batch, 2]``."""
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
        keras.layers.LSTM(config.lstm_units, recurrent_dropout=config.recurrent_dropout,
                          return_sequences=config.attention),
        name="bilstm",
    )(x)
    if config.attention:
        x = AttentionPooling(config.dense_units, name="attention")(x)
    x = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(2, name="heads")(x)  # logits: polarity, neutral
    return keras.Model(inputs, outputs, name="bilstm_sentiment")


def masked_head_loss(y_true, logits):
    """Binary cross-entropy of both heads, each row weighted per head: ``y_true`` is ``[batch, 4]`` =
    (polarity label, polarity weight, neutral label, neutral weight); a weight of 0 masks the head
    for that row (a neutral row teaches no polarity; a Sentiment140 row no neutrality)."""
    ops = keras.ops
    losses = []
    for column, (label, weight) in ((POLARITY, (0, 1)), (NEUTRAL, (2, 3))):
        z = logits[:, column]
        y = y_true[:, label]
        # BCE from logits: max(z, 0) - z*y + log(1 + exp(-|z|))
        bce = ops.relu(z) - z * y + ops.log(1.0 + ops.exp(-ops.abs(z)))
        losses.append(bce * y_true[:, weight])
    return losses[0] + losses[1]


def build_trainable(config: NetworkConfig, embedding_matrix: np.ndarray) -> keras.Model:
    """The training graph. The Word2Vec matrix is set after building: passed as an initializer it
    would be written into the saved config (a 500 MB file)."""
    model = build(config)
    model.get_layer("embedding").set_weights([embedding_matrix.astype("float32")])
    return model


def serving_graph(trained: keras.Model, calibration: Calibration, batch_size: int | None = 1) -> keras.Model:
    """The same weights in the batch-1, free-length graph that the TFLite converter accepts, ending in
    the calibrated three-class probabilities ``[1, 3]``. (``batch_size=None``: the same float graph for
    batched scoring, the parity gate's reference.)"""
    config = NetworkConfig(**trained_config(trained))
    heads = build(config, batch_size=batch_size)
    heads.set_weights(trained.get_weights())
    probabilities = ThreeClasses(calibration, name="probabilities")(heads.output)
    return keras.Model(heads.input, probabilities, name="bilstm_sentiment_serving")


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
        "attention": any(layer.name == "attention" for layer in model.layers),
    }


def pad(sequences: list[list[int]], length: int | None = None) -> np.ndarray:
    """Right-pad with 0 (the mask value) to the longest sequence or ``length``."""
    width = length or max((len(s) for s in sequences), default=1) or 1
    batch = np.zeros((len(sequences), width), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        batch[row, : len(sequence)] = sequence[:width]
    return batch


def predict_padded(model: keras.Model, sequences: list[list[int]], batch_size: int = 512) -> np.ndarray:
    """The model's outputs ``[n, k]`` (heads' logits, or probabilities for the serving graph), batched by
    similar length (masking makes padding irrelevant)."""
    order = np.argsort([len(s) for s in sequences], kind="stable")
    result = None
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        values = np.asarray(model.predict_on_batch(pad([sequences[i] for i in chunk])), dtype=np.float64)
        if result is None:
            result = np.empty((len(sequences), values.shape[-1]), dtype=np.float64)
        result[chunk] = values.reshape(len(chunk), -1)
    return result if result is not None else np.empty((0, 0))

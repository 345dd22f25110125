"""Real three-class bundles for the serving tests, built in seconds without the shared data.

A small Keras network of the served family (masked Embedding -> LSTM -> Dense(3, softmax), input
``[1, None]``) is trained on synthetic tweets (cue words of ``tests.synthetic``; a tweet without a cue
is neutral), converted by the converter's own ``to_tflite`` (builtin ops, dynamic-range int8) and
written with a schema-2 manifest. The serving tests then run the real LiteRT interpreter on it.

``outputs`` other than 3, ``activation`` other than softmax and ``schema_version=1`` build the bundles
the serving must refuse: a two-class softmax, a one-unit sigmoid (the previous generation's graph),
three sigmoids (not one probability per class), a manifest of the binary era.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime
from pathlib import Path

from sentiment import bundle as bundles
from sentiment.prediction import CLASSES, NEUTRAL, POSITIVE
from sentiment.text import TEXT_VERSION, Vocabulary, tokenize

from . import synthetic

NEUTRAL_CUES = ["schedule", "boarding", "terminal", "tomorrow", "question", "info", "update", "gate"]
HEADS = "one softmax over negative, neutral, positive (test network)"


def labelled_tweets(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` synthetic tweets cycling through the three classes: cue words for the two polar ones,
    filler and neutral words only for the neutral one."""
    rng = random.Random(seed)
    tweets = []
    for index in range(n):
        label = CLASSES[index % len(CLASSES)]
        if label == NEUTRAL:
            words = rng.choices(synthetic.FILLER + NEUTRAL_CUES, k=rng.randint(2, 12))
            tweets.append((" ".join(words), label))
        else:
            tweets.append((synthetic.tweet(rng, label == POSITIVE), label))
    return tweets


def network(vocabulary_size: int, outputs: int, activation: str, batch_size: int | None = None):
    import keras

    inputs = keras.Input(shape=(None,), batch_size=batch_size, dtype="int32", name="ids")
    embedded = keras.layers.Embedding(vocabulary_size, 16, mask_zero=True, name="embedding")(inputs)
    state = keras.layers.LSTM(8, name="lstm")(embedded)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation=activation, name="head")(state))


def trained_graph(vocabulary: Vocabulary, tweets: list[tuple[str, str]], outputs: int, activation: str,
                  epochs: int, seed: int):
    """The batch-1, free-length graph (what converts builtin-only) with the weights of a trained copy."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    training = network(len(vocabulary), outputs, activation)
    if (outputs, activation) == (len(CLASSES), "softmax") and epochs:  # a refused graph need not be trained
        ids = keras.utils.pad_sequences([vocabulary.encode(text) for text, _ in tweets], padding="post", value=0)
        labels = np.array([CLASSES.index(label) for _, label in tweets])
        training.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
        training.fit(ids, labels, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    serving = network(len(vocabulary), outputs, activation, batch_size=1)
    serving.set_weights(training.get_weights())
    return serving


def build_bundle(root: Path, *, outputs: int = len(CLASSES), activation: str | None = None,
                 schema_version: int = bundles.SCHEMA_VERSION, epochs: int = 6, tweets: int = 3_000, seed: int = 11,
                 quantization: str = "dynamic") -> Path:
    """Train, convert and write a bundle under ``root``; returns its directory (named by its version).

    ``activation`` of the head defaults to a softmax (a sigmoid for one output, as the binary era had it)."""
    activation = activation or ("sigmoid" if outputs == 1 else "softmax")
    from converter.convert import new_version, to_tflite, write_bundle

    examples = labelled_tweets(tweets, seed)
    counts: dict[str, int] = {}
    for text, _ in examples:
        for token in tokenize(text):
            counts[token] = counts.get(token, 0) + 1
    vocabulary = Vocabulary.from_counts(counts, max_size=2_000, min_count=1)
    model_bytes = to_tflite(trained_graph(vocabulary, examples, outputs, activation, epochs, seed), quantization)
    manifest = bundles.Manifest(
        model_version=new_version(model_bytes), text_version=TEXT_VERSION, vocabulary=vocabulary.tokens,
        model_sha256=hashlib.sha256(model_bytes).hexdigest(), quantization=quantization,
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), heads=HEADS,
        metrics={"test_bundle": {"tweets": tweets, "epochs": epochs, "outputs": outputs}},
    )
    directory = root / manifest.model_version
    write_bundle(directory, model_bytes, manifest)
    if schema_version != bundles.SCHEMA_VERSION:
        as_binary_era(directory, schema_version)
    return directory


def as_binary_era(directory: Path, schema_version: int = 1) -> None:
    """Rewrite the manifest as the two-class generation wrote it: its schema, a threshold, no classes."""
    path = directory / bundles.MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key in ("classes", "heads"):
        manifest.pop(key)
    manifest.update(schema_version=schema_version, threshold=0.5)
    path.write_text(json.dumps(manifest), encoding="utf-8")

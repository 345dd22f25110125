"""Train the BiLSTM + Word2Vec sentiment model and its TF-IDF baseline; write a run directory.

A run directory holds everything ``convert`` needs and nothing from the shared data but the
held-out texts used to check parity::

    model.keras  vocabulary.json  config.json  history.json  metrics.json
    validation.jsonl  tweeteval_select.jsonl  tweeteval_test.jsonl  baseline.joblib  plots/*.png

Selection: early stopping and the choice of epoch follow ROC-AUC on the *hand-labelled* TweetEval
selection half, not Sentiment140 validation: emoticon labels and the head/tail date confound
reward memorising 2009 topics, which validation accuracy cannot see.
"""

from __future__ import annotations

import json
import logging
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from sentiment.text import TEXT_VERSION, tokenize

from . import baseline, plots
from .data import Example, write_jsonl
from .embeddings import EmbeddingConfig, build_vocabulary, embedding_matrix, train_word2vec
from .metrics import binary_metrics
from .split import Split, build_split
from .tracking import flatten, mlflow_run

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data_dir: str
    output_dir: str
    validation_size: int = 6_000
    max_train_rows: int | None = None  # a quick run on a subset
    epochs: int = 10
    patience: int = 3
    batch_size: int = 128
    learning_rate: float = 2e-3
    confounded_weight: float = 0.2  # sample weight of rows not from a random sample (head/tail)
    lstm_units: int = 64
    dense_units: int = 64
    train_embeddings: bool = False
    fine_tune_epochs: int = 3  # after training with frozen Word2Vec vectors, tune them this long
    seed: int = 42
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    mlflow: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def sample_weights(examples: list[Example], confounded_weight: float) -> np.ndarray:
    """Random-sample rows weigh 1, confounded (head/tail, text-only) rows ``confounded_weight``.
    (Rescaling each class to the same total weight was tried too: no measurable change; not kept.)"""
    weights = np.array([1.0 if e.random_sample else confounded_weight for e in examples], dtype=np.float32)
    return weights * (len(weights) / weights.sum())  # keep the mean weight at 1 (same loss scale)


def length_bucketed_batches(sequences, labels, weights, batch_size: int, seed: int):
    """An endless tf.data stream of batches of similar-length tweets (little padding), reshuffled
    every pass; returns (dataset, batches per epoch). The signature is explicit: inferred from the
    first batches, the length dimension could be frozen."""
    import tensorflow as tf

    from .network import pad

    rng = np.random.default_rng(seed)
    lengths = np.array([len(s) for s in sequences], dtype=float)
    steps = math.ceil(len(sequences) / batch_size)

    def batches():
        while True:
            order = np.argsort(lengths + rng.uniform(0, 2, len(lengths)))  # shuffles within similar lengths
            chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
            rng.shuffle(chunks)
            for rows in chunks:
                yield pad([sequences[i] for i in rows]), labels[rows], weights[rows]

    signature = (
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec((None,), tf.float32),
        tf.TensorSpec((None,), tf.float32),
    )
    return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(4), steps


def evaluation_callback(evaluations: dict[str, tuple[list[list[int]], np.ndarray]]):
    """Adds ``<set>_auc``/``<set>_accuracy``/``<set>_loss`` to the epoch logs, before EarlyStopping."""
    import keras

    from .network import predict_padded

    class Evaluate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for name, (sequences, labels) in evaluations.items():
                probabilities = predict_padded(self.model, sequences)
                metrics = binary_metrics(labels, probabilities)
                clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)
                loss = -np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))
                logs[f"{name}_auc"] = metrics["roc_auc"]
                logs[f"{name}_accuracy"] = metrics["accuracy"]
                logs[f"{name}_loss"] = float(loss)

    return Evaluate()


def fine_tune(model, batches, config: TrainConfig, evaluations, history: dict, fit: dict) -> dict:
    """Phase 2: unfreeze the Word2Vec embedding at a tenth of the learning rate. Kept only if it
    improves the selection AUC; otherwise the frozen-embedding weights are put back."""
    import keras

    frozen_weights, frozen_best = model.get_weights(), max(history["tweeteval_select_auc"])
    model.get_layer("embedding").trainable = True
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate / 10), loss="binary_crossentropy",
                  metrics=["accuracy"])
    log.info("fine-tuning the embedding for up to %d epochs", config.fine_tune_epochs)
    stop = keras.callbacks.EarlyStopping(monitor="tweeteval_select_auc", mode="max", patience=1,
                                         restore_best_weights=True)
    tuned = model.fit(batches, epochs=config.fine_tune_epochs, callbacks=[evaluation_callback(evaluations), stop],
                      **fit).history
    if max(tuned["tweeteval_select_auc"]) <= frozen_best:
        log.info("fine-tuning did not help the selection AUC: keeping the frozen-embedding model")
        model.get_layer("embedding").trainable = False
        model.set_weights(frozen_weights)
    return {k: list(history[k]) + list(tuned.get(k, [])) for k in history}


def train(config: TrainConfig, split: Split | None = None) -> Path:
    """Train and write the run directory. ``split`` replaces the shared data (tests pass a tiny one)."""
    started = time.time()
    random.seed(config.seed)
    np.random.seed(config.seed)
    run_dir = Path(config.output_dir)
    (run_dir / "plots").mkdir(parents=True, exist_ok=True)

    split = split or build_split(Path(config.data_dir), config.validation_size, config.seed)
    if config.max_train_rows:
        split.train = split.train[: config.max_train_rows]
        split.stats["train"] = len(split.train)
        split.stats["train_random_sample"] = sum(e.random_sample for e in split.train)
    for name in ("validation", "tweeteval_select", "tweeteval_test"):
        write_jsonl(run_dir / f"{name}.jsonl", getattr(split, name))

    from tqdm.auto import tqdm

    train_tokens = [tokenize(e.text) for e in tqdm(split.train, desc="tokenizing", unit=" tweets", mininterval=1)]
    vocabulary = build_vocabulary(train_tokens, config.embedding)
    word2vec = train_word2vec(train_tokens, config.embedding)
    matrix, coverage = embedding_matrix(vocabulary, word2vec, config.seed)
    log.info("vocabulary %d tokens, %.1f%% with a Word2Vec vector", len(vocabulary), 100 * coverage)
    (run_dir / "vocabulary.json").write_text(json.dumps(vocabulary.tokens, ensure_ascii=False))

    import keras

    from .network import NetworkConfig, build_trainable, predict_padded

    keras.utils.set_random_seed(config.seed)
    network = NetworkConfig(
        vocabulary_size=len(vocabulary), embedding_dim=config.embedding.dim,
        lstm_units=config.lstm_units, dense_units=config.dense_units,
        train_embeddings=config.train_embeddings,
    )
    model = build_trainable(network, matrix)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],  # by keyword: positionally it would land in loss_weights
    )
    sequences = [vocabulary.encode_tokens(t) for t in train_tokens]
    keep = [i for i, s in enumerate(sequences) if s]
    labels = np.array([split.train[i].label for i in keep], dtype=np.float32)
    weights = sample_weights([split.train[i] for i in keep], config.confounded_weight)
    batches, steps = length_bucketed_batches(
        [sequences[i] for i in keep], labels, weights, config.batch_size, config.seed
    )

    def encoded(examples):
        return [vocabulary.encode(e.text) or [1] for e in examples], np.array([e.label for e in examples])

    evaluations = {"validation": encoded(split.validation), "tweeteval_select": encoded(split.tweeteval_select)}
    callbacks = [
        evaluation_callback(evaluations),
        keras.callbacks.EarlyStopping(
            monitor="tweeteval_select_auc", mode="max", patience=config.patience, restore_best_weights=True
        ),
    ]
    fit = dict(steps_per_epoch=steps, shuffle=False, verbose=1 if sys.stderr.isatty() else 2)
    history = model.fit(batches, epochs=config.epochs, callbacks=callbacks, **fit).history
    frozen_epochs = len(history["loss"])
    if config.fine_tune_epochs and not config.train_embeddings:
        history = fine_tune(model, batches, config, evaluations, history, fit)
    history = {k: [float(v) for v in values] for k, values in history.items()}
    best_epoch = int(np.argmax(history["tweeteval_select_auc"])) + 1
    model.save(run_dir / "model.keras")

    log.info("evaluating the float model and training the TF-IDF baseline")
    sets = {
        "validation": split.validation,
        "tweeteval_select": split.tweeteval_select,
        "tweeteval_test": split.tweeteval_test,
        "tweeteval_all": split.tweeteval_select + split.tweeteval_test,
    }
    float_metrics = {
        name: binary_metrics([e.label for e in examples], predict_padded(model, encoded(examples)[0]))
        for name, examples in sets.items()
    }
    baseline_model, baseline_c = baseline.train(split.train, split.tweeteval_select,
                                                sample_weights(split.train, config.confounded_weight))
    baseline_metrics = {
        name: binary_metrics([e.label for e in examples], baseline.probabilities(baseline_model, examples))
        for name, examples in sets.items()
    }
    import joblib

    joblib.dump(baseline_model, run_dir / "baseline.joblib")

    minutes = (time.time() - started) / 60
    metrics = {
        "keras_float": float_metrics,
        "baseline_tfidf_logreg": {**baseline_metrics, "C": baseline_c},
        "selected_epoch": best_epoch,
        "epochs_run": len(history["loss"]),
        "training_minutes": round(minutes, 1),
    }
    run_config = {
        "train": config.to_dict(), "network": network.to_dict(), "text_version": TEXT_VERSION,
        "vocabulary_size": len(vocabulary), "word2vec_coverage": round(coverage, 4), "split": split.stats,
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (run_dir / "config.json").write_text(json.dumps(run_config, indent=2))
    (run_dir / "history.json").write_text(json.dumps(history, indent=2))
    fine_tune_from = frozen_epochs + 1 if len(history["loss"]) > frozen_epochs else None
    plots.training_curves(history, run_dir / "plots" / "training_curves.png", best_epoch, fine_tune_from)
    plots.confusion_matrices(
        {"Sentiment140 validation": float_metrics["validation"]["confusion"],
         "TweetEval (binary)": float_metrics["tweeteval_all"]["confusion"]},
        run_dir / "plots" / "confusion_matrix.png",
    )
    if config.mlflow:
        _log_to_mlflow(run_dir, run_config, history, metrics)
    log.info("run written to %s in %.1f min", run_dir, minutes)
    return run_dir


def _log_to_mlflow(run_dir: Path, run_config: dict, history: dict, metrics: dict) -> None:
    with mlflow_run(run_dir.parent, run_dir.name) as mlflow:
        mlflow.log_params(flatten("", run_config, numbers_only=False))
        for epoch in range(len(history["loss"])):
            mlflow.log_metrics(
                {k: v[epoch] for k, v in history.items() if not math.isnan(v[epoch])}, step=epoch + 1
            )
        mlflow.log_metrics(flatten("", metrics))
        for name in ("metrics.json", "config.json", "history.json", "vocabulary.json", "model.keras"):
            mlflow.log_artifact(str(run_dir / name))
        mlflow.log_artifacts(str(run_dir / "plots"), artifact_path="plots")

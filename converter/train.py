"""Train the three-class BiLSTM + Word2Vec sentiment model; write a run directory.

A run directory holds everything ``convert`` needs and nothing from the shared data but the
held-out texts used for parity and reporting::

    model.keras  vocabulary.json  calibration.json  config.json  history.json  metrics.json
    validation.jsonl  select.jsonl  test.jsonl  plots/*.png

Rows and heads (``converter.network``): every row labelled negative or positive trains the polarity
head; only hand-labelled rows train the neutral head (Sentiment140 has no neutral: its rows are masked
there, not taught "not neutral"). Hand-labelled rows weigh ``handlabelled_weight`` against a
Sentiment140 random-sample row's 1 (head/tail rows, whose label is confounded with the date,
``confounded_weight``), customer-family sets ``customer_weight`` times more again; on the polarity
head, ``polarity_balance`` evens out each hand-labelled set's negatives and positives.

Selection: early stopping and the kept epoch follow the three-class log-loss on the hand-labelled
selection split; the calibration is fitted there too. The test split is only reported.
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

from .data import NEGATIVE, NEUTRAL, POSITIVE, Example
from .embeddings import EmbeddingConfig, build_vocabulary, embedding_matrix, train_word2vec
from .handlabelled import CUSTOMER, SOURCE_FAMILY
from .metrics import COLUMN, by_source, three_class_metrics
from .split import Split, build_split, is_handlabelled
from .tracking import flatten, mlflow_run

log = logging.getLogger(__name__)

EVALUATED = ("validation", "select", "test")  # the run directory's held-out sets, as JSONL


@dataclass
class TrainConfig:
    data_dir: str = field(default="", metadata={"cli": False})
    output_dir: str = field(default="", metadata={"cli": False})
    max_train_rows: int | None = field(default=None, metadata={"help": "train on the first N rows only (a quick run)",
                                                               "type": int})
    epochs: int = field(default=12, metadata={"help": "epochs with the Word2Vec vectors frozen, at most"})
    patience: int = field(default=2, metadata={"help": "epochs without a better selection log-loss before stopping"})
    batch_size: int = 256
    learning_rate: float = 2e-3
    handlabelled_weight: float = field(default=4.0, metadata={"help": "weight of a hand-labelled row"})
    customer_weight: float = field(default=3.0, metadata={
        "help": "extra factor for the customer-family hand-labelled sets (brands, products)"})
    confounded_weight: float = field(default=0.2, metadata={
        "help": "weight of Sentiment140 head/tail and text-only rows (random-sample rows weigh 1)"})
    polarity_balance: float = field(default=0.25, metadata={
        "help": "0..1: on the polarity head, bring each hand-labelled set's negatives and positives towards "
                "equal total weight (0: the set's own mix, 1: balanced)"})
    customer_polarity_balance: float | None = field(default=0.5, metadata={
        "help": "the same for the customer-family sets (brands, products: the airline's situation, and the most "
                "lopsided sets); None: as --polarity-balance", "type": float})
    lstm_units: int = 64
    dense_units: int = 64
    train_embeddings: bool = field(default=False, metadata={"help": "train the Word2Vec vectors from the start"})
    attention: bool = field(default=False, metadata={
        "help": "pool the BiLSTM's outputs with attention (instead of its last states)"})
    fine_tune_epochs: int = field(default=6, metadata={
        "help": "after the frozen-embedding phase, tune the embedding for up to N epochs (kept if it helps)"})
    seed: int = 42
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    mlflow: bool = field(default=True, metadata={"help": "log the run to MLflow"})

    def to_dict(self) -> dict:
        return asdict(self)


def row_weights(examples: list[Example], config: TrainConfig) -> np.ndarray:
    """Per-row weight, normalised to a mean of 1 (the loss keeps its scale)."""
    weights = np.empty(len(examples), dtype=np.float32)
    for i, example in enumerate(examples):
        family = SOURCE_FAMILY.get(example.source)
        if family is None:  # Sentiment140
            weights[i] = 1.0 if example.random_sample else config.confounded_weight
        else:
            weights[i] = config.handlabelled_weight * (config.customer_weight if family == CUSTOMER else 1.0)
    return weights * (len(weights) / max(float(weights.sum()), 1e-9))


def polarity_balance(examples: list[Example], strength: float, customer_strength: float | None = None) -> np.ndarray:
    """Per-row factor on the polarity head's weight. Within each hand-labelled set, a row labelled
    negative or positive is scaled by ``(polar rows / (2 × rows of its label)) ** strength``, then the
    set's polar rows are rescaled to their former total: at 1 the set's negatives and positives weigh
    the same, at 0 nothing changes. A set's mix says how it was collected (SXSW's launch-day cheer, a
    debate's anger), not how a complaint reads; unbalanced, the polarity head learns it as a prior of
    the set's words and topics. ``customer_strength`` (default ``strength``) applies to the customer
    family's sets. Sentiment140 rows and neutral rows keep 1."""
    factors = np.ones(len(examples), dtype=np.float64)
    customer_strength = strength if customer_strength is None else customer_strength
    if not strength and not customer_strength:
        return factors.astype(np.float32)
    rows: dict[str, dict[int, list[int]]] = {}
    for i, example in enumerate(examples):
        if is_handlabelled(example) and example.label in (NEGATIVE, POSITIVE):
            rows.setdefault(example.source, {}).setdefault(example.label, []).append(i)
    for source, by_label in rows.items():
        power = customer_strength if SOURCE_FAMILY.get(source) == CUSTOMER else strength
        polar = sum(len(indices) for indices in by_label.values())
        for indices in by_label.values():
            factors[indices] = (polar / (2 * len(indices))) ** power
        every = [i for indices in by_label.values() for i in indices]
        factors[every] *= polar / factors[every].sum()
    return factors.astype(np.float32)


def head_targets(examples: list[Example], weights: np.ndarray,
                 polarity_factors: np.ndarray | None = None) -> np.ndarray:
    """``[n, 4]``: polarity label and weight, neutral label and weight (``network.masked_head_loss``);
    ``polarity_factors`` scale the polarity head's weights only (``polarity_balance``)."""
    targets = np.zeros((len(examples), 4), dtype=np.float32)
    polarity_weights = weights if polarity_factors is None else weights * polarity_factors
    for i, example in enumerate(examples):
        if example.label in (NEGATIVE, POSITIVE):
            targets[i, 0], targets[i, 1] = float(example.label == POSITIVE), polarity_weights[i]
        if is_handlabelled(example):  # neutral or not is known
            targets[i, 2], targets[i, 3] = float(example.label == NEUTRAL), weights[i]
    return targets


def length_bucketed_batches(sequences, targets: np.ndarray, batch_size: int, seed: int):
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
                yield pad([sequences[i] for i in rows]), targets[rows]

    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, targets.shape[1]), tf.float32))
    return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(4), steps


def evaluation_callback(evaluations: dict[str, tuple[list[list[int]], list[int]]]):
    """Adds ``<set>_loss`` (three-class log-loss, uncalibrated), ``<set>_macro_recall`` and
    ``<set>_polarity_accuracy`` to the epoch logs, before EarlyStopping reads them."""
    import keras

    from .network import Calibration, predict_padded, probabilities_of_logits

    class Evaluate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for name, (sequences, labels) in evaluations.items():
                probabilities = probabilities_of_logits(predict_padded(self.model, sequences), Calibration())
                scores = three_class_metrics(labels, probabilities)
                if NEUTRAL in labels:
                    logs[f"{name}_loss"] = log_loss(labels, probabilities)
                    logs[f"{name}_macro_recall"] = scores["macro_recall"]
                logs[f"{name}_polarity_accuracy"] = scores["polarity_accuracy"]
                logs[f"{name}_negative_recall"] = scores["negative_recall"]

    return Evaluate()


def log_loss(labels, probabilities: np.ndarray) -> float:
    """Mean negative log-probability of the true class (``probabilities`` in CLASSES order)."""
    picked = probabilities[np.arange(len(labels)), [COLUMN[label] for label in labels]]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def report(examples: list[Example], probabilities: np.ndarray) -> dict:
    """The figures of ``probabilities`` on ``examples``: all rows, each family, each source."""
    labels = np.array([e.label for e in examples])
    return by_source(examples, lambda rows: three_class_metrics(labels[rows], probabilities[rows]))


def fine_tune(model, batches, config: TrainConfig, evaluations, history: dict, fit: dict) -> dict:
    """Phase 2: unfreeze the Word2Vec embedding at a tenth of the learning rate. Kept only if it
    lowers the selection log-loss; otherwise the frozen-embedding weights are put back."""
    import keras

    from .network import masked_head_loss

    frozen_weights, frozen_best = model.get_weights(), min(history["select_loss"])
    model.get_layer("embedding").trainable = True
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate / 10), loss=masked_head_loss)
    log.info("fine-tuning the embedding for up to %d epochs", config.fine_tune_epochs)
    stop = keras.callbacks.EarlyStopping(monitor="select_loss", mode="min", patience=1, restore_best_weights=True)
    tuned = model.fit(batches, epochs=config.fine_tune_epochs, callbacks=[evaluation_callback(evaluations), stop],
                      **fit).history
    if min(tuned["select_loss"]) >= frozen_best:
        log.info("fine-tuning did not lower the selection log-loss: keeping the frozen-embedding model")
        model.get_layer("embedding").trainable = False
        model.set_weights(frozen_weights)
    return {k: list(history[k]) + list(tuned.get(k, [])) for k in history}


def write_examples(path: Path, examples: list[Example]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for e in examples:
            handle.write(json.dumps({"text": e.text, "label": e.label, "source": e.source}, ensure_ascii=False) + "\n")


def read_examples(path: Path) -> list[Example]:
    with open(path, encoding="utf-8") as handle:
        return [Example(r["text"], r["label"], r["source"]) for r in map(json.loads, handle)]


def train(config: TrainConfig, split: Split | None = None) -> Path:
    """Train and write the run directory. ``split`` replaces the shared data (tests pass a tiny one)."""
    started = time.time()
    random.seed(config.seed)
    np.random.seed(config.seed)
    run_dir = Path(config.output_dir)
    (run_dir / "plots").mkdir(parents=True, exist_ok=True)
    split = split or build_split(Path(config.data_dir), seed=config.seed)
    if config.max_train_rows:
        split.train = split.train[: config.max_train_rows]
    for name in EVALUATED:
        write_examples(run_dir / f"{name}.jsonl", getattr(split, name))

    from tqdm.auto import tqdm

    train_tokens = [tokenize(e.text) for e in tqdm(split.train, desc="tokenizing", unit=" tweets", mininterval=1)]
    vocabulary = build_vocabulary(train_tokens, config.embedding)
    sequences = [vocabulary.encode_tokens(t) for t in train_tokens]
    # Word2Vec learns the tokens the network sees: hashtags split, unknown negated words as their word
    word2vec = train_word2vec([[vocabulary.tokens[i] for i in s] for s in sequences], config.embedding)
    matrix, coverage = embedding_matrix(vocabulary, word2vec, config.seed)
    log.info("vocabulary %d tokens, %.1f%% with a Word2Vec vector", len(vocabulary), 100 * coverage)
    (run_dir / "vocabulary.json").write_text(json.dumps(vocabulary.tokens, ensure_ascii=False))

    import keras

    from . import baseline, calibrate, plots
    from .network import NetworkConfig, build_trainable, masked_head_loss, predict_padded, probabilities_of_logits

    keras.utils.set_random_seed(config.seed)
    network = NetworkConfig(
        vocabulary_size=len(vocabulary), embedding_dim=config.embedding.dim,
        lstm_units=config.lstm_units, dense_units=config.dense_units,
        train_embeddings=config.train_embeddings, attention=config.attention,
    )
    model = build_trainable(network, matrix)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=masked_head_loss)
    keep = [i for i, s in enumerate(sequences) if s]
    kept = [split.train[i] for i in keep]
    targets = head_targets(kept, row_weights(kept, config), polarity_balance(kept, config.polarity_balance,
                                                                             config.customer_polarity_balance))
    batches, steps = length_bucketed_batches([sequences[i] for i in keep], targets, config.batch_size, config.seed)

    def encoded(examples):
        return [vocabulary.encode(e.text) or [1] for e in examples], [e.label for e in examples]

    evaluations = {"validation": encoded(split.validation), "select": encoded(split.select)}
    callbacks = [
        evaluation_callback(evaluations),
        keras.callbacks.EarlyStopping(monitor="select_loss", mode="min", patience=config.patience,
                                      restore_best_weights=True),
    ]
    fit = dict(steps_per_epoch=steps, shuffle=False, verbose=1 if sys.stderr.isatty() else 2)
    history = model.fit(batches, epochs=config.epochs, callbacks=callbacks, **fit).history
    frozen_epochs = len(history["loss"])
    if config.fine_tune_epochs and not config.train_embeddings:
        history = fine_tune(model, batches, config, evaluations, history, fit)
    history = {k: [float(v) for v in values] for k, values in history.items()}
    best_epoch = int(np.argmin(history["select_loss"])) + 1
    model.save(run_dir / "model.keras")

    log.info("calibrating on the selection split, evaluating the float model")
    select_logits = predict_padded(model, encoded(split.select)[0])
    calibration = calibrate.fit(select_logits, [e.label for e in split.select])
    (run_dir / "calibration.json").write_text(json.dumps(calibration.to_dict(), indent=2))
    probabilities = {name: probabilities_of_logits(predict_padded(model, encoded(getattr(split, name))[0]),
                                                   calibration) for name in EVALUATED}
    float_metrics = {name: report(getattr(split, name), probabilities[name]) for name in EVALUATED}
    log.info("training the references: TF-IDF + logistic regression, VADER")
    references = baseline.evaluate(split)

    minutes = (time.time() - started) / 60
    metrics = {
        "keras_float": float_metrics,
        "baseline_tfidf_logreg": references["tfidf_logreg"],
        "vader": references["vader"],
        "calibration": calibration.to_dict(),
        "selected_epoch": best_epoch,
        "epochs_run": len(history["loss"]),
        "training_minutes": round(minutes, 1),
    }
    run_config = {
        "train": config.to_dict(), "network": network.to_dict(), "text_version": TEXT_VERSION,
        "vocabulary_size": len(vocabulary), "word2vec_coverage": round(coverage, 4), "split": split.stats,
        "families": dict(SOURCE_FAMILY),
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (run_dir / "config.json").write_text(json.dumps(run_config, indent=2))
    (run_dir / "history.json").write_text(json.dumps(history, indent=2))
    fine_tune_from = frozen_epochs + 1 if len(history["loss"]) > frozen_epochs else None
    plots.training_curves(history, run_dir / "plots" / "training_curves.png", best_epoch, fine_tune_from)
    plots.confusion_matrices(
        {"selection split": float_metrics["select"]["all"]["confusion"],
         "test split": float_metrics["test"]["all"]["confusion"]},
        run_dir / "plots" / "confusion_matrix.png",
    )
    plots.reliability([e.label for e in split.test], probabilities["test"], run_dir / "plots" / "reliability.png")
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
        for name in ("metrics.json", "config.json", "history.json", "calibration.json", "vocabulary.json",
                     "model.keras"):
            mlflow.log_artifact(str(run_dir / name))
        mlflow.log_artifacts(str(run_dir / "plots"), artifact_path="plots")

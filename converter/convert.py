"""Keras → TFLite (builtin ops only) → a verified bundle, behind a parity gate.

The gate scores held-out tweets through the *serving* code (``sentiment.model`` on the written
bundle, one tweet at a time at its exact length) and compares its three probabilities with the float
Keras serving graph (calibration included) on padded, masked batches. If the most probable class
flips on more than 0.5% of them, or any of the three probabilities moves by more than 0.05, no bundle
is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sentiment import bundle as bundles
from sentiment.model import SentimentModel
from sentiment.prediction import CLASSES
from sentiment.text import MAX_TOKENS, TEXT_VERSION, Vocabulary

from .errors import ConversionError, ParityError

log = logging.getLogger(__name__)

MIN_PARITY_TWEETS = 2_000
QUANTIZATION = "dynamic"  # dynamic-range int8: a quarter of the float size, no accuracy loss measured


@dataclass(frozen=True)
class ParityLimits:
    max_flip_rate: float = 0.005
    max_abs_diff: float = 0.05

    def to_dict(self) -> dict:
        return {"max_flip_rate": self.max_flip_rate, "max_abs_diff": self.max_abs_diff}


def to_tflite(model, quantization: str = QUANTIZATION) -> bytes:
    """Convert with TFLITE_BUILTINS only: a graph that needs Flex ops is refused, not shipped."""
    import tensorflow as tf

    if quantization not in bundles.QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {bundles.QUANTIZATIONS}")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization in ("dynamic", "float16"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    # Per-tensor dense weights keep FULLY_CONNECTED at a version tflite-runtime 2.14 still reads.
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError and friends, all opaque
        message = str(error)
        if "Select TF ops" in message or "TensorList" in message or "Flex" in message:
            raise ConversionError(
                "the model needs TensorFlow ops outside the TFLite builtins (Flex), which no serving "
                "runtime ships: build the serving graph with batch 1 and a free length "
                "(converter.network.serving_graph)"
            ) from None
        raise ConversionError(f"TFLite conversion failed: {message[-500:]}") from None


def framework_versions() -> dict[str, str]:
    import gensim
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "gensim": gensim.__version__,
            "python": platform.python_version()}


def new_version(model_bytes: bytes, now: datetime | None = None) -> str:
    """Sortable by time, unique by content: 20261125-143012-3f9a2c1b."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{hashlib.sha256(model_bytes).hexdigest()[:8]}"


def _training_facts(run_config: dict) -> dict:
    """What the manifest keeps of the run: the recipe, not where it ran (no machine paths)."""
    facts = {k: run_config[k] for k in ("train", "network", "split", "vocabulary_size", "word2vec_coverage")
             if k in run_config}
    if "train" in facts:
        facts["train"] = {k: v for k, v in facts["train"].items() if k not in ("data_dir", "output_dir")}
    return facts


def write_bundle(directory: Path, model_bytes: bytes, manifest: bundles.Manifest) -> None:
    directory.mkdir(parents=True, exist_ok=False)
    (directory / bundles.MODEL_FILE).write_bytes(model_bytes)
    (directory / bundles.MANIFEST_FILE).write_text(json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False))


def parity(reference: np.ndarray, candidate: np.ndarray) -> dict:
    """How far two models' three probabilities on the same tweets are apart; a flip is a change of the
    most probable class."""
    flips = int(np.sum(np.argmax(reference, axis=1) != np.argmax(candidate, axis=1)))
    difference = np.abs(reference - candidate)
    return {
        "n": int(len(reference)),
        "label_flips": flips,
        "flip_rate": round(flips / max(1, len(reference)), 6),
        "max_abs_diff": round(float(difference.max()), 6) if len(reference) else 0.0,
        "mean_abs_diff": round(float(difference.mean()), 6) if len(reference) else 0.0,
    }


def latency(served: SentimentModel, texts: list[str]) -> dict:
    """Per-tweet scoring time through the serving code (encode + interpreter), for the model card."""
    timings = []
    for text in texts:
        started = time.perf_counter()
        served.probabilities_of_ids(served.encode(text))
        timings.append(time.perf_counter() - started)
    p50, p95 = np.percentile(timings, [50, 95]) * 1e3
    return {"n": len(timings), "p50_ms": round(float(p50), 4), "p95_ms": round(float(p95), 4)}


def check_parity(reference_model, served: SentimentModel, texts: list[str], limits: ParityLimits) -> dict:
    """Score ``texts`` both ways (``reference_model``: the float serving graph with a free batch); raise
    ParityError past the limits, else return the report."""
    from .network import predict_padded

    kept = [ids for ids in (served.encode(t) for t in texts) if ids]
    if len(kept) < MIN_PARITY_TWEETS:
        raise ValueError(f"the parity gate needs at least {MIN_PARITY_TWEETS} tweets, got {len(kept)}")
    reference = predict_padded(reference_model, kept)
    candidate = np.array([served.probabilities_of_ids(ids) for ids in kept], dtype=np.float64)
    report = {**parity(reference, candidate), "limits": limits.to_dict()}
    if report["flip_rate"] > limits.max_flip_rate or report["max_abs_diff"] > limits.max_abs_diff:
        raise ParityError(report, limits.to_dict())
    return report


def convert_run(
    run_dir: Path,
    output_root: Path,
    quantization: str = QUANTIZATION,
    limits: ParityLimits = ParityLimits(),
    reference_model=None,
    notes: str | None = None,
    previous: bundles.Manifest | None = None,
) -> Path:
    """Convert a training run into the bundle directory ``output_root/<version>``; return it.

    ``reference_model`` replaces the run's float serving graph as the parity reference (tests use it to
    show the gate catching a model that drifted). ``notes`` (markdown) go into the model card, and so do the
    figures of ``previous``, the manifest of the bundle this one replaces, beside the new ones.
    """
    import keras

    from .model_card import write_model_card
    from .network import HEADS, Calibration, serving_graph
    from .train import EVALUATED, read_examples, report

    trained = keras.saving.load_model(run_dir / "model.keras", compile=False)
    calibration = Calibration.from_dict(json.loads((run_dir / "calibration.json").read_text()))
    vocabulary = Vocabulary(json.loads((run_dir / "vocabulary.json").read_text(encoding="utf-8")))
    run_metrics = json.loads((run_dir / "metrics.json").read_text())
    run_config = json.loads((run_dir / "config.json").read_text())
    if run_config.get("text_version") != TEXT_VERSION:
        raise ConversionError(
            f"the run was trained with tokenizer {run_config.get('text_version')!r}, this code has {TEXT_VERSION!r}"
        )

    log.info("converting to TFLite (%s)", quantization)
    model_bytes = to_tflite(serving_graph(trained, calibration), quantization)
    manifest = bundles.Manifest(
        model_version=new_version(model_bytes),
        text_version=TEXT_VERSION,
        vocabulary=vocabulary.tokens,
        model_sha256=hashlib.sha256(model_bytes).hexdigest(),
        quantization=quantization,
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        classes=list(CLASSES),
        heads=HEADS,
        max_tokens=MAX_TOKENS,
        frameworks=framework_versions(),
        training=_training_facts(run_config),
    )
    output_dir = output_root / manifest.model_version
    if output_dir.exists():
        raise FileExistsError(f"{output_dir} exists: a bundle is never overwritten")
    output_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=output_root))
    try:
        bundle_dir = staging / "bundle"
        write_bundle(bundle_dir, model_bytes, manifest)
        served = SentimentModel(bundles.verify_directory(bundle_dir))

        sets = {name: [e for e in read_examples(run_dir / f"{name}.jsonl") if served.encode(e.text)]
                for name in EVALUATED}
        parity_texts = [e.text for name in EVALUATED for e in sets[name]]
        log.info("parity gate on %d held-out tweets", len(parity_texts))
        reference = reference_model or serving_graph(trained, calibration, batch_size=None)
        parity_report = check_parity(reference, served, parity_texts, limits)

        metrics = {"parity_vs_keras": parity_report, "keras_float": run_metrics["keras_float"], "tflite": {},
                   **{k: v for k, v in run_metrics.items() if k not in ("keras_float", "tflite")}}
        for name, examples in sets.items():
            metrics["tflite"][name] = report(examples, served.probabilities([e.text for e in examples]))
        metrics["latency"] = latency(served, [e.text for e in sets["test"]])
        manifest = replace(manifest, metrics=metrics)
        (bundle_dir / bundles.MANIFEST_FILE).write_text(
            json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False)
        )
        bundles.verify_directory(bundle_dir)
        if (run_dir / "plots").is_dir():
            shutil.copytree(run_dir / "plots", bundle_dir / "plots")
        write_model_card(bundle_dir, manifest, run_metrics, run_config, notes, previous)
        bundle_dir.rename(output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("bundle %s written to %s (%d bytes)", manifest.model_version, output_dir, len(model_bytes))
    return output_dir

"""MODEL_CARD.md, written into every bundle from its manifest and its training run."""

from __future__ import annotations

from pathlib import Path

from sentiment import bundle as bundles

SETS = (
    ("validation", "Sentiment140 validation (random-sample rows, distant labels)"),
    ("tweeteval_all", "TweetEval validation, binary (all hand-labelled negative/positive tweets)"),
    ("tweeteval_select", "TweetEval, selection half (used for early stopping and model choice)"),
    ("tweeteval_test", "TweetEval, held-out half (no training or early stopping; see the experiments for its one use)"),
)


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _row(name: str, metrics: dict | None) -> str:
    if not metrics:
        return f"| {name} | – | – | – |"
    auc = metrics.get("roc_auc")
    return f"| {name} | {metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} | {auc:.3f} |" if auc is not None \
        else f"| {name} | {metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} | – |"


def render(manifest: bundles.Manifest, run_metrics: dict, run_config: dict, model_bytes: int | None = None,
           notes: str | None = None) -> str:
    m = manifest.metrics
    parity = m.get("parity_vs_keras", {})
    split = run_config.get("split", {})
    network = run_config.get("network", {})
    train = run_config.get("train", {})
    lines = [
        f"# Model card: tweet sentiment BiLSTM `{manifest.model_version}`",
        "",
        "Binary sentiment (negative / positive) of English tweets, for Air Paradis' bad-buzz alerts.",
        "Output: `probability_positive` in [0, 1]; `sentiment` is `positive` at or above "
        f"{manifest.threshold}.",
        "",
        "## Model",
        f"- Tokenizer `{manifest.text_version}` (`functions/sentiment/text.py`), at most "
        f"{manifest.max_tokens} tokens, vocabulary {len(manifest.vocabulary):,} tokens.",
        f"- Embedding {network.get('embedding_dim')}-d, initialised from skip-gram Word2Vec trained on "
        f"the training tweets (frozen: {not network.get('train_embeddings', False)}), masked padding → "
        f"SpatialDropout1D({network.get('spatial_dropout')}) → Bidirectional LSTM({network.get('lstm_units')}) "
        f"→ Dense({network.get('dense_units')}, relu) → Dropout({network.get('dropout')}) → Dense(1, sigmoid).",
        f"- TFLite, builtin ops only, quantization `{manifest.quantization}`"
        + (f", {model_bytes / 1e6:.1f} MB" if model_bytes else "")
        + "; input `[1, n]` int32 ids, each tweet scored at its exact length (no padding at serving).",
        f"- Frameworks: {', '.join(f'{k} {v}' for k, v in manifest.frameworks.items())}.",
        "",
        "## Data and splits",
        f"- Sentiment140 (distant supervision: emoticon labels), {_n(split.get('rows_read'))} rows read from "
        "the shared pool and text-only pool; duplicates found on the token sequence "
        f"({split.get('dropped', {})}).",
        f"- Training: {_n(split.get('train'))} tweets, of which {_n(split.get('train_random_sample'))} "
        "from random samples; the others (head/tail blocks and text-only rows, where label and date are "
        f"confounded) weigh {train.get('confounded_weight')} against 1.",
        f"- Validation: {_n(split.get('validation'))} tweets drawn only from random-sample rows.",
        f"- Model selection and early stopping: ROC-AUC on half of the hand-labelled TweetEval validation "
        f"tweets ({split.get('tweeteval_select', '?')} binary); the other half "
        f"({split.get('tweeteval_test', '?')}) is reported untouched.",
        f"- Selected epoch {run_metrics.get('selected_epoch')} of {run_metrics.get('epochs_run')}; "
        f"training took {run_metrics.get('training_minutes')} min on 2 CPU cores.",
        "",
        "## Metrics",
        "",
        "Accuracy, macro-F1 and ROC-AUC at threshold 0.5.",
        "",
    ]
    for key, title in SETS:
        lines += [
            f"**{title}**",
            "",
            "| model | accuracy | macro-F1 | ROC-AUC |",
            "|---|---|---|---|",
            _row("TF-IDF + logistic regression (baseline)", m.get("baseline_tfidf_logreg", {}).get(key)),
            _row("BiLSTM, Keras float32", m.get("keras_float", {}).get(key)),
            _row(f"BiLSTM, TFLite {manifest.quantization} (this bundle)", m.get("tflite", {}).get(key)),
            "",
        ]
    if parity:
        lines += [
            "## Parity of this bundle with the Keras model",
            f"{parity['n']:,} validation tweets scored by the serving code: {parity['label_flips']} label flips "
            f"({parity['flip_rate']:.2%}), max |Δp| {parity['max_abs_diff']:.4f}, mean |Δp| "
            f"{parity['mean_abs_diff']:.5f} (gate: ≤ {parity['limits']['max_flip_rate']:.1%} flips, "
            f"|Δp| ≤ {parity['limits']['max_abs_diff']}).",
            "",
        ]
    if notes:
        lines += [notes.strip(), ""]
    lines += [
        "## Plots",
        "![training curves](plots/training_curves.png)",
        "![confusion matrices](plots/confusion_matrix.png)",
        "",
        "## Known limits",
        "- **Distant-supervision labels.** Sentiment140 labels come from emoticons that were removed from "
        "the text; they are noisy, and the model never saw the emoticons that defined them.",
        "- **2009 vocabulary.** The tweets are from April–June 2009: newer words, names and emoji are "
        "mostly unknown tokens; airline-specific language is rare in the training data.",
        "- **Binary.** Neutral tweets get a score somewhere in the middle; there is no neutral class. "
        "TweetEval figures leave its neutral tweets out.",
        "- **English only.** Other languages get scores, not meaningful ones.",
        "- Sarcasm, negated irony and comparisons are frequent errors of models of this size.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(bundle_dir: Path, manifest: bundles.Manifest, run_metrics: dict, run_config: dict,
                     notes: str | None = None) -> Path:
    path = bundle_dir / "MODEL_CARD.md"
    size = (bundle_dir / bundles.MODEL_FILE).stat().st_size
    path.write_text(render(manifest, run_metrics, run_config, size, notes), encoding="utf-8")
    return path

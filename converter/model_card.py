"""MODEL_CARD.md, written into every bundle from its manifest and its training run."""

from __future__ import annotations

from pathlib import Path

from sentiment import bundle as bundles
from sentiment.prediction import CLASSES

# The terms each set's source states (the shared data's SOURCES.md files); none allows more than research use
# with certainty, so neither does this model.
LICENCES = {
    "sentiment140": "Sentiment140 (Go, Bhayani & Huang 2009): research use, no licence stated by the copies used",
    "semeval2017_task4A_train_dev": "SemEval 2013–2016 Task 4: Twitter terms of service, no redistribution",
    "tweeteval_sentiment_val_and_train_labels": "TweetEval: no restrictions of its own; the SemEval terms apply",
    "sanders_twitter_corpus": "Sanders: no licence stated (Twitter terms of service)",
    "ss_twitter_sentistrength": "SS-Twitter (Thelwall et al.): no licence stated",
    "sts_gold": "STS-Gold (Saif et al. 2013): no terms stated",
    "omd_debate08": "OMD (Diakopoulos & Shamma 2010): CC BY-NC-SA 3.0, non-commercial",
    "hcr_health_care_reform": "HCR (Speriosu et al. 2011): no data licence stated",
    "crowdflower": "CrowdFlower Data for Everyone sets: no licence stated; mirrors list CC BY-NC-SA 4.0",
    "kaggle_tweet_sentiment_extraction": "Kaggle Tweet Sentiment Extraction: reported CC BY 4.0 (not verified)",
    "vader_hutto2014_tweets_groundtruth": "VADER tweets (Hutto & Gilbert 2014): MIT",
    "semeval2018_task1_valence_oc_en": "SemEval-2018 Task 1: research use (NRC terms)",
}
PREVIOUS_FIGURES = (  # the figures set beside those of the bundle this one replaces, both read from manifests
    ("test", "all", "macro_recall"), ("test", "all", "f1", "negative"), ("test", "all", "f1", "neutral"),
    ("test", "all", "f1", "positive"), ("test", "all", "polarity_accuracy"), ("test", "all", "negative_recall"),
    ("test", "customer", "macro_recall"), ("test", "customer", "polarity_accuracy"),
    ("test", "customer", "negative_recall"), ("test", "all", "share_gap"),
    ("select", "all", "macro_recall"), ("select", "all", "polarity_accuracy"), ("select", "all", "negative_recall"),
    ("select", "customer", "polarity_accuracy"), ("select", "customer", "negative_recall"),
)
FIGURES = {"macro_recall": "macro recall", "f1": "F1", "polarity_accuracy": "polarity accuracy",
           "negative_recall": "negative recall", "share_gap": "largest gap of a predicted share"}
FIRST_GENERATION = {  # the binary bundle before it, from its own model card and the held-out trial that judged it
    "version": "20261125-135001-b3df2c47",
    "summary": "binary BiLSTM(64) on Sentiment140 only (tweet-tokens/1), 5.2 MB",
    "rows": [
        ("Sentiment140 validation, accuracy", "0.805"),
        ("TweetEval validation (binary), accuracy / macro-F1", "0.755 / 0.713"),
        ("held-out airline customer tweets, polarity accuracy / negative recall", "0.746 / 0.706"),
        ("held-out SemEval-2017 test, polarity accuracy / negative recall", "0.612 / 0.477"),
        ("held-out Sentiment140 manual test, polarity accuracy / negative recall", "0.797 / 0.746"),
        ("neutral class", "none: 30% of neutral airline tweets called negative"),
    ],
}
MODELS = (("tflite", "BiLSTM (this bundle, TFLite)"), ("baseline_tfidf_logreg", "TF-IDF + LogReg"),
          ("vader", "VADER"))


def _f(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _licence(source: str) -> str:
    if source.startswith("crowdflower"):
        return LICENCES["crowdflower"]
    if source.startswith("sentiment140"):
        return LICENCES["sentiment140"]
    return LICENCES.get(source, "see the data's SOURCES.md")


def _scores_row(name: str, m: dict | None) -> str:
    if not m:
        return f"| {name} | – | – | – | – | – | – | – |"
    f1 = m.get("f1", {})
    return (f"| {name} | {m['n']:,} | {_f(m.get('macro_recall'))} | {_f(f1.get('negative'))} | "
            f"{_f(f1.get('neutral'))} | {_f(f1.get('positive'))} | {_f(m.get('polarity_accuracy'))} | "
            f"{_f(m.get('negative_recall'))} |")


_HEADER = ["| | n | macro recall | F1 neg | F1 neu | F1 pos | polarity acc. | neg. recall |",
           "|---|---|---|---|---|---|---|---|"]


def _split_section(split: str, title: str, metrics: dict) -> list[str]:
    ours = metrics.get("tflite", {}).get(split)
    if not ours:
        return []
    lines = [f"### {title}", "", "All rows, then each family, then each source; three models side by side.", "",
             *_HEADER]
    for key, label in MODELS:
        lines.append(_scores_row(f"**all**: {label}", metrics.get(key, {}).get(split, {}).get("all")))
    for group in ("families", "sources"):
        for name in ours.get(group, {}):
            for key, label in MODELS:
                lines.append(_scores_row(f"{name}: {label}", metrics.get(key, {}).get(split, {}).get(group, {})
                                         .get(name)))
    return [*lines, ""]


def _figure(metrics: dict, split: str, rows: str, name: str, *key: str):
    """One figure of the TFLite model's ``metrics`` (``share_gap``: the largest |predicted − true share|)."""
    scores = metrics.get("tflite", {}).get(split, {})
    scores = scores.get("all") if rows == "all" else scores.get("families", {}).get(rows)
    if not scores:
        return None
    if name == "share_gap":
        return max(abs(scores["predicted_share"][c] - scores["true_share"][c]) for c in CLASSES)
    value = scores.get(name)
    return value.get(key[0]) if key and isinstance(value, dict) else value


def _previous_rows(metrics: dict, previous: dict) -> list[str]:
    split_names = {"test": "test", "select": "selection"}
    return [f"| {split_names[split]} | {rows} | {FIGURES[name]}{' ' + key[0] if key else ''} | "
            f"{_f(_figure(previous, split, rows, name, *key))} | {_f(_figure(metrics, split, rows, name, *key))} |"
            for split, rows, name, *key in PREVIOUS_FIGURES]


def _balance(train: dict) -> str:
    """The polarity balance of a run's training settings, in words (written once for both sections)."""
    customer = train.get("customer_polarity_balance")
    return f"{train.get('polarity_balance', 0.0)}" + ("" if customer is None else f", {customer} on the customer sets")


def previous_summary(previous: bundles.Manifest) -> str:
    """What the replaced bundle was, from its own manifest."""
    train, m = previous.training.get("train", {}), previous.metrics
    parts = [f"converted {previous.created_at[:10]}", f"tokenizer {previous.text_version}"]
    if m.get("epochs_run"):
        parts.append(f"{m['epochs_run']} epochs run, epoch {m.get('selected_epoch')} kept")
    if train:
        parts.append(f"up to {train.get('epochs')} frozen + {train.get('fine_tune_epochs')} fine-tuning epochs, "
                     f"polarity balance {_balance(train)}")
    if m.get("training_minutes"):
        parts.append(f"{m['training_minutes']} min of training")
    return "; ".join(parts)


def _previous_section(m: dict, previous: bundles.Manifest | None) -> list[str]:
    if previous is None:
        return ["## Previous bundles", "", "None given at conversion (`convert --previous`).", ""]
    return ["## Previous bundles", "", f"`{previous.model_version}` ({previous_summary(previous)}), beside this one "
            "(TFLite, both from their manifests):", "", "| split | rows | figure | previous bundle | this bundle |",
            "|---|---|---|---|---|", *_previous_rows(m, previous.metrics), ""]


def _calibration_table(metrics: dict) -> list[str]:
    test = metrics.get("tflite", {}).get("test", {}).get("all")
    if not test:
        return []
    lines = ["| class | true share | predicted share (arg-max) | gap |", "|---|---|---|---|"]
    for name in CLASSES:
        true, predicted = test["true_share"][name], test["predicted_share"][name]
        lines.append(f"| {name} | {true:.3f} | {predicted:.3f} | {predicted - true:+.3f} |")
    return lines


def render(manifest: bundles.Manifest, run_metrics: dict, run_config: dict, model_bytes: int | None = None,
           notes: str | None = None, previous: bundles.Manifest | None = None) -> str:
    m = manifest.metrics
    parity = m.get("parity_vs_keras", {})
    network = run_config.get("network", {})
    train = run_config.get("train", {})
    calibration = run_metrics.get("calibration", {})
    latency = m.get("latency", {})
    families = run_config.get("families", {})
    sources = sorted(m.get("tflite", {}).get("test", {}).get("sources", {}))
    lines = [
        f"# Model card: tweet sentiment BiLSTM `{manifest.model_version}`",
        "",
        "Three-class sentiment (negative / neutral / positive) of English tweets, for Air Paradis' bad-buzz alerts.",
        "Output: `probabilities` of the three classes (summing to 1, calibrated in the graph); `sentiment` is the "
        "most probable class; `probability_positive` is the polarity P(positive) / (P(positive) + P(negative)).",
        "",
        "## Model",
        f"- Tokenizer `{manifest.text_version}` (`functions/sentiment/text.py`): negation scope (`neg_` prefix), "
        f"contrast marker, elongation marker, emoticons and emoji, hashtags split into known words; at most "
        f"{manifest.max_tokens} tokens, vocabulary {len(manifest.vocabulary):,} tokens.",
        f"- Embedding {network.get('embedding_dim')}-d, initialised from skip-gram Word2Vec trained on every training "
        f"tweet (Sentiment140 and the hand-labelled sets, neutral ones included), masked padding → "
        f"SpatialDropout1D({network.get('spatial_dropout')}) → Bidirectional LSTM({network.get('lstm_units')}) → "
        + (f"attention pooling over its outputs ({network.get('dense_units')} units) → " if network.get("attention")
           else "") + f"Dense({network.get('dense_units')}, relu) → Dropout({network.get('dropout')}) → two heads.",
        f"- Heads: {manifest.heads}.",
        f"- TFLite, builtin ops only, quantization `{manifest.quantization}`"
        + (f", {model_bytes / 1e6:.1f} MB" if model_bytes else "")
        + "; input `[1, n]` int32 ids, each tweet scored at its exact length (no padding at serving); "
        "output `[1, 3]`.",
        f"- Frameworks: {', '.join(f'{k} {v}' for k, v in manifest.frameworks.items())}.",
    ]
    if latency:
        lines.append(f"- Latency (LiteRT, one thread, this machine at conversion): p50 {latency['p50_ms']:.3f} ms, "
                     f"p95 {latency['p95_ms']:.3f} ms per tweet over {latency['n']:,} test-split tweets.")
    lines += [
        "",
        "## Sentiment140 has no neutral class: how the loss handles it",
        "Sentiment140's 2009 tweets were labelled by their emoticons: negative or positive, never neutral. "
        "Taught as \"not neutral\", they would push the neutral class towards zero on exactly the everyday tweets "
        "that are neutral; dropped, they would take away most of the polarity signal. So the network has two "
        "sigmoid heads: the **polarity** head learns from every row labelled negative or positive (Sentiment140 "
        "included); the **neutral** head learns from hand-labelled rows only, its loss masked (weight 0) on "
        "Sentiment140 rows. A neutral hand-labelled row masks the polarity head in turn. The serving graph combines "
        "them into one distribution: P(neutral) = n, P(positive) = (1 − n)·p, P(negative) = (1 − n)·(1 − p).",
        "",
        "## Data and splits",
        f"- Weights: a hand-labelled row weighs {train.get('handlabelled_weight')} against a Sentiment140 "
        f"random-sample row's 1, customer-family sets (brands, products: the airline's situation) "
        f"{train.get('customer_weight')} times more again; Sentiment140 head/tail rows (label confounded with the "
        f"date) {train.get('confounded_weight')}."
        + (f" On the polarity head, each hand-labelled set's negatives and positives are brought towards equal "
           f"total weight (strength {_balance(train)}; 1 = balanced): a set's mix says how it was collected, "
           "not how a complaint reads."
           if train.get("polarity_balance") or train.get("customer_polarity_balance") else ""),
        "- Selection split (hand-labelled, stratified by source and label): early stopping on its three-class "
        "log-loss, the calibration fitted on it. Test split (hand-labelled, same strata): reported only.",
        f"- Selected epoch {run_metrics.get('selected_epoch')} of {run_metrics.get('epochs_run')}; training took "
        f"{run_metrics.get('training_minutes')} min on 2 shared CPU cores.",
        "- Never used for training, tuning or selection: the 2015 US airline sentiment tweets, Sentiment140's "
        "manual test tweets, the SemEval-2017 Task 4 test set (TweetEval's test split).",
    ]
    split_stats = run_config.get("split", {})
    if split_stats.get("labels"):
        lines += ["", "Rows per split and label (after de-duplication on the token sequence):", "",
                  "| split | negative | neutral | positive |", "|---|---|---|---|"]
        for name, per_label in split_stats["labels"].items():
            lines.append(f"| {name} | {per_label.get('negative', 0):,} | {per_label.get('neutral', 0):,} | "
                         f"{per_label.get('positive', 0):,} |")
    if sources:
        lines += ["", "| set | family | terms |", "|---|---|---|"]
        for source in sources:
            lines.append(f"| {source} | {families.get(source, 'distant labels')} | {_licence(source)} |")
    lines += [
        "",
        "## Metrics",
        "",
        "Macro recall: the mean of the three classes' recalls (SemEval-2017's measure). Polarity figures on the "
        "rows labelled negative or positive, positive when the polarity is ≥ 0.5. TF-IDF + LogReg: the three-class "
        "baseline trained on the same training split; VADER: compound ≥ 0.05 positive, ≤ −0.05 negative, else "
        "neutral.",
        "",
        *_split_section("test", "Test split (hand-labelled, never used for a choice)", m),
        *_split_section("select", "Selection split (hand-labelled, used for early stopping and calibration)", m),
    ]
    validation = m.get("tflite", {}).get("validation", {}).get("all")
    if validation:
        lines += ["### Sentiment140 validation (random-sample rows, distant labels, no neutral)", "",
                  f"Polarity accuracy {_f(validation.get('polarity_accuracy'))}, negative recall "
                  f"{_f(validation.get('negative_recall'))} ({validation['n']:,} tweets; a neutral answer counts "
                  "only through the polarity).", ""]
    lines += [*_previous_section(m, previous),
              f"The first generation, `{FIRST_GENERATION['version']}`: {FIRST_GENERATION['summary']}.", "",
              "| figure | first-generation bundle |", "|---|---|",
              *(f"| {k} | {v} |" for k, v in FIRST_GENERATION["rows"]), ""]
    if calibration:
        biases = ", ".join(f"{c} {b:+.3f}" for c, b in zip(CLASSES, calibration["class_bias"], strict=True))
        lines += [
            "## Calibration",
            "Fitted on the selection split, folded into the graph: each head's logit scaled and shifted (polarity "
            f"×{calibration['polarity_scale']:.3f} {calibration['polarity_shift']:+.3f}, neutral "
            f"×{calibration['neutral_scale']:.3f} {calibration['neutral_shift']:+.3f}), then a bias per class on "
            f"the log-probabilities ({biases}) "
            "so that the shares of arg-max answers match the true shares. On the test split:",
            "",
            *_calibration_table(m),
            "",
            "![reliability](plots/reliability.png)",
            "",
        ]
    if parity:
        lines += [
            "## Parity of this bundle with the Keras model",
            f"{parity['n']:,} held-out tweets scored by the serving code: {parity['label_flips']} changes of the "
            f"most probable class ({parity['flip_rate']:.2%}), max |Δp| {parity['max_abs_diff']:.4f} over the three "
            f"probabilities, mean |Δp| {parity['mean_abs_diff']:.5f} (gate: ≤ {parity['limits']['max_flip_rate']:.1%} "
            f"flips, |Δp| ≤ {parity['limits']['max_abs_diff']}).",
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
        "- **Sarcasm and irony** (\"great, another delay\") read as positive more often than not.",
        "- **Neutral is the hardest class**: the sets disagree on where neutral ends (news, questions, mixed "
        "feelings); per-source recall of neutral varies widely (tables above).",
        "- **Domain**: few airline tweets in the training data (the airline set is a held-out judge); the customer "
        "family (brands, products) stands in for it.",
        "- **English only.** Other languages get scores, not meaningful ones.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(bundle_dir: Path, manifest: bundles.Manifest, run_metrics: dict, run_config: dict,
                     notes: str | None = None, previous: bundles.Manifest | None = None) -> Path:
    path = bundle_dir / "MODEL_CARD.md"
    size = (bundle_dir / bundles.MODEL_FILE).stat().st_size
    path.write_text(render(manifest, run_metrics, run_config, size, notes, previous), encoding="utf-8")
    return path

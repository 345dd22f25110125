"""train → convert → parity gate, on a tiny model trained in seconds by the real pipeline."""

import json

import numpy as np
import pytest

from sentiment import bundle as bundles
from sentiment.errors import EmptyText
from sentiment.model import SentimentModel
from sentiment.text import TEXT_VERSION

from . import synthetic

pytestmark = pytest.mark.slow


def test_training_run_has_every_artifact(tiny_run):
    for name in ("model.keras", "vocabulary.json", "calibration.json", "config.json", "history.json", "metrics.json",
                 "validation.jsonl", "select.jsonl", "test.jsonl", "plots/training_curves.png",
                 "plots/confusion_matrix.png", "plots/reliability.png"):
        assert (tiny_run / name).is_file(), name
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    # the synthetic task is easy: a tiny model that learned anything is far above chance
    assert metrics["keras_float"]["validation"]["all"]["polarity_accuracy"] > 0.9
    assert metrics["keras_float"]["select"]["all"]["macro_recall"] > 0.9
    assert set(metrics["keras_float"]["test"]["families"]) == {"customer", "general"}
    assert metrics["baseline_tfidf_logreg"]["test"]["all"]["macro_recall"] > 0.9  # the references, beside it
    assert metrics["vader"]["test"]["all"]["n"] == 600
    assert (tiny_run / "plots/training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bundle_passes_the_parity_gate(tiny_bundle):
    manifest = json.loads((tiny_bundle / bundles.MANIFEST_FILE).read_text())
    parity = manifest["metrics"]["parity_vs_keras"]
    assert parity["n"] >= 2_000
    assert parity["flip_rate"] <= 0.005 and parity["max_abs_diff"] <= 0.05
    assert manifest["text_version"] == TEXT_VERSION
    assert manifest["quantization"] == "dynamic"
    assert manifest["classes"] == ["negative", "neutral", "positive"] and "polarity" in manifest["heads"]
    assert "threshold" not in manifest
    assert manifest["frameworks"]["tensorflow"].startswith("2.")
    assert manifest["metrics"]["tflite"]["validation"]["all"]["polarity_accuracy"] > 0.9
    assert manifest["metrics"]["tflite"]["test"]["all"]["macro_recall"] > 0.9
    assert "TF-IDF" in (tiny_bundle / "MODEL_CARD.md").read_text()
    assert manifest["metrics"]["latency"]["p50_ms"] > 0
    assert (tiny_bundle / "MODEL_CARD.md").read_text().startswith("# Model card")
    assert (tiny_bundle / "plots" / "confusion_matrix.png").is_file()


def perturbed(model_path, scale=0.5, seed=0):
    """The run's float three-class graph (calibration included) with noise on every weight."""
    import keras

    from converter.network import Calibration, serving_graph

    model = keras.saving.load_model(model_path, compile=False)
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(0, scale * (np.std(w) + 1e-3), w.shape) for w in model.get_weights()])
    calibration = Calibration.from_dict(json.loads((model_path.parent / "calibration.json").read_text()))
    return serving_graph(model, calibration, batch_size=None)


def test_parity_gate_fails_on_a_perturbed_model(tiny_run, tiny_bundle):
    from converter.convert import ParityLimits, check_parity
    from converter.errors import ParityError

    served = SentimentModel(bundles.verify_directory(tiny_bundle))
    texts = [e.text for e in synthetic.examples(2_100, seed=99)]
    with pytest.raises(ParityError, match="parity gate failed") as caught:
        check_parity(perturbed(tiny_run / "model.keras"), served, texts, ParityLimits())
    assert caught.value.report["max_abs_diff"] > 0.05 or caught.value.report["flip_rate"] > 0.005


def test_failed_gate_writes_no_bundle(tiny_run, tmp_path):
    from converter.convert import convert_run
    from converter.errors import ParityError

    with pytest.raises(ParityError):
        convert_run(tiny_run, tmp_path / "out", reference_model=perturbed(tiny_run / "model.keras"))
    assert not any(p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")), "nothing published"
    assert list((tmp_path / "out").iterdir()) == [], "the staging directory is cleaned up"


def test_parity_gate_needs_enough_tweets(tiny_run, tiny_bundle):
    import keras

    from converter.convert import ParityLimits, check_parity

    served = SentimentModel(bundles.verify_directory(tiny_bundle))
    model = keras.saving.load_model(tiny_run / "model.keras", compile=False)
    with pytest.raises(ValueError, match="at least 2000"):
        check_parity(model, served, ["good flight"] * 100, ParityLimits())


def test_model_needing_flex_ops_is_refused(tiny_run):
    """A free batch dimension makes the LSTM use TensorList ops, i.e. Flex: refused, not shipped."""
    import keras

    from converter.convert import to_tflite
    from converter.errors import ConversionError

    trained = keras.saving.load_model(tiny_run / "model.keras", compile=False)
    with pytest.raises(ConversionError, match="Flex"):
        to_tflite(trained)


@pytest.mark.parametrize("quantization", ["float16", "float32"])
def test_other_quantizations_convert_and_load(tiny_run, tmp_path, quantization):
    from converter.convert import convert_run

    bundle_dir = convert_run(tiny_run, tmp_path, quantization)
    model = SentimentModel(bundles.verify_directory(bundle_dir))
    assert model.manifest.quantization == quantization
    assert 0.0 <= model.predict(["love this flight"])[0].probability_positive <= 1.0


def test_score_of_a_tweet_does_not_depend_on_its_batch(tiny_bundle):
    model = SentimentModel(bundles.verify_directory(tiny_bundle))
    tweet = "lost my bag again"
    alone = model.predict([tweet])[0].probability_positive
    longer = [synthetic.tweet(__import__("random").Random(i), i % 2) + " and more words" * 3 for i in range(20)]
    batch = model.predict([*longer[:10], tweet, *longer[10:]])
    assert abs(batch[10].probability_positive - alone) <= 1e-6
    raw_alone = model.probabilities([tweet])[0]
    raw_batch = model.probabilities([*longer, tweet])[-1]
    assert np.max(np.abs(raw_alone - raw_batch)) <= 1e-6


def test_predictions_follow_the_learned_signal(tiny_bundle):
    model = SentimentModel(bundles.verify_directory(tiny_bundle))
    happy, angry, plain = model.predict(["love this crew, amazing flight :)", "worst airline, lost bag, rude :(",
                                         "boarding schedule update for the terminal"])
    assert (happy.sentiment, angry.sentiment, plain.sentiment) == ("positive", "negative", "neutral")
    assert abs(sum(plain.probabilities.values()) - 1) < 1e-4
    assert happy.model_version == model.version


def test_empty_text_is_refused_not_guessed(tiny_bundle):
    model = SentimentModel(bundles.verify_directory(tiny_bundle))
    with pytest.raises(EmptyText) as caught:
        model.predict(["fine", "   ", "ok"])
    assert caught.value.index == 1


def test_training_run_is_logged_to_mlflow(tiny_run, tmp_path, monkeypatch):
    """MLFLOW_TRACKING_URI is honoured; params, per-epoch metrics, plots and the model are logged."""
    import mlflow

    from converter.train import _log_to_mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # a tracking URI of one's own puts artifacts under ./mlruns
    mlflow.set_tracking_uri(uri)
    run_config = json.loads((tiny_run / "config.json").read_text())
    history = json.loads((tiny_run / "history.json").read_text())
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    _log_to_mlflow(tiny_run, run_config, history, metrics)

    client = mlflow.tracking.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("air-paradis-sentiment").experiment_id])
    assert run.data.params["network.lstm_units"] == "8"
    assert run.data.metrics["keras_float.select.all.macro_recall"] == \
        metrics["keras_float"]["select"]["all"]["macro_recall"]
    assert run.data.metrics["keras_float.test.families.customer.polarity_accuracy"] == \
        metrics["keras_float"]["test"]["families"]["customer"]["polarity_accuracy"]
    assert len(client.get_metric_history(run.info.run_id, "select_loss")) == len(history["loss"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)} | {
        a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"model.keras", "metrics.json", "plots/training_curves.png"} <= artifacts


def test_model_card_sets_the_replaced_bundles_figures_beside_the_new_ones(tiny_run, tiny_bundle):
    from converter.model_card import render
    from sentiment.config import DEFAULT_MODEL_STORE

    new = bundles.verify_directory(tiny_bundle).manifest
    previous = bundles.fetch(DEFAULT_MODEL_STORE).manifest  # the committed bundle, read from its manifest
    run_metrics = json.loads((tiny_run / "metrics.json").read_text())
    run_config = json.loads((tiny_run / "config.json").read_text())

    card = render(new, run_metrics, run_config, previous=previous)
    before = previous.metrics["tflite"]["test"]["all"]["macro_recall"]
    after = new.metrics["tflite"]["test"]["all"]["macro_recall"]
    assert f"`{previous.model_version}` (converted {previous.created_at[:10]}" in card
    assert f"| test | all | macro recall | {before:.3f} | {after:.3f} |" in card
    customer = previous.metrics["tflite"]["select"]["families"]["customer"]["negative_recall"]
    assert f"| selection | customer | negative recall | {customer:.3f} |" in card

    alone = render(new, run_metrics, run_config)
    assert "None given at conversion" in alone and previous.model_version not in alone


def test_attention_pooling_trains_converts_and_ignores_padding(tmp_path):
    """The attention variant (``--attention``): the real pipeline, the parity gate, builtin ops only
    (``to_tflite`` refuses Flex), and padding that changes nothing (the mask reaches the softmax)."""
    import keras

    from converter.convert import convert_run
    from converter.embeddings import EmbeddingConfig
    from converter.network import pad
    from converter.train import TrainConfig, train

    config = TrainConfig(data_dir="unused", output_dir=str(tmp_path / "run"), epochs=4, patience=4, batch_size=64,
                         learning_rate=1e-2, lstm_units=8, dense_units=8, train_embeddings=True, mlflow=False,
                         attention=True, embedding=EmbeddingConfig(dim=16, epochs=2, min_count=1))
    run = train(config, synthetic.split())
    trained = keras.saving.load_model(run / "model.keras", compile=False)
    assert trained.get_layer("attention").count_params() > 0
    sequence = [[2, 3, 4, 5]]
    alone, padded = trained.predict_on_batch(pad(sequence)), trained.predict_on_batch(pad(sequence, 12))
    np.testing.assert_allclose(alone, padded, atol=1e-5)

    bundle_dir = convert_run(run, tmp_path / "bundles")
    manifest = json.loads((bundle_dir / bundles.MANIFEST_FILE).read_text())
    assert manifest["training"]["network"]["attention"] is True
    assert manifest["metrics"]["parity_vs_keras"]["flip_rate"] <= 0.005
    model = SentimentModel(bundles.verify_directory(bundle_dir))
    happy, angry = model.predict(["love this crew, amazing flight :)", "worst airline, lost bag, rude :("])
    assert (happy.sentiment, angry.sentiment) == ("positive", "negative")


def test_convert_with_an_unreadable_previous_bundle_fails_clearly_before_converting(tiny_run, tmp_path, capsys):
    from converter.__main__ import main

    half_written = tmp_path / "store"
    half_written.mkdir()
    (half_written / bundles.LATEST_FILE).write_text("20261202-000000-deadbeef sha256:" + "0" * 64 + "\n")
    output = tmp_path / "out"
    for previous in (tmp_path / "missing", half_written):
        assert main(["convert", str(tiny_run), "--output", str(output), "--previous", str(previous)]) == 1
        assert capsys.readouterr().err.startswith("error: ")
    assert not output.exists(), "nothing converted, nothing written"

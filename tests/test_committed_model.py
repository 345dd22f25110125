"""The committed model store and the documents that describe it stay true."""

from __future__ import annotations

import re

import pytest

from sentiment import bundle as bundles
from sentiment.config import markdown_table
from sentiment.model import SentimentModel

from .functions_support import REPO

STORE = REPO / "models"


@pytest.fixture(scope="module")
def committed():
    return bundles.fetch(str(STORE))


def test_the_store_names_a_verified_bundle(committed):
    assert (STORE / bundles.LATEST_FILE).read_text().split()[0] == committed.manifest.model_version
    assert committed.model_path.stat().st_size <= 10 * 1024 * 1024, "a bundle stays under 10 MB"
    assert committed.manifest.classes == ["negative", "neutral", "positive"]
    assert (committed.directory / "MODEL_CARD.md").is_file()
    for plot in ("training_curves.png", "confusion_matrix.png", "reliability.png"):
        assert (committed.directory / "plots" / plot).is_file()


def test_the_store_holds_only_the_current_bundle():
    bundles_in_store = [p.name for p in STORE.iterdir() if p.is_dir()]
    assert bundles_in_store == [(STORE / bundles.LATEST_FILE).read_text().split()[0]]


def test_quantization_kept_parity_with_the_float_model(committed):
    parity = committed.manifest.metrics["parity_vs_keras"]
    assert parity["n"] >= 2_000 and parity["flip_rate"] <= 0.005 and parity["max_abs_diff"] <= 0.05


def test_predicted_shares_are_calibrated_on_the_test_split(committed):
    test = committed.manifest.metrics["tflite"]["test"]["all"]
    for name in committed.manifest.classes:
        assert abs(test["predicted_share"][name] - test["true_share"][name]) <= 0.03, name


def test_the_committed_model_reads_tweets_sensibly(committed):
    model = SentimentModel(committed)
    negative, positive = model.predict([
        "@AirParadis cancelled my flight and lost my bag, worst airline ever",
        "thank you for the lovely flight, the crew was amazing!",
    ])
    assert negative.sentiment == "negative" and positive.sentiment == "positive"


def test_model_card_and_manifest_name_no_machine_path(committed):
    for path in (committed.directory / "MODEL_CARD.md", committed.directory / bundles.MANIFEST_FILE):
        text = path.read_text(encoding="utf-8")
        assert str(REPO.parent) not in text and not re.search(r"(/home/|/root/|/tmp/|[A-Z]:\\\\)", text), path


def test_readme_configuration_table_is_the_registry():
    assert markdown_table() in (REPO / "README.md").read_text(encoding="utf-8"), \
        "README's configuration table is stale: paste `python -m sentiment.config`"


def test_readme_links_resolve():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (REPO / target).exists(), f"README links to missing {target}"

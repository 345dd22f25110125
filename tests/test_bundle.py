"""The bundle contract: manifest schema, sha256, tokenizer version, the model's [1, 3] output, LATEST
resolution, bad bundles. Real bundles (``bundle_factory``) on the real LiteRT interpreter."""

import json
import shutil

import pytest

from sentiment import bundle as bundles
from sentiment.errors import BundleError
from sentiment.model import SentimentModel

pytestmark = pytest.mark.slow


@pytest.fixture
def bundle_copy(serving_bundle, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(serving_bundle, target)
    return target


def rewrite_manifest(directory, **changes):
    path = directory / bundles.MANIFEST_FILE
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    path.write_text(json.dumps(data))


def test_a_good_bundle_verifies_and_loads(bundle_copy):
    local = bundles.verify_directory(bundle_copy)
    model = SentimentModel(local)
    assert model.version == local.manifest.model_version
    facts = local.manifest.public_facts()
    assert "vocabulary" not in facts and facts["vocabulary_size"] == len(local.manifest.vocabulary)
    assert facts["schema_version"] == 2 and facts["classes"] == ["negative", "neutral", "positive"]
    assert "threshold" not in facts and facts["heads"]


def test_a_binary_era_bundle_is_refused_by_name(bundle_copy):
    from .bundle_factory import as_binary_era

    as_binary_era(bundle_copy)
    with pytest.raises(BundleError, match="schema 1 is a two-class .* three classes negative/neutral/positive"):
        bundles.verify_directory(bundle_copy)


@pytest.fixture(scope="module")
def refused_graphs(tmp_path_factory):
    """Bundles whose manifest is valid but whose graph is not a [1, 3] probability per class."""
    from .bundle_factory import build_bundle

    root = tmp_path_factory.mktemp("refused")
    return {"[1, 2]": build_bundle(root, outputs=2), "[1, 1]": build_bundle(root, outputs=1),
            "sigmoids": build_bundle(root, activation="sigmoid")}


@pytest.mark.parametrize(("graph", "message"), [
    ("[1, 2]", r"output must be float32 \[1, 3\] \(the probabilities of negative, neutral, positive\), "
               r"found float32 \[1, 2\]"),
    ("[1, 1]", r"found float32 \[1, 1\]"),
    ("sigmoids", r"sum to 1\.[0-9]+, not 1"),  # three sigmoids: [1, 3], but not one probability per class
])
def test_a_graph_that_is_not_three_probabilities_is_refused_at_load(refused_graphs, graph, message):
    with pytest.raises(BundleError, match=message):
        SentimentModel(bundles.verify_directory(refused_graphs[graph]))


def test_probabilities_for_evaluation_are_n_by_3_and_sum_to_1(bundle_copy):
    import numpy as np

    model = SentimentModel(bundles.verify_directory(bundle_copy))
    texts = ["love this crew :)", "rude crew, lost bag :(", "boarding at the gate tomorrow", "ok"]
    values = model.probabilities(texts)
    assert values.shape == (4, 3) and values.dtype == np.float64
    assert np.all((values >= 0) & (values <= 1)) and np.allclose(values.sum(axis=1), 1.0, atol=1e-5)
    assert [model.predict([t])[0].sentiment for t in texts[:3]] == ["positive", "negative", "neutral"]
    for row, prediction in zip(values, model.predict(texts), strict=True):  # predict names what probabilities has
        assert prediction.sentiment == ("negative", "neutral", "positive")[int(np.argmax(row))]
        assert list(prediction.probabilities.values()) == pytest.approx(list(row), abs=1e-6)
        assert prediction.probability_positive == pytest.approx(row[2] / (row[0] + row[2]), abs=1e-6)
    assert model.probabilities([]).shape == (0, 3)


def test_tampered_model_is_refused(bundle_copy):
    model_path = bundle_copy / bundles.MODEL_FILE
    data = bytearray(model_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="sha256"):
        bundles.verify_directory(bundle_copy)


def test_truncated_model_is_refused(bundle_copy):
    model_path = bundle_copy / bundles.MODEL_FILE
    model_path.write_bytes(model_path.read_bytes()[:1000])
    with pytest.raises(BundleError, match="sha256"):
        bundles.verify_directory(bundle_copy)


def test_other_tokenizer_version_is_refused(bundle_copy):
    rewrite_manifest(bundle_copy, text_version="tweet-tokens/0")
    with pytest.raises(BundleError, match="tokenizer"):
        bundles.verify_directory(bundle_copy)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schema_version": 99}, "schema"),
        ({"model_version": None}, "lacks 'model_version'"),
        ({"model_version": "../../etc"}, "invalid model version"),
        ({"vocabulary": "not a list"}, "should be list"),
        ({"vocabulary": ["a", "b"]}, "invalid vocabulary"),
        ({"vocabulary": ["<pad>", "<oov>", 3]}, "non-string"),
        ({"quantization": "int4"}, "quantization"),
        ({"model_sha256": "abc"}, "sha256"),
        ({"classes": None}, "lacks 'classes'"),
        ({"classes": "negative,neutral,positive"}, "should be list"),
        ({"classes": ["negative", "positive"]}, "are not"),
        ({"classes": ["positive", "neutral", "negative"]}, "in that order"),
        ({"heads": 3}, "'heads' should be str or dict or list"),
        ({"max_tokens": "64"}, "should be int"),
        ({"schema_version": True}, "schema True is not 2"),
        ({"schema_version": "2"}, "schema '2' is not 2"),
    ],
)
def test_malformed_manifest_is_refused(bundle_copy, changes, message):
    rewrite_manifest(bundle_copy, **changes)
    with pytest.raises(BundleError, match=message):
        bundles.verify_directory(bundle_copy)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[1, 2]", b"\xff\xfe\x00garbage", b'{"schema_version": 2}', b'{"schema_version": 1}',
     b"null"],
    ids=["empty", "text", "array", "binary", "partial", "binary-era-partial", "null"],
)
def test_unreadable_manifest_is_refused(bundle_copy, content):
    (bundle_copy / bundles.MANIFEST_FILE).write_bytes(content)
    with pytest.raises(BundleError):
        bundles.verify_directory(bundle_copy)


def test_huge_manifest_is_refused_before_parsing(bundle_copy):
    (bundle_copy / bundles.MANIFEST_FILE).write_bytes(b" " * (bundles.MAX_MANIFEST_BYTES + 1))
    with pytest.raises(BundleError, match="larger than"):
        bundles.verify_directory(bundle_copy)


def test_missing_files_are_named(bundle_copy):
    (bundle_copy / bundles.MODEL_FILE).unlink()
    with pytest.raises(BundleError, match="no model.tflite"):
        bundles.verify_directory(bundle_copy)
    with pytest.raises(BundleError, match="no manifest.json"):
        bundles.verify_directory(bundle_copy.parent)


def test_model_that_is_not_tflite_is_refused_at_load(bundle_copy):
    import hashlib

    garbage = b"TFL3" + b"\x00" * 4096
    (bundle_copy / bundles.MODEL_FILE).write_bytes(garbage)
    rewrite_manifest(bundle_copy, model_sha256=hashlib.sha256(garbage).hexdigest())
    local = bundles.verify_directory(bundle_copy)  # the checksum matches the garbage...
    with pytest.raises(BundleError, match="runtime cannot read"):  # ...but the runtime will not take it
        SentimentModel(local)


def test_vocabulary_larger_than_the_embedding_is_caught_by_the_self_test(bundle_copy):
    manifest = json.loads((bundle_copy / bundles.MANIFEST_FILE).read_text())
    rewrite_manifest(bundle_copy, vocabulary=manifest["vocabulary"] + [f"extra{i}" for i in range(5000)])
    with pytest.raises(BundleError, match="fails on its own vocabulary"):
        SentimentModel(bundles.verify_directory(bundle_copy))


def test_store_layout_follows_latest(serving_bundle, tmp_path):
    from converter.publish import publish

    store = tmp_path / "store"
    location = publish(serving_bundle, str(store))
    version = json.loads((serving_bundle / bundles.MANIFEST_FILE).read_text())["model_version"]
    assert location == str(store / version)
    assert (store / bundles.LATEST_FILE).read_text().split()[0] == version
    for uri in (str(store), str(store / bundles.LATEST_FILE), str(store / version)):
        assert bundles.fetch(uri).manifest.model_version == version


@pytest.mark.parametrize("latest", ["", "../escape", "a" * 300, "v1\nv2"])
def test_bad_latest_pointer_is_refused(tmp_path, latest):
    (tmp_path / bundles.LATEST_FILE).write_text(latest)
    with pytest.raises(BundleError):
        bundles.fetch(str(tmp_path))


def test_nothing_at_uri(tmp_path):
    with pytest.raises(BundleError, match="neither a bundle"):
        bundles.fetch(str(tmp_path / "missing"))

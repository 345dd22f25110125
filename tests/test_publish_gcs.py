"""publish → load round trips through a real fake-gcs-server process (started by the fixture)."""

import json
import shutil

import pytest

from converter.gcs import blob
from converter.publish import latest_generation_gcs, publish, set_latest, write_latest_gcs
from sentiment import bundle as bundles
from sentiment.errors import BundleError, BundleExists, PublishConflict
from sentiment.model import SentimentModel
from sentiment.storage import GcsPath

pytestmark = pytest.mark.slow


def version_of(bundle_dir):
    return json.loads((bundle_dir / bundles.MANIFEST_FILE).read_text())["model_version"]


@pytest.fixture
def second_bundle(tiny_bundle, tmp_path):
    """The same model under another version name (a later release)."""
    target = tmp_path / "second"
    shutil.copytree(tiny_bundle, target)
    manifest = json.loads((target / bundles.MANIFEST_FILE).read_text())
    manifest["model_version"] = manifest["model_version"] + "-b"
    (target / bundles.MANIFEST_FILE).write_text(json.dumps(manifest))
    return target


def test_publish_then_load_from_gcs(tiny_bundle, bucket, tmp_path):
    store = f"gs://{bucket}/models"
    version = version_of(tiny_bundle)
    assert publish(tiny_bundle, store) == f"{store}/{version}"
    assert blob(GcsPath.parse(f"{store}/LATEST")).download_as_text().split()[0] == version
    for uri in (store, f"{store}/LATEST", f"{store}/{version}"):
        local = bundles.fetch(uri, cache_dir=tmp_path / "cache")
        assert local.manifest.model_version == version
        assert local.source == uri
    model = SentimentModel(bundles.fetch(store, cache_dir=tmp_path / "cache"))
    assert model.predict(["love this flight"])[0].model_version == version
    names = {b.name for b in blob(GcsPath(bucket, "x")).client.list_blobs(bucket)}
    assert f"models/{version}/MODEL_CARD.md" in names and f"models/{version}/plots/confusion_matrix.png" in names


def test_second_publish_of_a_version_is_refused(tiny_bundle, bucket):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store)
    with pytest.raises(BundleExists, match="immutable"):
        publish(tiny_bundle, store)


def test_tampered_model_on_gcs_is_refused(tiny_bundle, bucket, tmp_path):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store)
    model_blob = blob(GcsPath.parse(f"{store}/{version_of(tiny_bundle)}/model.tflite"))
    data = bytearray(model_blob.download_as_bytes())
    data[100] ^= 0xFF
    model_blob.upload_from_string(bytes(data))  # an attacker or a broken copy, bypassing publish
    with pytest.raises(BundleError, match="sha256"):
        bundles.fetch(store, cache_dir=tmp_path / "cache")


def test_cached_download_is_reverified(tiny_bundle, bucket, tmp_path):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store)
    local = bundles.fetch(store, cache_dir=tmp_path / "cache")
    local.model_path.write_bytes(b"corrupted on local disk")
    again = bundles.fetch(store, cache_dir=tmp_path / "cache")  # notices and downloads again
    assert bundles.sha256_file(again.model_path) == again.manifest.model_sha256


def test_latest_moves_and_rolls_back(tiny_bundle, second_bundle, bucket, tmp_path):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store)
    publish(second_bundle, store)
    assert bundles.resolve(store)[1] == version_of(second_bundle)
    set_latest(store, version_of(tiny_bundle))  # rollback
    assert bundles.resolve(store)[1] == version_of(tiny_bundle)
    with pytest.raises(BundleError, match="not a published bundle"):
        set_latest(store, "20990101-000000-deadbeef")


def test_racing_publishers_cannot_silently_overwrite_latest(tiny_bundle, second_bundle, bucket):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store, move_latest=False)
    publish(second_bundle, store, move_latest=False)
    path = GcsPath.parse(store)
    seen_by_a = latest_generation_gcs(path)  # publisher A reads LATEST (absent: generation 0)
    set_latest(store, version_of(second_bundle))  # publisher B moves it meanwhile
    with pytest.raises(PublishConflict, match="another publisher"):
        write_latest_gcs(path, version_of(tiny_bundle), seen_by_a)
    assert bundles.resolve(store)[1] == version_of(second_bundle)


def test_publish_without_latest(tiny_bundle, bucket):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store, move_latest=False)
    with pytest.raises(BundleError, match="no bundle or LATEST"):
        bundles.resolve(store)


def test_interrupted_publish_can_be_resumed(tiny_bundle, bucket):
    store = f"gs://{bucket}/models"
    version = version_of(tiny_bundle)
    blob(GcsPath.parse(f"{store}/{version}/model.tflite")).upload_from_filename(
        str(tiny_bundle / "model.tflite"))  # a first attempt died after this object
    with pytest.raises(BundleError):
        bundles.fetch(f"{store}/{version}")  # no manifest yet: not a bundle
    publish(tiny_bundle, store)
    assert bundles.resolve(store)[1] == version


def test_missing_bucket_or_object(fake_gcs):
    with pytest.raises(BundleError):
        bundles.fetch("gs://no-such-bucket/models")


def test_local_store_refuses_a_second_publish(tiny_bundle, tmp_path):
    publish(tiny_bundle, str(tmp_path))
    with pytest.raises(BundleExists):
        publish(tiny_bundle, str(tmp_path))


def test_local_latest_lock(tiny_bundle, tmp_path):
    publish(tiny_bundle, str(tmp_path))
    (tmp_path / ".LATEST.lock").touch()  # another publisher is mid-move
    with pytest.raises(PublishConflict):
        set_latest(str(tmp_path), version_of(tiny_bundle))


def test_manifest_without_its_model_is_refused_and_leaves_no_partial_file(tiny_bundle, bucket, tmp_path):
    store = f"gs://{bucket}/models"
    publish(tiny_bundle, store)
    version = version_of(tiny_bundle)
    blob(GcsPath.parse(f"{store}/{version}/model.tflite")).delete()  # a store damaged after publication
    cache = tmp_path / "cache"
    with pytest.raises(BundleError, match="incomplete bundle"):
        bundles.fetch(store, cache_dir=cache)
    assert not [p for p in cache.rglob("*") if p.name.endswith(".part")]

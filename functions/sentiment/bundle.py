"""The artifact bundle: ``model.tflite`` + ``manifest.json``, found locally or on GCS, verified.

Layout of a published model store (a local directory or ``gs://bucket/prefix``)::

    LATEST                 one line: the current version
    <version>/manifest.json
    <version>/model.tflite
    <version>/...          model card, plots (informational)

A model URI may name a bundle directory, a store (its LATEST is followed) or a LATEST file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import text
from .errors import BundleError

SCHEMA_VERSION = 1
MODEL_FILE = "model.tflite"
MANIFEST_FILE = "manifest.json"
LATEST_FILE = "LATEST"
QUANTIZATIONS = ("dynamic", "float16", "float32")
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MODEL_BYTES = 64 * 1024 * 1024
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# The repository's committed store: the local default when no MODEL_URI is configured.
DEFAULT_MODEL_STORE = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class Manifest:
    model_version: str
    text_version: str
    vocabulary: list[str]
    model_sha256: str
    quantization: str
    created_at: str
    max_tokens: int = text.MAX_TOKENS
    threshold: float = 0.5
    metrics: dict[str, Any] = field(default_factory=dict)
    frameworks: dict[str, str] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    _REQUIRED = {
        "schema_version": int, "model_version": str, "text_version": str, "vocabulary": list,
        "model_sha256": str, "quantization": str, "created_at": str,
    }
    _OPTIONAL = {
        "max_tokens": int, "threshold": float, "metrics": dict, "frameworks": dict, "training": dict,
    }

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        if not isinstance(data, dict):
            raise BundleError("manifest is not a JSON object")
        for key, kind in {**cls._REQUIRED, **cls._OPTIONAL}.items():
            if key not in data:
                if key in cls._REQUIRED:
                    raise BundleError(f"manifest lacks {key!r}")
                continue
            value = data[key]
            ok = isinstance(value, kind) and not isinstance(value, bool)
            if kind is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok:
                raise BundleError(f"manifest field {key!r} should be {kind.__name__}")
        known = {k: data[k] for k in (*cls._REQUIRED, *cls._OPTIONAL) if k in data}
        manifest = cls(**known)
        manifest.validate()
        return manifest

    def validate(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise BundleError(
                f"manifest schema {self.schema_version} is not {SCHEMA_VERSION}, the one this code reads"
            )
        if self.text_version != text.TEXT_VERSION:
            raise BundleError(
                f"bundle was built with tokenizer {self.text_version!r}, this code has "
                f"{text.TEXT_VERSION!r}: retrain or deploy matching code"
            )
        if not VERSION_PATTERN.match(self.model_version):
            raise BundleError(f"invalid model version {self.model_version!r}")
        if self.quantization not in QUANTIZATIONS:
            raise BundleError(f"unknown quantization {self.quantization!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", self.model_sha256):
            raise BundleError("model_sha256 is not a hex sha256")
        if not all(isinstance(t, str) for t in self.vocabulary):
            raise BundleError("vocabulary holds a non-string token")
        try:
            text.Vocabulary(self.vocabulary)
        except ValueError as error:
            raise BundleError(f"invalid vocabulary: {error}") from None
        if not 0.0 < self.threshold < 1.0:
            raise BundleError("threshold must lie strictly between 0 and 1")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "model_version": self.model_version,
            "text_version": self.text_version,
            "max_tokens": self.max_tokens,
            "quantization": self.quantization,
            "threshold": self.threshold,
            "model_sha256": self.model_sha256,
            "created_at": self.created_at,
            "metrics": self.metrics,
            "frameworks": self.frameworks,
            "training": self.training,
            "vocabulary": self.vocabulary,
        }

    def public_facts(self) -> dict[str, Any]:
        """What may be shown to API clients: everything but the vocabulary."""
        facts = self.to_dict()
        facts.pop("vocabulary")
        facts["vocabulary_size"] = len(self.vocabulary)
        return facts


@dataclass(frozen=True)
class LocalBundle:
    """A verified bundle on local disk."""

    directory: Path
    manifest: Manifest
    source: str  # the URI it came from, for logs

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_manifest(raw: bytes) -> Manifest:
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"manifest is not valid UTF-8 JSON: {error}") from None
    return Manifest.from_dict(data)


def verify_directory(directory: Path, source: str | None = None) -> LocalBundle:
    """Check a bundle directory: manifest schema, tokenizer version and the model's sha256."""
    manifest_path, model_path = directory / MANIFEST_FILE, directory / MODEL_FILE
    if not manifest_path.is_file():
        raise BundleError(f"no {MANIFEST_FILE} in {directory}")
    if not model_path.is_file():
        raise BundleError(f"no {MODEL_FILE} in {directory}")
    manifest = parse_manifest(manifest_path.read_bytes())
    if model_path.stat().st_size > MAX_MODEL_BYTES:
        raise BundleError(f"{MODEL_FILE} is larger than {MAX_MODEL_BYTES} bytes")
    actual = sha256_file(model_path)
    if actual != manifest.model_sha256:
        raise BundleError(
            f"{MODEL_FILE} sha256 {actual[:12]}… does not match the manifest's "
            f"{manifest.model_sha256[:12]}…: refusing a tampered or truncated model"
        )
    return LocalBundle(directory, manifest, source or str(directory))


def parse_version(raw: bytes, where: str) -> str:
    version = raw.decode("utf-8", errors="replace").strip()
    if not VERSION_PATTERN.match(version):
        raise BundleError(f"{where} does not name a valid version: {version[:80]!r}")
    return version


# --- locating a bundle ------------------------------------------------------------------------


def resolve(uri: str) -> tuple[str, str | None]:
    """Return (bundle location, version named by LATEST or None) without downloading a model."""
    if uri.startswith("gs://"):
        return _resolve_gcs(uri)
    path = Path(uri)
    if path.is_file() and path.name == LATEST_FILE:
        version = parse_version(path.read_bytes(), str(path))
        return str(path.parent / version), version
    if (path / MANIFEST_FILE).is_file():
        return str(path), None
    if (path / LATEST_FILE).is_file():
        version = parse_version((path / LATEST_FILE).read_bytes(), str(path / LATEST_FILE))
        return str(path / version), version
    raise BundleError(f"{uri} is neither a bundle directory nor a store with a {LATEST_FILE} file")


def _resolve_gcs(uri: str) -> tuple[str, str | None]:
    from google.api_core import exceptions as gexc

    from .storage import GcsPath, blob, call_options

    path = GcsPath.parse(uri)
    try:
        if path.name.rsplit("/", 1)[-1] == LATEST_FILE:
            store = GcsPath(path.bucket, path.name[: -len(LATEST_FILE)].rstrip("/"))
            version = parse_version(blob(path).download_as_bytes(**call_options()), uri)
            return str(store.child(version)), version
        if blob(path.child(MANIFEST_FILE)).exists(**call_options()):
            return str(path), None
        latest = path.child(LATEST_FILE)
        version = parse_version(blob(latest).download_as_bytes(**call_options()), str(latest))
        return str(path.child(version)), version
    except gexc.NotFound:
        raise BundleError(f"no bundle or {LATEST_FILE} at {uri}") from None


def fetch(uri: str, cache_dir: Path | None = None) -> LocalBundle:
    """Find, download if remote, and verify the bundle that ``uri`` names."""
    location, _ = resolve(uri)
    return fetch_location(location, cache_dir, source=uri)


def fetch_location(location: str, cache_dir: Path | None = None, source: str | None = None) -> LocalBundle:
    """Download if remote and verify the bundle directory ``location`` (as ``resolve`` returns it)."""
    if not location.startswith("gs://"):
        return verify_directory(Path(location), source=source or location)
    return _download(location, cache_dir, source or location)


def _download(location: str, cache_dir: Path | None, source: str) -> LocalBundle:
    from google.api_core import exceptions as gexc

    from .storage import GcsPath, blob, call_options

    remote = GcsPath.parse(location)
    target = (cache_dir or Path(tempfile.gettempdir()) / "sentiment-models") / remote.bucket / remote.name
    partial = target / f".{MODEL_FILE}.{os.getpid()}.part"
    try:
        manifest_raw = blob(remote.child(MANIFEST_FILE)).download_as_bytes(**call_options())
        manifest = parse_manifest(manifest_raw)
        target.mkdir(parents=True, exist_ok=True)
        model_path = target / MODEL_FILE
        if not (model_path.is_file() and sha256_file(model_path) == manifest.model_sha256):
            model_blob = blob(remote.child(MODEL_FILE))
            model_blob.reload(**call_options())
            if (model_blob.size or 0) > MAX_MODEL_BYTES:
                raise BundleError(f"{location}/{MODEL_FILE} is larger than {MAX_MODEL_BYTES} bytes")
            model_blob.download_to_filename(str(partial), **call_options())
            os.replace(partial, model_path)  # atomic: a concurrent reader never sees half a model
        _write_atomically(target / MANIFEST_FILE, manifest_raw)
    except gexc.NotFound as error:
        raise BundleError(f"incomplete bundle at {location}: {error.message}") from None
    finally:
        partial.unlink(missing_ok=True)  # a download that failed half-way leaves nothing behind
    return verify_directory(target, source=source)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)

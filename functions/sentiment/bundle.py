"""The artifact bundle: ``model.tflite`` + ``manifest.json``, found locally or on GCS, verified.

Layout of a published model store (a local directory or ``gs://bucket/prefix``)::

    LATEST                 one line: the current version
    <version>/manifest.json
    <version>/model.tflite
    <version>/...          model card, plots (informational)

A model URI may name a bundle directory, a store (its LATEST is followed) or a LATEST file.
``resolve`` turns it into a typed location (``Path`` or ``GcsPath``) without downloading a model;
``fetch`` reads that bundle once (manifest parsed once, model bytes hashed once) and returns it
verified, in memory: the interpreter is built from those bytes, so nothing that later happens to a
file can change the model under it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from . import text
from .errors import BundleError, ObjectNotFound
from .prediction import CLASSES
from .storage import GcsPath, GcsReader, Location, parse_location

# 2: three classes (``classes``, an output of one probability per class); 1 was the binary model
# (one sigmoid output and a ``threshold``), which this code no longer serves.
SCHEMA_VERSION = 2
MODEL_FILE = "model.tflite"
MANIFEST_FILE = "manifest.json"
LATEST_FILE = "LATEST"
QUANTIZATIONS = ("dynamic", "float16", "float32")
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MODEL_BYTES = 64 * 1024 * 1024
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # always used with fullmatch


@dataclass(frozen=True)
class Manifest:
    model_version: str
    text_version: str
    vocabulary: list[str]
    model_sha256: str
    quantization: str
    created_at: str
    classes: list[str] = field(default_factory=lambda: list(CLASSES))
    heads: str | dict | list = ""  # what the network's heads are, in a sentence or a small object: shown as is
    max_tokens: int = text.MAX_TOKENS
    metrics: dict[str, Any] = field(default_factory=dict)
    frameworks: dict[str, str] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    vocab: text.Vocabulary = field(init=False, repr=False, compare=False)  # built once, from ``vocabulary``

    _REQUIRED = {
        "schema_version": int, "model_version": str, "text_version": str, "vocabulary": list,
        "model_sha256": str, "quantization": str, "created_at": str, "classes": list,
    }
    _OPTIONAL = {
        "heads": (str, dict, list), "max_tokens": int, "metrics": dict, "frameworks": dict, "training": dict,
    }

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        if not isinstance(data, dict):
            raise BundleError("manifest is not a JSON object")
        if "schema_version" in data:
            _check_schema(data["schema_version"])
        for key, kind in {**cls._REQUIRED, **cls._OPTIONAL}.items():
            if key not in data:
                if key in cls._REQUIRED:
                    raise BundleError(f"manifest lacks {key!r}")
                continue
            value = data[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
                raise BundleError(f"manifest field {key!r} should be {names}")
        known = {k: data[k] for k in (*cls._REQUIRED, *cls._OPTIONAL) if k in data}
        return cls(**known)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _check_schema(self.schema_version)
        if list(self.classes) != list(CLASSES):
            raise BundleError(f"manifest classes {self.classes!r} are not {list(CLASSES)!r}, the outputs this code "
                              "serves, in that order")
        if self.text_version != text.TEXT_VERSION:
            raise BundleError(
                f"bundle was built with tokenizer {self.text_version!r}, this code has "
                f"{text.TEXT_VERSION!r}: retrain or deploy matching code"
            )
        if not VERSION_PATTERN.fullmatch(self.model_version):
            raise BundleError(f"invalid model version {self.model_version!r}")
        if self.quantization not in QUANTIZATIONS:
            raise BundleError(f"unknown quantization {self.quantization!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", self.model_sha256):
            raise BundleError("model_sha256 is not a hex sha256")
        if not all(isinstance(t, str) for t in self.vocabulary):
            raise BundleError("vocabulary holds a non-string token")
        try:
            object.__setattr__(self, "vocab", text.Vocabulary(self.vocabulary))
        except ValueError as error:
            raise BundleError(f"invalid vocabulary: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "model_version": self.model_version,
            "text_version": self.text_version,
            "max_tokens": self.max_tokens,
            "quantization": self.quantization,
            "classes": list(self.classes),
            "heads": self.heads,
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


def _check_schema(version: Any) -> None:
    """Before any other field: a bundle of another schema is named as such, not as a missing field."""
    if version == 1 and not isinstance(version, bool):
        raise BundleError(f"manifest schema 1 is a two-class (negative/positive) bundle; this code serves schema "
                          f"{SCHEMA_VERSION}, three classes {'/'.join(CLASSES)}: deploy a three-class bundle")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise BundleError(f"manifest schema {version!r} is not {SCHEMA_VERSION}, the one this code reads")


@dataclass(frozen=True)
class Bundle:
    """A verified bundle, in memory: its manifest and the bytes of its model (what the interpreter runs)."""

    manifest: Manifest
    model_content: bytes = field(repr=False)
    directory: Path  # the local copy it was read from (for a remote bundle: the cache), with its model card
    source: str  # where it came from, for logs

    @property
    def version(self) -> str:
        return self.manifest.model_version

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
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BundleError(f"manifest is not valid UTF-8 JSON: {error}"[:300]) from None
    return Manifest.from_dict(data)


def verified(manifest: Manifest, model_content: bytes, directory: Path, source: str) -> Bundle:
    """The bundle, once the model's bytes are known to be the ones the manifest names."""
    actual = hashlib.sha256(model_content).hexdigest()
    if actual != manifest.model_sha256:
        raise BundleError(
            f"{MODEL_FILE} sha256 {actual[:12]}… does not match the manifest's "
            f"{manifest.model_sha256[:12]}…: refusing a tampered or truncated model"
        )
    return Bundle(manifest, model_content, directory, source)


def verify_directory(directory: Path, source: str | None = None, manifest_sha256: str | None = None) -> Bundle:
    """Read and check a bundle directory: the manifest's own sha256 (when LATEST named one), its schema,
    tokenizer version, and the model's sha256."""
    manifest_path, model_path = directory / MANIFEST_FILE, directory / MODEL_FILE
    if not manifest_path.is_file():
        raise BundleError(f"no {MANIFEST_FILE} in {directory}")
    if not model_path.is_file():
        raise BundleError(f"no {MODEL_FILE} in {directory}")
    raw = _read_bounded(manifest_path, MAX_MANIFEST_BYTES)
    check_manifest_sha256(raw, manifest_sha256, directory)
    manifest = parse_manifest(raw)
    model_content = _read_bounded(model_path, MAX_MODEL_BYTES)
    return verified(manifest, model_content, directory, source or str(directory))


def _read_bounded(path: Path, limit: int) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"{path.name} is larger than {limit} bytes")
    return data


# --- locating a bundle ------------------------------------------------------------------------
#
# LATEST holds one line: "<version> sha256:<sha256 of that version's manifest.json>". The manifest names
# the model's sha256 and holds the vocabulary, so from LATEST down every byte that decides a score is
# covered: a manifest edited in place (a shuffled vocabulary, a swapped model hash) no longer matches.

_LATEST_LINE = re.compile(r"(?P<version>[A-Za-z0-9][A-Za-z0-9._-]{0,127}) sha256:(?P<sha256>[0-9a-f]{64})")


class Resolved(NamedTuple):
    """Where a model URI leads: the bundle's location, the version LATEST named (None: the URI named a
    bundle, not a store) and the sha256 LATEST gave for its manifest."""

    location: Location
    version: str | None
    manifest_sha256: str | None = None


def latest_line(version: str, manifest_sha256: str) -> str:
    line = f"{version} sha256:{manifest_sha256}"
    if not _LATEST_LINE.fullmatch(line):
        raise BundleError(f"invalid LATEST line {line!r}")
    return line + "\n"


def parse_latest(raw: bytes, where: str) -> tuple[str, str]:
    """(version, manifest sha256) of a LATEST file; BundleError for anything else."""
    if len(raw) > 1024:
        raise BundleError(f"{where} is larger than a LATEST line")
    line = raw.decode("utf-8", errors="replace").strip()
    match = _LATEST_LINE.fullmatch(line)
    if match is None:
        hint = " (written by an older publisher: `python -m converter promote STORE VERSION` rewrites it)" \
            if VERSION_PATTERN.fullmatch(line) else ""
        raise BundleError(f"{where} is not '<version> sha256:<manifest sha256>': {line[:80]!r}{hint}")
    return match["version"], match["sha256"]


def check_manifest_sha256(raw: bytes, expected: str | None, where: object) -> None:
    if expected is not None and hashlib.sha256(raw).hexdigest() != expected:
        raise BundleError(f"the manifest of {where} is not the one LATEST names (sha256 differs): refusing a "
                          "bundle changed after publication")


def resolve(uri: str | Location, reader: GcsReader | None = None) -> Resolved:
    """The bundle that ``uri`` names, following LATEST, without downloading a model."""
    location = parse_location(uri)
    if isinstance(location, GcsPath):
        return _resolve_gcs(location, reader or default_reader())
    if location.is_file() and location.name == LATEST_FILE:
        return _following(location.parent, location.read_bytes(), str(location))
    if (location / MANIFEST_FILE).is_file():
        return Resolved(location, None)
    if (location / LATEST_FILE).is_file():
        return _following(location, (location / LATEST_FILE).read_bytes(), str(location / LATEST_FILE))
    raise BundleError(f"{uri} is neither a bundle directory nor a store with a {LATEST_FILE} file")


def _following(store: Location, raw: bytes, where: str) -> Resolved:
    version, manifest_sha256 = parse_latest(raw, where)
    location = store.child(version) if isinstance(store, GcsPath) else store / version
    return Resolved(location, version, manifest_sha256)


def _resolve_gcs(path: GcsPath, reader: GcsReader) -> Resolved:
    """A LATEST object, a bundle prefix (it has a manifest) or a store prefix (it has a LATEST)."""
    latest = path if path.basename == LATEST_FILE else path.child(LATEST_FILE)
    try:
        return _following(latest.parent, reader.read(latest, 1024), str(latest))
    except ObjectNotFound:
        if latest is not path and reader.exists(path.child(MANIFEST_FILE)):
            return Resolved(path, None)  # no LATEST: the prefix is a bundle
    raise BundleError(f"no bundle or {LATEST_FILE} at {path}")


def default_reader() -> GcsReader:
    """A reader configured from the environment, for callers without a configuration of their own."""
    from .config import Config

    return GcsReader.from_config(Config.from_env())


def fetch(uri: str | Location | Resolved, cache_dir: Path | None = None, reader: GcsReader | None = None) -> Bundle:
    """Find, read (download if remote) and verify the bundle that ``uri`` names."""
    resolved = uri if isinstance(uri, Resolved) else resolve(uri, reader)
    source = str(uri.location if isinstance(uri, Resolved) else uri)
    if isinstance(resolved.location, GcsPath):
        bundle = _download(resolved, cache_dir, reader or default_reader(), source)
    else:
        bundle = verify_directory(resolved.location, source, resolved.manifest_sha256)
    if resolved.version is not None and bundle.version != resolved.version:
        raise BundleError(f"LATEST names {resolved.version!r} but the manifest there says {bundle.version!r}")
    return bundle


def cache_root(cache_dir: Path | None) -> Path:
    return cache_dir or Path(tempfile.gettempdir()) / "sentiment-models"


def _download(resolved: Resolved, cache_dir: Path | None, reader: GcsReader, source: str) -> Bundle:
    """Manifest, then the model unless the cache holds the exact bytes; the cache copy written atomically,
    and, for a store, the LATEST line it followed (what a restart falls back on when GCS is down)."""
    location = resolved.location
    target = cache_root(cache_dir) / location.bucket / location.name
    try:
        manifest_raw = reader.read(location.child(MANIFEST_FILE), MAX_MANIFEST_BYTES)
    except ObjectNotFound:
        raise BundleError(f"no bundle at {location}: it has neither {LATEST_FILE} nor {MANIFEST_FILE}") from None
    check_manifest_sha256(manifest_raw, resolved.manifest_sha256, location)
    manifest = parse_manifest(manifest_raw)
    cached = target / MODEL_FILE
    content = cached.read_bytes() if cached.is_file() and cached.stat().st_size <= MAX_MODEL_BYTES else b""
    if hashlib.sha256(content).hexdigest() != manifest.model_sha256:
        try:
            content = reader.read(location.child(MODEL_FILE), MAX_MODEL_BYTES)
        except ObjectNotFound:
            raise BundleError(f"incomplete bundle at {location}: no {MODEL_FILE}") from None
    bundle = verified(manifest, content, target, source)
    target.mkdir(parents=True, exist_ok=True)
    _write_atomically(cached, content)
    _write_atomically(target / MANIFEST_FILE, manifest_raw)
    if resolved.version is not None and resolved.manifest_sha256 is not None:
        _write_atomically(target.parent / LATEST_FILE, latest_line(resolved.version, resolved.manifest_sha256)
                          .encode("ascii"))
    return bundle


def recall(uri: str | Location, cache_dir: Path | None = None) -> Resolved | None:
    """The last LATEST of a ``gs://`` store that this cache followed, pointing into the cache, or None.

    For a restart while Cloud Storage is unreachable: the bundle it names is verified from the cache
    like any local bundle (its manifest against the LATEST line, its model against the manifest).
    """
    location = parse_location(uri)
    if not isinstance(location, GcsPath):
        return None
    store = location.parent if location.basename == LATEST_FILE else location
    recorded = cache_root(cache_dir) / store.bucket / store.name / LATEST_FILE
    if not recorded.is_file():
        return None
    return _following(recorded.parent, recorded.read_bytes(), str(recorded))
def _write_atomically(path: Path, data: bytes) -> None:
    """A concurrent reader sees the old file or the new one, whole; a failed write leaves nothing behind."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)

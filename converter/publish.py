"""Publish a bundle to a model store (``gs://bucket/prefix`` or a local directory), then move LATEST.

A published version is immutable: every object is created with ``if_generation_match=0`` (the
manifest last, so a reader that sees it sees a complete bundle). LATEST is replaced with a
precondition on the generation we read, so of two racing publishers one fails loudly instead of
silently undoing the other.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from sentiment import bundle as bundles
from sentiment.errors import BundleError, BundleExists, PublishConflict
from sentiment.storage import GcsPath

from .gcs import blob

log = logging.getLogger(__name__)


def bundle_files(bundle_dir: Path) -> list[Path]:
    """Every file of the bundle, the manifest last."""
    files = sorted(p for p in bundle_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    return sorted(files, key=lambda p: p.name == bundles.MANIFEST_FILE)


def publish(bundle_dir: Path, store: str, move_latest: bool = True) -> str:
    """Upload ``bundle_dir`` under ``store/<version>/``; return that location."""
    local = bundles.verify_directory(Path(bundle_dir))
    version = local.manifest.model_version
    if store.startswith("gs://"):
        location = _publish_gcs(local, GcsPath.parse(store), version)
    else:
        location = _publish_local(local, Path(store), version)
    if move_latest:
        set_latest(store, version)
    return location


def _publish_gcs(local: bundles.Bundle, store: GcsPath, version: str) -> str:
    from google.api_core.exceptions import PreconditionFailed

    target = store.child(version)
    for path in bundle_files(local.directory):
        name = path.relative_to(local.directory).as_posix()
        remote = blob(target.child(name))
        try:
            remote.upload_from_filename(str(path), if_generation_match=0, content_type=_content_type(path))
        except PreconditionFailed:
            if name == bundles.MANIFEST_FILE:
                raise BundleExists(f"{target} is already published: versions are immutable") from None
            if not _same_content(remote, path):  # an earlier publish stopped half-way: resume it
                raise BundleExists(f"{target}/{name} exists with other content") from None
        log.info("uploaded %s", target.child(name))
    return str(target)


def _same_content(remote, path: Path) -> bool:
    import base64
    import hashlib

    remote.reload()
    local_md5 = base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()
    return remote.md5_hash == local_md5


def _content_type(path: Path) -> str:
    return {".json": "application/json", ".md": "text/markdown", ".png": "image/png"}.get(
        path.suffix, "application/octet-stream"
    )


def _publish_local(local: bundles.Bundle, store: Path, version: str) -> str:
    target = store / version
    if target.exists():
        raise BundleExists(f"{target} is already published: versions are immutable")
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=store))
    try:
        for path in bundle_files(local.directory):
            destination = staging / path.relative_to(local.directory)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        try:
            os.rename(staging, target)  # atomic; fails if another publisher got there first
        except OSError:
            raise BundleExists(f"{target} is already published: versions are immutable") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def set_latest(store: str, version: str) -> None:
    """Point LATEST at an already published version (also how a rollback is done): "<version>
    sha256:<its manifest's sha256>", so a manifest changed after publication is refused by readers."""
    if not bundles.VERSION_PATTERN.fullmatch(version):
        raise BundleError(f"invalid version {version!r}")
    if store.startswith("gs://"):
        _set_latest_gcs(GcsPath.parse(store), version)
    else:
        _set_latest_local(Path(store), version)
    log.info("LATEST of %s now names %s", store, version)


def _set_latest_gcs(store: GcsPath, version: str) -> None:
    from google.api_core.exceptions import NotFound

    try:
        manifest = blob(store.child(version).child(bundles.MANIFEST_FILE)).download_as_bytes()
    except NotFound:
        raise BundleError(f"{store.child(version)} is not a published bundle") from None
    bundles.parse_manifest(manifest)  # a readable manifest of this code's schema, or BundleError
    write_latest_gcs(store, bundles.latest_line(version, hashlib.sha256(manifest).hexdigest()),
                     latest_generation_gcs(store))


def latest_generation_gcs(store: GcsPath) -> int:
    """The generation of LATEST, or 0 (the precondition for "does not exist yet")."""
    from google.api_core.exceptions import NotFound

    latest = blob(store.child(bundles.LATEST_FILE))
    try:
        latest.reload()
    except NotFound:
        return 0
    return int(latest.generation)


def write_latest_gcs(store: GcsPath, line: str, expected_generation: int) -> None:
    """Replace LATEST with ``line`` only if it is still at ``expected_generation``."""
    from google.api_core.exceptions import PreconditionFailed

    latest = blob(store.child(bundles.LATEST_FILE))
    latest.cache_control = "no-cache"  # readers must see a move at once
    try:
        latest.upload_from_string(line, content_type="text/plain", if_generation_match=expected_generation)
    except PreconditionFailed:
        raise PublishConflict(
            f"another publisher moved {store.child(bundles.LATEST_FILE)} meanwhile; check it and retry"
        ) from None


def _set_latest_local(store: Path, version: str) -> None:
    if not (store / version / bundles.MANIFEST_FILE).is_file():
        raise BundleError(f"{store / version} is not a published bundle")
    manifest = (store / version / bundles.MANIFEST_FILE).read_bytes()
    bundles.parse_manifest(manifest)
    line = bundles.latest_line(version, hashlib.sha256(manifest).hexdigest())
    lock = store / f".{bundles.LATEST_FILE}.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise PublishConflict(f"another publisher is moving {store / bundles.LATEST_FILE} ({lock})") from None
    try:
        partial = store / f".{bundles.LATEST_FILE}.{os.getpid()}"
        partial.write_text(line)
        os.replace(partial, store / bundles.LATEST_FILE)
    finally:
        os.close(fd)
        lock.unlink()

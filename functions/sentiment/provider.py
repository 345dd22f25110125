"""The model of this instance: loaded lazily once, then kept current with the store's LATEST.

- First use loads the model under a lock; concurrent first requests wait for that one load.
- When the store cannot be reached at all, the bundle this instance's cache last verified for the
  same store is served (a restart while Cloud Storage is down), and the refresh catches up later.
- A failed load is remembered for a few seconds (callers answer 503 fast instead of piling up
  downloads), then retried by the next request.
- Every ``refresh_seconds`` a request starts a background check of LATEST; a newer version is
  loaded and verified off the request path and swapped in with one reference assignment, so no
  request fails or waits during a swap. A bundle that fails verification is refused and the
  current model keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import bundle as bundles
from .errors import BundleError, ModelUnavailable, Transient
from .storage import GcsReader

if TYPE_CHECKING:
    from .model import SentimentModel

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # how long a failed load is remembered, and what clients are told to wait


class ModelProvider:
    def __init__(
        self,
        uri: str,
        refresh_seconds: float = 0,
        cache_dir: str | None = None,
        reader: GcsReader | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_load: Callable[[float, str], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ):
        self.uri = uri
        self.refresh_seconds = refresh_seconds
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.reader = reader
        self._clock = clock
        self._on_load = on_load or (lambda seconds, version: None)
        self._on_failure = on_failure or (lambda reason: None)
        self._model: SentimentModel | None = None
        self._load_lock = threading.Lock()
        self._failed_at: float | None = None
        self._failure: str | None = None
        self._next_check = 0.0
        self._refreshing = threading.Lock()

    @property
    def current(self) -> SentimentModel | None:
        """The loaded model, or None; never loads (for /health)."""
        return self._model

    def get(self) -> SentimentModel:
        """The current model, loading it on first use; raises ModelUnavailable when it cannot be had."""
        model = self._model
        if model is None:
            model = self._load_first()
        elif self.refresh_seconds and self._clock() >= self._next_check:
            self._start_refresh()
        return model

    def _load_first(self) -> SentimentModel:
        with self._load_lock:  # concurrent first requests wait here for the same load
            if self._model is not None:
                return self._model
            if self._failed_at is not None and self._clock() - self._failed_at < RETRY_AFTER_SECONDS:
                raise ModelUnavailable(self._failure or "model unavailable")
            try:
                started = time.perf_counter()
                warming = _warm_runtime()  # numpy + LiteRT imports overlap the bundle's download
                try:
                    resolved = self._resolve()
                except Transient as error:  # Cloud Storage unreachable: the last verified bundle, if cached
                    resolved = bundles.recall(self.uri, self.cache_dir)
                    if resolved is None:
                        raise
                    log.warning("model store unreachable (%s): serving %s from the cache until it answers",
                                _describe(error), resolved.version, extra={"model_uri": self.uri})
                self._model = self._load(resolved, started, warming)
            except Exception as error:  # any failure: answer 503 / retry later, never guess a score
                self._failed_at, self._failure = self._clock(), _describe(error)
                self._on_failure("invalid_bundle" if isinstance(error, BundleError) else "unavailable")
                log.error("model load failed: %s", self._failure, extra={"model_uri": self.uri})
                raise ModelUnavailable(self._failure) from None
            self._failed_at = self._failure = None
            self._next_check = self._clock() + self.refresh_seconds
            return self._model

    def _resolve(self) -> bundles.Resolved:
        return bundles.resolve(self.uri, self.reader)

    def _load(self, resolved: bundles.Resolved, started: float,
              warming: threading.Thread | None = None) -> SentimentModel:
        """Fetch, verify and interpret a resolved bundle; the load-latency metric counts from ``started``
        (before LATEST was read), so it measures what a waiting request waits for."""
        bundle = bundles.fetch(resolved, self.cache_dir, self.reader)
        if warming is not None:
            warming.join()
        from . import model as models  # the runtime (numpy, LiteRT): imported by the first load, not at start

        model = models.load(bundle)
        seconds = time.perf_counter() - started
        self._on_load(seconds, model.version)
        log.info("model %s loaded from %s in %.0f ms", model.version, resolved.location, seconds * 1000,
                 extra={"model_version": model.version})
        return model

    def _start_refresh(self) -> None:
        if not self._refreshing.acquire(blocking=False):
            return  # a check is already running
        self._next_check = self._clock() + self.refresh_seconds
        threading.Thread(target=self._refresh, name="model-refresh", daemon=True).start()

    def _refresh(self) -> None:
        try:
            self.refresh_now()
        finally:
            self._refreshing.release()

    def refresh_now(self) -> bool:
        """Check LATEST and swap in a newer version; True when the model changed. Never raises."""
        current = self._model
        try:
            started = time.perf_counter()
            resolved = self._resolve()
            if resolved.version is None or (current is not None and resolved.version == current.version):
                return False
            model = self._load(resolved, started)
        except Exception as error:
            reason = "invalid_bundle" if isinstance(error, BundleError) else "unavailable"
            self._on_failure(reason)
            log.error("model refresh refused, keeping %s: %s", current.version if current else None,
                      _describe(error), extra={"model_uri": self.uri})
            return False
        self._model = model  # one reference assignment: requests see the old or the new model, whole
        log.info("model swapped: %s -> %s", current.version if current else None, model.version)
        return True


def _warm_runtime() -> threading.Thread:
    """Import the runtime in the background: CPU-bound imports while the request thread waits on the network."""

    def warm() -> None:
        try:
            from . import model

            model.interpreter_class()
        except Exception:  # the load itself reports a missing runtime, with its reason
            pass

    thread = threading.Thread(target=warm, name="runtime-import", daemon=True)
    thread.start()
    return thread


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]

"""The state one function instance keeps between requests, created on first use.

Cold start matters: importing this module is cheap (configuration is parsed, nothing is loaded);
the model, the Pub/Sub client and the Monitoring client are each created by the first request that
needs them, once per instance. This module knows nothing of HTTP or Pub/Sub: ``main.py`` hands the
instance to ``http_api`` or ``pubsub_api``.

The notifier function keeps other state (``notifier()``: its webhook, what it posted, its per-brand
limits) and never creates the scoring one: no model, no metrics.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from . import logs
from .config import Config
from .feedback import FeedbackGate
from .notify.notifier import Notifier
from .provider import ModelProvider
from .publisher import Publisher
from .scoring import Scorer
from .storage import GcsReader
from .telemetry import Telemetry

log = logging.getLogger(__name__)


class SeenMessages:
    """Ids of messages this instance already handled, bounded (oldest forgotten first)."""

    def __init__(self, capacity: int = 100_000):
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._ids

    def add(self, message_id: str) -> None:
        with self._lock:
            self._ids[message_id] = None
            self._ids.move_to_end(message_id)
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)


@dataclass
class Instance:
    config: Config
    provider: ModelProvider
    publisher: Publisher
    telemetry: Telemetry
    scorer: Scorer
    feedback: FeedbackGate
    seen_messages: SeenMessages = field(default_factory=SeenMessages)

    @classmethod
    def from_config(cls, config: Config, publisher: Publisher | None = None,
                    telemetry: Telemetry | None = None) -> Instance:
        publisher = publisher or Publisher(config)
        telemetry = telemetry or Telemetry(config)
        provider = ModelProvider(
            config.model_uri, config.model_refresh_seconds, config.model_cache_dir or None,
            reader=GcsReader.from_config(config),
            on_load=lambda seconds, version: telemetry.record_model_load(seconds, version),
            on_failure=telemetry.record_model_load_failure,
        )
        return cls(config, provider, publisher, telemetry, Scorer(provider.get, telemetry.record_scored),
                   FeedbackGate(config.feedback_per_minute))


_instance: Instance | None = None
_notifier: Notifier | None = None
_config: Config | None = None
_lock = threading.Lock()


def configure(config: Config | None = None) -> Config:
    """Parse the environment now (fail fast on a bad variable, naming it) and set up logging."""
    global _config
    _config = config or Config.from_env()
    logs.configure(_config.log_level)
    return _config


def current() -> Instance:
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Instance.from_config(_config or configure())
                _install_shutdown_hooks(_instance)
    return _instance


def use(instance: Instance | None) -> None:
    """Replace the instance state (tests; a reconfiguration)."""
    global _instance
    with _lock:
        _instance = instance


def notifier() -> Notifier:
    """The notifier function's state; ConfigError (retried, then dead-lettered) while it has no webhook URL."""
    global _notifier
    if _notifier is None:
        with _lock:
            if _notifier is None:
                _notifier = Notifier(_config or configure())
    return _notifier


def use_notifier(state: Notifier | None) -> None:
    """Replace the notifier's state (tests)."""
    global _notifier
    with _lock:
        _notifier = state


def _install_shutdown_hooks(instance: Instance) -> None:
    """Flush metrics when the platform stops the instance (SIGTERM, then ~10 s of grace).

    gunicorn turns SIGTERM into a normal worker exit, which runs atexit; a bare process gets a
    signal handler too (only settable from the main thread).
    """
    atexit.register(instance.telemetry.shutdown)
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        instance.telemetry.shutdown()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)

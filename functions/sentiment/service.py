"""The per-instance state both functions share, created on first use.

Cold start matters: importing this module is cheap (configuration is parsed, nothing is loaded);
the model, the Pub/Sub client and the Monitoring client are each created by the first request that
needs them, once per instance.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
from dataclasses import dataclass, field

from . import http_api, logs, pubsub_api
from .config import Config
from .provider import ModelProvider
from .publisher import Publisher
from .telemetry import Telemetry

log = logging.getLogger(__name__)


@dataclass
class Service:
    config: Config
    provider: ModelProvider
    publisher: Publisher
    telemetry: Telemetry
    seen_messages: pubsub_api.SeenMessages = field(default_factory=pubsub_api.SeenMessages)

    @classmethod
    def from_config(cls, config: Config, publisher: Publisher | None = None,
                    telemetry: Telemetry | None = None) -> Service:
        publisher = publisher or Publisher(config)
        telemetry = telemetry or Telemetry(config, publish_alert=_alert_publisher(config, publisher))
        provider = ModelProvider(
            config.model_uri, config.model_refresh_seconds, config.model_cache_dir or None,
            on_load=lambda seconds, version: telemetry.record_model_load(seconds, version),
            on_failure=telemetry.record_model_load_failure,
        )
        return cls(config, provider, publisher, telemetry)


ALERT_PUBLISH_TIMEOUT_SECONDS = 5.0  # it runs at the end of a request: bounded (telemetry retries later)


def _alert_publisher(config: Config, publisher: Publisher):
    def publish_alert(payload: dict) -> None:
        if not config.project:
            summary = {k: v for k, v in payload.items() if k != "evidence"}  # tweet texts stay out of logs
            log.warning("bad-buzz %s (no GOOGLE_CLOUD_PROJECT: logged, not published)", payload.get("type"),
                        extra={"alert": summary})
            return
        future = publisher.publish_json(config.alert_topic, payload, type=str(payload.get("type")))
        publisher.wait([future], timeout=ALERT_PUBLISH_TIMEOUT_SECONDS)

    return publish_alert


_service: Service | None = None
_config: Config | None = None
_lock = threading.Lock()


def configure(config: Config | None = None) -> Config:
    """Parse the environment now (fail fast on a bad variable, naming it) and set up logging."""
    global _config
    _config = config or Config.from_env()
    logs.configure(_config.log_level)
    return _config


def current() -> Service:
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                _service = Service.from_config(_config or configure())
                _install_shutdown_hooks(_service)
    return _service


def use(service: Service | None) -> None:
    """Replace the instance state (tests; a reconfiguration)."""
    global _service
    with _lock:
        _service = service


def _install_shutdown_hooks(service: Service) -> None:
    """Flush metrics when the platform stops the instance (SIGTERM, then ~10 s of grace).

    gunicorn turns SIGTERM into a normal worker exit, which runs atexit; a bare process gets a
    signal handler too (only settable from the main thread).
    """
    atexit.register(service.telemetry.shutdown)
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        service.telemetry.shutdown()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)


def handle_http(request):
    return http_api.handle(current(), request)


def handle_cloud_event(event) -> None:
    pubsub_api.handle(current(), event)

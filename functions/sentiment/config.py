"""Configuration of the functions: every environment variable, its default and meaning, in one place.

Precedence: an environment variable when set (and not empty), else the default below. Defaults run
locally with no cloud account: the committed model, topics named as Terraform names them, metrics
written to the log. An invalid value fails fast with a ``ConfigError`` naming the variable; a
variable not listed here is ignored. The functions are stateless: nothing here sets a window, a
threshold or an alert topic (bad buzz is detected per brand by ``pipelines/``, whose options those are).

The Terraform consistency tests read ``SETTINGS``: every variable set by Terraform must be one of
these, and every variable without a default must be set by Terraform.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .text import MAX_CHARS

# The repository's committed store: the local default when no MODEL_URI is configured.
DEFAULT_MODEL_STORE = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class Setting:
    env: str
    field: str
    default: str
    description: str
    parse: Callable[[str], Any] = str
    check: Callable[[Any], bool] = lambda value: True
    expected: str = ""  # how a valid value looks, for the error message
    shown_default: str | None = None  # for the docs, when the default is machine-specific
    secret: bool = False  # a credential: Terraform passes it from Secret Manager, never as a plain variable


def _integer(value: str) -> int:
    return int(value)


def _seconds(value: str) -> float:
    return float(value)


def _url_or_empty(value: str) -> bool:
    parts = urlsplit(value)
    return not value or (parts.scheme in ("https", "http") and bool(parts.hostname) and " " not in value)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NOTIFY_FORMATS = ("slack", "google_chat")

SETTINGS: tuple[Setting, ...] = (
    Setting("MODEL_URI", "model_uri", str(DEFAULT_MODEL_STORE),
            "Model bundle: a bundle directory, a model store (its LATEST is followed) or "
            "gs://BUCKET/PREFIX[/LATEST].", shown_default="models/ (the committed store)"),
    Setting("MODEL_REFRESH_SECONDS", "model_refresh_seconds", "300",
            "How often an instance checks LATEST for a newer model version (0 = never).",
            _seconds, lambda v: v >= 0, "a number of seconds >= 0"),
    Setting("MODEL_CACHE_DIR", "model_cache_dir", "",
            "Where downloaded bundles are kept (/tmp is memory on Cloud Functions).",
            shown_default="the system temp dir"),
    Setting("GOOGLE_CLOUD_PROJECT", "project", "",
            "Project of the Pub/Sub topics and Cloud Monitoring metrics. Empty: no publishing, metrics go to logs."),
    Setting("FUNCTION_REGION", "region", "local", "Region reported on metrics (monitored resource location)."),
    Setting("OUTPUT_TOPIC", "output_topic", "tweets-scored", "Topic receiving scored tweets."),
    Setting("DEAD_LETTER_TOPIC", "dead_letter_topic", "tweets-dead-letter",
            "Topic where messages that can never be scored are parked, with the reason."),
    Setting("FEEDBACK_TOPIC", "feedback_topic", "sentiment-feedback",
            "Topic receiving user feedback (text, label) for retraining."),
    Setting("NOTIFY_FORMAT", "notify_format", "slack",
            "Chat format of the bad-buzz notifier: 'slack' (Block Kit for an incoming webhook) or 'google_chat' "
            "(a cardsV2 card, threaded per alert).", str, lambda v: v in NOTIFY_FORMATS, " / ".join(NOTIFY_FORMATS)),
    Setting("NOTIFY_WEBHOOK_URL", "notify_webhook_url", "",
            "Incoming-webhook URL the notifier posts to: a credential, from Secret Manager in production, never "
            "logged. Empty: the notifier cannot post (alerts are retried, then dead-lettered).",
            str, _url_or_empty, "an http(s) URL with a host, or empty", secret=True),
    Setting("NOTIFY_DASHBOARD_URL", "notify_dashboard_url", "",
            "Link to the Cloud Monitoring dashboard shown in every notification (empty: none).",
            str, _url_or_empty, "an http(s) URL with a host, or empty"),
    Setting("NOTIFY_MAX_PER_BRAND", "notify_max_per_brand", "4",
            "Most notifications posted per brand in NOTIFY_RATE_WINDOW_SECONDS; the others are parked on the "
            "dead-letter topic and counted in the brand's next post.",
            _integer, lambda v: 1 <= v <= 1000, "an integer from 1 to 1000"),
    Setting("NOTIFY_RATE_WINDOW_SECONDS", "notify_rate_window_seconds", "3600",
            "Sliding window of the per-brand limit on notifications.",
            _seconds, lambda v: 60 <= v <= 86_400, "a number of seconds from 60 to 86400"),
    Setting("NOTIFY_TIMEOUT_SECONDS", "notify_timeout_seconds", "10",
            "Timeout of each step of a webhook post (connect, send, first byte of the answer).",
            _seconds, lambda v: 0.5 <= v <= 60, "a number of seconds from 0.5 to 60"),
    Setting("MAX_TEXT_CHARS", "max_text_chars", str(MAX_CHARS),
            "Longest text accepted (characters); longer ones are rejected, not truncated.",
            _integer, lambda v: 1 <= v <= 100_000, "an integer from 1 to 100000"),
    Setting("MAX_BATCH_SIZE", "max_batch_size", "1000",
            "Most tweets in one HTTP request.",
            _integer, lambda v: 1 <= v <= 10_000, "an integer from 1 to 10000"),
    Setting("MAX_REQUEST_BYTES", "max_request_bytes", "4194304",
            "Largest HTTP request body accepted (bytes).",
            _integer, lambda v: 1_024 <= v <= 32 * 1024 * 1024, "an integer from 1024 to 33554432"),
    Setting("REQUEST_CPU_SECONDS", "request_cpu_seconds", "5",
            "CPU seconds one HTTP request may spend checking and scoring its texts before it is refused (413).",
            _seconds, lambda v: 0.1 <= v <= 600, "a number of seconds from 0.1 to 600"),
    Setting("REQUEST_READ_SECONDS", "request_read_seconds", "10",
            "Longest time a client may take to send a request body (408 after it: a slow client does not hold a "
            "thread).", _seconds, lambda v: 1 <= v <= 600, "a number of seconds from 1 to 600"),
    Setting("FEEDBACK_PER_MINUTE", "feedback_per_minute", "30",
            "Feedback requests one invoker may send per minute (429 beyond); identical feedback is recorded once.",
            _integer, lambda v: 1 <= v <= 100_000, "an integer from 1 to 100000"),
    Setting("LOG_LEVEL", "log_level", "INFO", "Python log level of the functions.",
            lambda v: v.upper(), lambda v: v in LOG_LEVELS, " / ".join(LOG_LEVELS)),
    Setting("METRICS_EXPORTER", "metrics_exporter", "log",
            "Where aggregated metrics go: 'monitoring' (Cloud Monitoring API), 'log' (structured log lines) or 'none'.",
            str, lambda v: v in ("monitoring", "log", "none"), "monitoring / log / none"),
    Setting("STORAGE_EMULATOR_HOST", "storage_emulator_host", "",
            "URL or host:port of a Cloud Storage stand-in (fake-gcs-server; tests and the local stack), read "
            "anonymously. Empty: Google's endpoint, with the metadata server's token."),
    Setting("GCE_METADATA_HOST", "metadata_host", "metadata.google.internal",
            "host[:port] of the metadata server that issues the functions' access token (set by Google's "
            "runtime; a stand-in in tests). Without one, Application Default Credentials are used."),
    Setting("K_SERVICE", "service_name", "local",
            "Name of the running function (set by Cloud Functions), reported as the metrics' job."),
    Setting("MONITORING_ENDPOINT", "monitoring_endpoint", "",
            "host:port of a Cloud Monitoring API stand-in (plaintext gRPC; tests and the local stack). "
            "Empty: Google's endpoint."),
    Setting("METRICS_FLUSH_SECONDS", "metrics_flush_seconds", "60",
            "Least time between two writes of the aggregated metrics (checked at the end of a request).",
            _seconds, lambda v: v >= 10, "a number of seconds >= 10"),
)


@dataclass(frozen=True)
class Config:
    model_uri: str
    model_refresh_seconds: float
    model_cache_dir: str
    project: str
    region: str
    output_topic: str
    dead_letter_topic: str
    feedback_topic: str
    notify_format: str
    notify_webhook_url: str = field(repr=False)  # a credential
    notify_dashboard_url: str
    notify_max_per_brand: int
    notify_rate_window_seconds: float
    notify_timeout_seconds: float
    max_text_chars: int
    max_batch_size: int
    max_request_bytes: int
    request_cpu_seconds: float
    request_read_seconds: float
    feedback_per_minute: int
    log_level: str
    metrics_exporter: str
    storage_emulator_host: str
    metadata_host: str
    service_name: str
    monitoring_endpoint: str
    metrics_flush_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        values = {}
        for setting in SETTINGS:
            raw = environ.get(setting.env) or setting.default
            try:
                value = setting.parse(raw.strip())
                valid = setting.check(value)
            except (ValueError, TypeError):
                valid = False
            if not valid:
                expected = f": expected {setting.expected}" if setting.expected else ""
                shown = "(a secret, not shown)" if setting.secret else repr(raw)
                raise ConfigError(f"{setting.env}={shown} is invalid{expected}")
            values[setting.field] = value
        return cls(**values)

    def topic_path(self, topic: str) -> str:
        """projects/P/topics/T from a short topic name (a full path is kept as it is)."""
        if topic.startswith("projects/"):
            return topic
        if not self.project:
            raise ConfigError("GOOGLE_CLOUD_PROJECT is needed to publish to a topic")
        return f"projects/{self.project}/topics/{topic}"


assert {s.field for s in SETTINGS} == {f.name for f in fields(Config)}, "SETTINGS and Config disagree"


def markdown_table() -> str:
    """The README's configuration table (a test keeps the README equal to it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        default = setting.shown_default or (f"`{setting.default}`" if setting.default else "empty")
        rows.append(f"| `{setting.env}` | {default} | {setting.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())

"""Every error the sentiment library raises on purpose, and what a handler should do with it.

    SentimentError
    ├── ConfigError          a setting cannot be used: the instance must not start
    ├── Rejected             this input can never be scored: 4xx over HTTP, parked on Pub/Sub
    │   ├── EmptyText        no token the model can read
    │   ├── WebhookRefused   the chat webhook refused an alert in a way no retry can change: parked
    │   └── RateLimited      the brand had its share of posts this hour: the alert is parked, not posted
    ├── InvalidEvent         a CloudEvent without a Pub/Sub message (a wiring error)
    ├── InputError           a file to score cannot be read as a whole (the CLI; rows have their own reasons)
    ├── Transient            may succeed later: 503 + Retry-After over HTTP, redelivered on Pub/Sub
    │   ├── ModelUnavailable the model cannot be loaded right now
    │   ├── StorageError     Cloud Storage did not answer as it should (after bounded retries)
    │   ├── WebhookUnavailable  the chat webhook failed, timed out or asked to slow down
    │   ├── AlertInFlight    the same alert is being posted by another request of this instance
    │   └── PublishError     a Pub/Sub publish was not confirmed
    │       └── PublishingDisabled  no project configured: this instance publishes nothing
    ├── ObjectNotFound       no such object in Cloud Storage
    └── BundleError          a bundle is missing, malformed, tampered with or for another tokenizer
        ├── BundleExists     a published version is immutable
        └── PublishConflict  another publisher moved LATEST between our read and our write

Each class carries ``reason``, the short label under which the failure is counted
(``requests_rejected{reason}``), so both functions map an exception to a reason the same way.
"""

from __future__ import annotations


class SentimentError(Exception):
    """Base class of the library's own errors."""

    reason = "error"


class ConfigError(SentimentError):
    """An environment variable holds a value the functions cannot use."""

    reason = "bad_config"


class Rejected(SentimentError):
    """An input that is refused, with the HTTP status to answer, a message for a human and, for a
    limit that lifts by itself (429), how many seconds until it does."""

    def __init__(self, status: int, reason: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.retry_after = status, reason, message, retry_after


class EmptyText(Rejected):
    """The text has no token the model can read (empty, blank or punctuation only)."""

    def __init__(self, index: int | None = None):
        self.index = index
        where = f"text {index}" if index is not None else "text"
        super().__init__(400, "empty_text", f"{where} has no words, emoji or emoticons to score")


class WebhookRefused(Rejected):
    """The chat webhook answered a 4xx that retrying cannot change (bad payload, gone, forbidden...)."""

    def __init__(self, status: int, message: str):
        super().__init__(status, "webhook_refused", message)


class RateLimited(Rejected):
    """This brand already had the most posts allowed in the current window."""

    def __init__(self, message: str):
        super().__init__(429, "rate_limited", message)


class InvalidEvent(SentimentError):
    """The CloudEvent does not carry a Pub/Sub message at all (a wiring error, not a bad tweet)."""

    reason = "invalid_event"


class InputError(SentimentError):
    """A file to score cannot be read as a whole (no header, no such column): not one row, the file."""

    reason = "bad_input"


class Transient(SentimentError):
    """A condition that may clear by itself: answer 503 / let Pub/Sub redeliver."""

    reason = "unavailable"


class ModelUnavailable(Transient):
    """The model cannot be loaded right now."""

    reason = "model_unavailable"


class StorageError(Transient):
    """Cloud Storage did not answer as it should, after bounded retries."""

    reason = "storage_unavailable"


class WebhookUnavailable(Transient):
    """The chat webhook failed (5xx), timed out, could not be reached, or asked to slow down (429)."""

    reason = "webhook_unavailable"


class AlertInFlight(Transient):
    """Another request of this instance is posting the same alert: this delivery is retried later."""

    reason = "alert_in_flight"


class ObjectNotFound(SentimentError):
    """No such object in Cloud Storage."""

    reason = "not_found"


class PublishError(Transient):
    """A message could not be confirmed by Pub/Sub."""

    reason = "publish_failed"


class PublishingDisabled(PublishError):
    """No GOOGLE_CLOUD_PROJECT: this instance publishes nothing (local use without emulators)."""

    reason = "publishing_disabled"


class BundleError(SentimentError):
    """A model bundle is missing, malformed, tampered with or built for another tokenizer."""

    reason = "invalid_bundle"


class BundleExists(BundleError):
    """A published version is immutable: refusing to overwrite it."""


class PublishConflict(BundleError):
    """Another publisher moved the LATEST pointer between our read and our write."""

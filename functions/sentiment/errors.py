"""Every error the sentiment library raises on purpose, so callers can map them to answers."""


class SentimentError(Exception):
    """Base class of the library's own errors."""


class BundleError(SentimentError):
    """A model bundle is missing, malformed, tampered with or built for another tokenizer."""


class ModelUnavailable(SentimentError):
    """The model cannot be loaded right now (a transient condition: retry later)."""


class BundleExists(SentimentError):
    """A published version is immutable: refusing to overwrite it."""


class PublishConflict(SentimentError):
    """Another publisher moved the LATEST pointer between our read and our write."""

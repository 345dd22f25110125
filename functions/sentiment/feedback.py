"""What keeps ``/feedback`` from tying up an instance or flooding the retraining topic.

- a per-invoker rate: a token bucket of ``FEEDBACK_PER_MINUTE`` (429 + Retry-After beyond it);
- identical feedback (same text, label and model version) within ``DEDUPE_SECONDS`` is recorded once:
  the second answer carries the first one's message id;
- one publish at a time per instance, each bounded to ``PUBLISH_SECONDS``: with Pub/Sub stalled, a
  feedback costs a thread two seconds at most, and the others are told to come back (503) rather
  than queue behind it, so predictions keep their threads.

All of it per instance, in bounded memory: a limit across instances would need shared state, which
these functions do not keep (Cloud Run's max instances bound the total).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from .errors import PublishError, Rejected

PUBLISH_SECONDS = 2.0
QUEUE_SECONDS = 0.5  # how long a feedback waits for the one in flight before being told to retry
DEDUPE_SECONDS = 3600.0
MAX_REMEMBERED = 10_000  # invokers and feedback keys each


class FeedbackGate:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # invoker -> (tokens, at)
        self._recorded: OrderedDict[str, tuple[str, float]] = OrderedDict()  # key -> (message id, at)
        self.publishing = threading.Semaphore(1)

    def admit(self, invoker: str) -> None:
        """Take one token from ``invoker``'s bucket, or raise ``Rejected`` (429) saying when to retry."""
        now = self._clock()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.pop(invoker, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[invoker] = (tokens, now)
                wait = (1.0 - tokens) / rate
                raise Rejected(429, "rate_limited", f"more than {self.per_minute} feedbacks a minute from this "
                                                    f"caller; retry in {wait:.0f} s", retry_after=wait)
            self._buckets[invoker] = (tokens - 1.0, now)
            while len(self._buckets) > MAX_REMEMBERED:
                self._buckets.popitem(last=False)

    @staticmethod
    def key(text: str, label: str, model_version: str | None) -> str:
        return hashlib.sha256("\x1f".join((text, label, model_version or "")).encode("utf-8")).hexdigest()

    def recorded(self, key: str) -> str | None:
        """The message id of identical feedback recorded within ``DEDUPE_SECONDS``, if any."""
        with self._lock:
            found = self._recorded.get(key)
            if found is None or self._clock() - found[1] > DEDUPE_SECONDS:
                return None
            return found[0]

    def remember(self, key: str, message_id: str) -> None:
        with self._lock:
            self._recorded[key] = (message_id, self._clock())
            self._recorded.move_to_end(key)
            while len(self._recorded) > MAX_REMEMBERED:
                self._recorded.popitem(last=False)

    def turn(self):
        """The right to publish now (a context manager), or PublishError after ``QUEUE_SECONDS``."""
        if not self.publishing.acquire(timeout=QUEUE_SECONDS):
            raise PublishError("another feedback is being published and Pub/Sub is slow")
        return _Release(self.publishing)


class _Release:
    def __init__(self, semaphore: threading.Semaphore):
        self._semaphore = semaphore

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._semaphore.release()

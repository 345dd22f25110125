"""Google Cloud Storage access, imported only when a ``gs://`` URI is used (it costs ~0.3 s)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class GcsPath:
    bucket: str
    name: str  # object name or prefix, without a leading slash

    @classmethod
    def parse(cls, uri: str) -> GcsPath:
        if not uri.startswith("gs://"):
            raise ValueError(f"not a gs:// URI: {uri!r}")
        bucket, _, name = uri[len("gs://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        return cls(bucket, name.strip("/"))

    def child(self, name: str) -> GcsPath:
        return GcsPath(self.bucket, f"{self.name}/{name}" if self.name else name)

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.name}"


# A model fetch must fail in seconds, not in the library's default two minutes of retries: a
# request (or a Pub/Sub delivery, whose ack deadline is ticking) waits for it.
TIMEOUT = (3.05, 20)  # connect, read (seconds)
RETRY_SECONDS = 8


def retry():
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_SECONDS)


def call_options() -> dict:
    """Keyword arguments bounding one storage call: pass them to every blob operation."""
    return {"timeout": TIMEOUT, "retry": retry()}


@lru_cache(maxsize=1)
def client():
    """One client per process. ``STORAGE_EMULATOR_HOST`` selects an emulator, anonymously."""
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        project = os.environ.get("GOOGLE_CLOUD_PROJECT", "local")
        return storage.Client(project=project, credentials=AnonymousCredentials())
    return storage.Client()


def blob(path: GcsPath):
    return client().bucket(path.bucket).blob(path.name)

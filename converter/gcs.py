"""The google-cloud-storage client for publishing bundles (uploads with generation preconditions).

Serving reads bundles with ``sentiment.storage`` (three plain HTTPS GETs); writing needs the full
client, which only offline tools (publish, promote, the local stack's setup, tests) pay for.
``STORAGE_EMULATOR_HOST`` selects an emulator, used anonymously.
"""

from __future__ import annotations

import os
from functools import lru_cache

from sentiment.storage import GcsPath


@lru_cache(maxsize=1)
def client():
    """One client per process (``client.cache_clear()`` after changing the emulator variables)."""
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT", "local"),
                              credentials=AnonymousCredentials())
    return storage.Client()


def blob(path: GcsPath):
    return client().bucket(path.bucket).blob(path.name)

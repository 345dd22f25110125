"""The real Pub/Sub emulator for telemetry tests, once per session (it takes a few seconds to start).

Import it into a test module (``from tests.pubsub_fixtures import pubsub_emulator_fixture  # noqa: F401``)
and ask for ``pubsub_emulator`` (the function has another name so that the parameter does not shadow the
import). It sets ``PUBSUB_EMULATOR_HOST`` for the session: google-cloud-pubsub clients created
afterwards use the emulator.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", name="pubsub_emulator")
def pubsub_emulator_fixture():
    from devstack.emulators import PubSubEmulator

    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    with PubSubEmulator() as emulator:
        os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
        try:
            yield emulator
        finally:
            if previous is None:
                os.environ.pop("PUBSUB_EMULATOR_HOST", None)
            else:
                os.environ["PUBSUB_EMULATOR_HOST"] = previous

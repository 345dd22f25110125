"""Alert payloads for the notifier tests: the pipeline's documented example, its resolution, hostile texts."""

from __future__ import annotations

import json
import time
from typing import Any

from sentiment.alert_payload import alert_id

# Texts a tweet (or a driver term, or a brand) could carry to hijack a chat message.
HOSTILE = [
    "<!channel> everyone look", "<!here> now", "<!everyone>", "@everyone @here @channel @all", "<@U123ABC> you",
    "<users/all> hi", "<https://evil.example/x|click here>", "https://evil.example/login?a=1&b=2", "www.evil.example",
    "see t.co/abc123", "*bold* _italic_ ~strike~ `code` ```block```", "a & b < c > d", "&lt;!channel&gt;",
    "<a href=\"https://evil.example\">x</a>", "<b>loud</b>", "\u202egnp.exe", "zero\u200bwidth\u200b@\u200beveryone",
    "line\nbreak\r\nand\ttab", "<#C0123|general>", "<!subteam^S012>",
]


def bad_buzz(**overrides: Any) -> dict[str, Any]:
    brand, detected = overrides.get("brand", "spike"), overrides.get("detected_at", "2026-11-20T12:00:00Z")
    payload = {
        "type": "bad_buzz", "alert_id": alert_id(brand, detected), "brand": brand, "detected_at": detected,
        "window_start": "2026-11-20T09:00:00Z", "window_end": "2026-11-20T12:00:00Z", "window_hours": 3,
        "tweets": 318, "negative": 160, "negative_share": 0.5031, "baseline_share": 0.3331,
        "baseline_start": "2026-11-18T09:00:00Z", "baseline_end": "2026-11-20T09:00:00Z", "baseline_tweets": 1315,
        "test": "volume", "score": 3.64, "share_z": 2.7, "volume_z": 3.64, "expected_negative": 46.0,
        "negative_ratio": 3.48, "model_version": "20261125-135001-b3df2c47",
        "evidence": [
            {"id": "1795173667871089498", "text": "@SpikeAir computer outage again?? stuck at the gate #spikeoutage",
             "probability_negative": 0.9692},
            {"id": "spike-1795173667871-089498", "text": "4 hours on the tarmac, no water",
             "probability_negative": 0.95},
            {"id": None, "text": "worst airline ever", "probability_negative": 0.97},
            {"id": 1795173667871089499, "text": "lost my bag, again", "probability_negative": 0.96},
        ],
        "drivers": [
            {"term": "outage", "kind": "term", "count": 21, "baseline_count": 0, "lift": 61.3},
            {"term": "#spikeoutage", "kind": "hashtag", "count": 12, "baseline_count": 0, "lift": 35.0},
            {"term": "@SpikeAir", "kind": "mention", "count": 40, "baseline_count": 90, "lift": 1.6},
        ],
    }
    payload.update(overrides)
    return payload


def resolved(**overrides: Any) -> dict[str, Any]:
    alert = bad_buzz()
    payload = {**alert, "type": "resolved", "detected_at": "2026-11-20T18:00:00Z",
               "window_start": "2026-11-20T12:00:00Z", "window_end": "2026-11-20T18:00:00Z", "window_hours": 6,
               "negative_share": 0.35, "negative_ratio": 1.1, "negative": 40, "tweets": 115, "score": 0.8,
               "alert_detected_at": alert["detected_at"], "alert_hours": 6, "evidence": [], "drivers": []}
    payload.update(overrides)
    return payload


def data(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def attributes(payload: dict[str, Any]) -> dict[str, str]:
    return {"type": payload["type"], "brand": payload["brand"], "alert_id": payload["alert_id"]}


def pull(subscriber, subscription: str, expected: int, timeout: float = 20.0, settle: float = 0.5) -> list:
    """Pull (and ack) until ``expected`` messages came and then nothing more for ``settle`` seconds.

    Short pull deadlines: the emulator holds an empty pull for its whole deadline."""
    from google.api_core import exceptions

    received, deadline, quiet_since = [], time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            response = subscriber.pull(subscription=subscription, max_messages=100, timeout=1)
        except exceptions.DeadlineExceeded:
            response = None
        if response and response.received_messages:
            received += [m.message for m in response.received_messages]
            subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages])
            quiet_since = None
            continue
        if len(received) >= expected:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                break
        time.sleep(0.1)
    return received

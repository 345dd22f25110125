"""The alert messages the detection publishes, built to ``sentiment.alert_payload``'s schema and checked
with its parser before they leave (the notifier reads them with the same code)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sentiment import alert_payload
from sentiment.event_time import rfc3339

if TYPE_CHECKING:
    from .detector import Span


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _window_fields(window: Span) -> dict:
    return {"window_start": rfc3339(window.start), "window_end": rfc3339(window.end),
            "window_hours": round((window.end - window.start) / 3600, 2), "tweets": window.tweets,
            "negative": window.negative, "negative_share": round(window.share, 4)}


def _baseline_fields(baseline: Span | None) -> dict:
    if baseline is None:
        return {}
    return {"baseline_share": round(baseline.share, 4), "baseline_start": rfc3339(baseline.start),
            "baseline_end": rfc3339(baseline.end), "baseline_tweets": baseline.tweets}


def bad_buzz(*, brand: str, detected_at: str, window: Span, baseline: Span, test: str, score: float,
             share_z: float, volume_z: float, expected_negative: float, model_version: str | None,
             evidence: list[dict], drivers: list[dict]) -> dict:
    payload = {
        "type": alert_payload.BAD_BUZZ, "alert_id": alert_payload.alert_id(brand, detected_at), "brand": brand,
        "detected_at": detected_at, **_window_fields(window), **_baseline_fields(baseline),
        "test": test, "score": _round(score), "share_z": _round(share_z), "volume_z": _round(volume_z),
        "expected_negative": _round(expected_negative, 1),
        "negative_ratio": _round(window.negative / max(expected_negative, 0.5), 2),
        "model_version": model_version, "evidence": evidence[:alert_payload.MAX_EVIDENCE],
        "drivers": drivers[:alert_payload.MAX_DRIVERS],
    }
    return checked(payload)


def resolved(opened: dict, *, detected_at: str, window: Span, baseline: Span | None, share_z: float | None,
             volume_z: float | None) -> dict:
    started = opened["detected_at"]
    hours = (datetime.fromisoformat(detected_at) - datetime.fromisoformat(started)).total_seconds() / 3600
    payload = {
        "type": alert_payload.RESOLVED, "alert_id": opened["alert_id"], "brand": opened["brand"],
        "detected_at": detected_at, **_window_fields(window), **_baseline_fields(baseline),
        "share_z": _round(share_z), "volume_z": _round(volume_z), "model_version": opened.get("model_version"),
        "alert_detected_at": started, "alert_hours": round(hours, 2),
    }
    return checked(payload)


def checked(payload: dict) -> dict:
    """The payload, if the schema reads it back without a problem (else a bug here: raise)."""
    payload = {key: value for key, value in payload.items() if value is not None}
    data = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode()
    alert = alert_payload.parse_alert(data, alert_payload.attributes(payload))
    if alert.problems:
        raise ValueError(f"the alert does not meet its schema: {'; '.join(alert.problems)}")
    return payload


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

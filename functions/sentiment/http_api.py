"""The HTTP function's API: routes, JSON in and out, Google-style JSON errors.

    POST /predict (or /)  {"text"} | {"texts": [...]} | {"instances": [{"text"}, ...]}
    GET  /health          liveness; whether a model is loaded (never loads one)
    GET  /model           the loaded model's public facts
    POST /feedback        {"text", "label", "model_version"?} -> feedback topic, 202

The contract is written down in ``openapi.yaml`` next to this file, and tested against it.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from flask import Response

from . import logs
from .budget import CpuBudget
from .errors import ModelUnavailable, PublishError, PublishingDisabled, Rejected, Transient
from .feedback import PUBLISH_SECONDS as FEEDBACK_PUBLISH_SECONDS
from .payloads import decode_json, max_json_values, parse_feedback, parse_predict
from .provider import RETRY_AFTER_SECONDS
from .read_deadline import DEADLINES

if TYPE_CHECKING:
    from .instance import Instance

log = logging.getLogger(__name__)

SOURCE = "http"
STATUS_NAMES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 408: "DEADLINE_EXCEEDED",
                413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                503: "UNAVAILABLE"}
ROUTES = {"/": ("POST",), "/predict": ("POST",), "/health": ("GET", "HEAD"), "/model": ("GET", "HEAD"),
          "/feedback": ("POST",)}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STARTED = time.time()


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(payload, ensure_ascii=False, allow_nan=False), status=status,
                        mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    response.headers["X-Request-Id"] = logs.request_id.get() or ""
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": status, "status": STATUS_NAMES.get(status, "UNKNOWN"), "message": message,
                      "request_id": logs.request_id.get()}}
    return json_response(body, status, headers)


def _request_id(request) -> str:
    offered = request.headers.get("X-Request-Id", "")
    return offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex


def _trace(request, project: str) -> str | None:
    header = request.headers.get("X-Cloud-Trace-Context", "")
    trace_id = header.split("/", 1)[0]
    if project and re.fullmatch(r"[0-9a-f]{32}", trace_id):
        return f"projects/{project}/traces/{trace_id}"
    return None


# What a client is told when a transient failure stops its request (the log line says more).
UNAVAILABLE_MESSAGES = {
    ModelUnavailable: "the model is not available right now; retry later",
    PublishError: "could not record the feedback right now; retry later",
}


def handle(instance: Instance, request) -> Response:
    timer = logs.Timer()
    rid = logs.request_id.set(_request_id(request))
    trace = logs.trace.set(_trace(request, instance.config.project))
    path = _shown(request.path.rstrip("/") or "/", 200)  # what logs and messages quote: bounded, printable
    try:
        try:
            response = _route(instance, request, path)
        except PublishingDisabled as error:  # a setting, not a passing condition: no Retry-After
            raise Rejected(503, error.reason, "feedback is not configured on this instance (no GOOGLE_CLOUD_PROJECT "
                                              "to publish to)") from None
    except Rejected as rejected:
        instance.telemetry.record_rejected(SOURCE, rejected.reason)
        log.info("rejected %s %s: %s", request.method, path, rejected.message,
                 extra={"status": rejected.status, "reason": rejected.reason})
        headers = {"Allow": ", ".join(ROUTES[path])} if rejected.status == 405 else {}
        if rejected.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(rejected.retry_after)))
        response = error_response(rejected.status, rejected.message, headers)
    except Transient as error:
        instance.telemetry.record_rejected(SOURCE, error.reason)
        log.warning("%s: %s", error.reason, error)
        message = next((text for kind, text in UNAVAILABLE_MESSAGES.items() if isinstance(error, kind)),
                       "temporarily unavailable; retry later")
        response = error_response(503, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    except Exception:  # a bug: log it whole, tell the client nothing about the internals
        log.exception("unhandled error on %s %s", request.method, path)
        response = error_response(500, "internal error")
    finally:
        instance.telemetry.end_of_request()
    log.info("%s %s %d", request.method, path, response.status_code,
             extra={"status": response.status_code, "latency_ms": timer.ms})
    logs.request_id.reset(rid)
    logs.trace.reset(trace)
    return response


def _route(instance: Instance, request, path: str) -> Response:
    if path not in ROUTES:
        raise Rejected(404, "not_found", f"no route {path}; see /health, /predict, /model, /feedback")
    if request.method not in ROUTES[path]:
        raise Rejected(405, "method_not_allowed", f"{request.method} is not allowed on {path}")
    if path == "/health":
        return _health(instance)
    if path == "/model":
        return json_response(instance.provider.get().manifest.public_facts())
    body = _json_body(instance, request)
    if path == "/feedback":
        return _feedback(instance, request, body)
    return _predict(instance, body)


def _json_body(instance: Instance, request) -> Any:
    """The body as JSON: declared as JSON, UTF-8 and uncompressed, within the byte, time and value limits."""
    mimetype = (request.mimetype or "").lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise Rejected(415, "unsupported_media_type",
                       f"send Content-Type: application/json (got {_shown(request.content_type or 'none')})")
    charset = (request.mimetype_params.get("charset") or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise Rejected(415, "unsupported_media_type", f"JSON is UTF-8 (RFC 8259); charset={_shown(charset)} is not")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise Rejected(415, "unsupported_media_type",
                       f"Content-Encoding {_shown(encoding)} is not accepted: send the JSON uncompressed")
    limit = instance.config.max_request_bytes
    if request.content_length is not None and request.content_length > limit:
        raise Rejected(413, "too_large", f"the body has {request.content_length:,} bytes; the limit is {limit:,}")
    raw = _read_body(request, limit, instance.config.request_read_seconds)
    if len(raw) > limit:
        raise Rejected(413, "too_large", f"the body exceeds the limit of {limit:,} bytes")
    if not raw.strip():
        raise Rejected(400, "bad_json", "the body is empty; send a JSON object")
    return decode_json(raw, max_json_values(instance.config))


def _read_body(request, limit: int, seconds: float) -> bytes:
    """At most ``limit + 1`` bytes (bounded even without a Content-Length), within ``seconds``."""
    sock = request.environ.get("gunicorn.socket")
    deadline = DEADLINES.arm(sock, seconds) if sock is not None else None
    try:
        raw = request.stream.read(limit + 1)
    except Exception as error:  # a broken chunked encoding, a client that hung up, a read cut by the deadline
        if deadline is not None and deadline.fired:
            raise Rejected(408, "request_timeout", f"the body did not arrive within {seconds:g} s") from None
        raise Rejected(400, "bad_body", f"the body could not be read ({type(error).__name__})") from None
    finally:
        DEADLINES.disarm(deadline)
    if deadline is not None and deadline.fired:
        raise Rejected(408, "request_timeout", f"the body did not arrive within {seconds:g} s")
    declared = request.content_length
    if declared is not None and len(raw) < declared:
        raise Rejected(400, "bad_body", f"the body ended after {len(raw):,} of its {declared:,} bytes")
    return raw


def _shown(value: str, limit: int = 80) -> str:
    """A client's string as our messages and logs may quote it: short, printable."""
    text = value if len(value) <= limit else value[:limit] + "…"
    return text.encode("unicode_escape").decode("ascii")


def _predict(instance: Instance, body: Any) -> Response:
    budget = CpuBudget(instance.config.request_cpu_seconds)
    parsed = parse_predict(body, instance.config, budget)
    predictions = instance.scorer.score(parsed.texts, SOURCE, budget=budget)
    if parsed.form == "text":
        return json_response(predictions[0].to_dict())
    return json_response({"predictions": [p.to_dict() for p in predictions],
                          "model_version": predictions[0].model_version})


def _feedback(instance: Instance, request, body: Any) -> Response:
    feedback = parse_feedback(body, instance.config)
    gate = instance.feedback
    gate.admit(_invoker(request))
    key = gate.key(feedback.text, feedback.label, feedback.model_version)
    if (message_id := gate.recorded(key)) is not None:
        return json_response({"status": "accepted", "message_id": message_id, "duplicate": True}, 202)
    payload = {"text": feedback.text, "label": feedback.label, "model_version": feedback.model_version,
               "request_id": logs.request_id.get(), "received_at": time.time()}
    with gate.turn():
        future = instance.publisher.publish_json(instance.config.feedback_topic, payload, label=feedback.label,
                                                 model_version=feedback.model_version)
        (message_id,) = instance.publisher.wait([future], timeout=FEEDBACK_PUBLISH_SECONDS)
    gate.remember(key, message_id)
    return json_response({"status": "accepted", "message_id": message_id}, 202)


def _invoker(request) -> str:
    """Who calls, for the feedback rate: the identity token's subject (Cloud Run has verified it when the
    function is private), else the client address Google's front end reports, else the peer."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        parts = authorization[7:].split(".")
        if len(parts) == 3:
            try:
                claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
                return "token:" + str(claims.get("email") or claims.get("sub"))[:256]
            except (ValueError, TypeError, AttributeError):
                pass
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    return "address:" + (forwarded or request.remote_addr or "unknown")[:256]


def _health(instance: Instance) -> Response:
    model = instance.provider.current
    return json_response({
        "status": "ok",
        "model_loaded": model is not None,
        "model_version": model.version if model else None,
        "uptime_seconds": round(time.time() - _STARTED, 1),
    })

"""Posting to a real local HTTP receiver: what is delivered, retried, refused; once per alert; per-brand limits."""

from __future__ import annotations

import socket
import threading

import pytest

from devstack.webhook_receiver import Receiver
from sentiment.alert_payload import parse_alert_object
from sentiment.errors import AlertInFlight, ConfigError, RateLimited, WebhookRefused, WebhookUnavailable
from sentiment.notify.notifier import GOOGLE_CHAT, SLACK, Notifier, render
from sentiment.notify.webhook import Webhook

from . import chat_shapes as shapes
from .functions_support import make_config
from .notify_support import bad_buzz, resolved

SECRET = "T0SECRET/B0SECRET/s3cr3t-token"


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def notifier_for(receiver: Receiver, fmt: str = SLACK, **env: str) -> Notifier:
    path = f"/services/{SECRET}" if fmt == SLACK else "/v1/spaces/AAA/messages?key=k&token=" + SECRET
    return Notifier(make_config(NOTIFY_WEBHOOK_URL=receiver.url + path, NOTIFY_FORMAT=fmt,
                                NOTIFY_TIMEOUT_SECONDS="1", **env))


def alert(payload=None):
    return parse_alert_object(payload or bad_buzz())


@pytest.mark.parametrize("fmt", [SLACK, GOOGLE_CHAT])
def test_a_post_arrives_as_rendered_with_the_published_shape(receiver, fmt):
    outcome = notifier_for(receiver, fmt).notify(alert())
    (post,) = receiver.received()
    assert outcome.status == "posted" and outcome.delivery.status == 200
    body, query = render(fmt, alert())
    assert post["body"] == body
    if fmt == SLACK:
        assert post["path"] == f"/services/{SECRET}" and post["query"] == {}
        assert shapes.slack_problems(post["body"]) == []
    else:
        assert post["path"] == "/v1/spaces/AAA/messages"
        assert post["query"] == {"key": "k", "token": SECRET, **query}, "the webhook's own key and token are kept"
        assert shapes.chat_problems(post["body"], post["query"]) == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_a_failing_webhook_raises_to_be_retried(receiver, status):
    receiver.answer_next({"status": status, "body": "try later", "headers": {"Retry-After": "30"}})
    notifier = notifier_for(receiver)
    with pytest.raises(WebhookUnavailable) as caught:
        notifier.notify(alert())
    assert f"answered {status}" in str(caught.value) and "try later" in str(caught.value)
    assert SECRET not in str(caught.value), "the webhook URL is a credential"
    assert notifier.notify(alert()).status == "posted", "the retry posts: a failure is not remembered as posted"
    assert len(receiver.received()) == 2


def test_a_webhook_that_does_not_answer_in_time_raises(receiver):
    receiver.answer_next({"status": 200, "delay": 3})
    with pytest.raises(WebhookUnavailable) as caught:
        notifier_for(receiver).notify(alert())
    assert "did not answer within 1 s" in str(caught.value)


def test_a_dropped_connection_raises(receiver):
    receiver.answer_next({"close": True})
    with pytest.raises(WebhookUnavailable) as caught:
        notifier_for(receiver).notify(alert())
    assert "could not be reached" in str(caught.value) and SECRET not in str(caught.value)


def test_a_webhook_nobody_listens_on_raises():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        webhook = Webhook(f"http://127.0.0.1:{port}/services/{SECRET}", timeout=1)
        with pytest.raises(WebhookUnavailable) as caught:
            webhook.post({"text": "x"})
    assert "ConnectionRefusedError" in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize(("status", "body"), [(400, "invalid_blocks"), (403, "action_prohibited"),
                                              (404, "no_service"), (410, "channel_is_archived"), (401, "invalid_token"),
                                              (413, "too big"), (301, "")])
def test_an_answer_no_retry_can_change_is_refused_with_its_reason(receiver, status, body):
    receiver.answer_next({"status": status, "body": body, "headers": {"Location": "https://elsewhere.example/"}})
    notifier = notifier_for(receiver)
    with pytest.raises(WebhookRefused) as caught:
        notifier.notify(alert())
    assert caught.value.reason == "webhook_refused" and caught.value.status == status
    assert str(status) in caught.value.message and body in caught.value.message
    assert SECRET not in caught.value.message


def test_an_empty_or_invalid_webhook_url_is_a_configuration_error():
    with pytest.raises(ConfigError, match="NOTIFY_WEBHOOK_URL is empty"):
        Notifier(make_config())
    with pytest.raises(ConfigError, match="NOTIFY_WEBHOOK_URL=\\(a secret, not shown\\) is invalid"):
        make_config(NOTIFY_WEBHOOK_URL="ftp://host/" + SECRET)


# --- Once per alert ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [SLACK, GOOGLE_CHAT])
def test_a_redelivered_alert_posts_once(receiver, fmt):
    notifier = notifier_for(receiver, fmt)
    assert notifier.notify(alert()).status == "posted"
    assert notifier.notify(alert()).status == "duplicate"
    assert notifier.notify(alert(resolved())).status == "posted", "the resolution is another message"
    assert len(receiver.received(include_duplicates=True)) == 2


def test_google_chat_posts_once_even_from_another_instance(receiver):
    """No shared memory between instances: Chat's requestId / messageId make the second create a no-op."""
    first, second = notifier_for(receiver, GOOGLE_CHAT), notifier_for(receiver, GOOGLE_CHAT)
    assert first.notify(alert()).status == "posted"
    second.notify(alert())
    posts = receiver.received(include_duplicates=True)
    assert len(posts) == 2 and [p["duplicate"] for p in posts] == [False, True]
    assert posts[0]["query"]["requestId"] == posts[1]["query"]["requestId"]


def test_google_chat_reads_already_exists_as_delivered(receiver):
    receiver.answer_next({"status": 409, "body": '{"error": {"status": "ALREADY_EXISTS"}}'})
    outcome = notifier_for(receiver, GOOGLE_CHAT).notify(alert())
    assert outcome.status == "already_there"


def test_slack_cannot_tell_another_instances_post(receiver):
    """What is not guaranteed (docs/notifications.md): incoming webhooks have no idempotency key, so two
    instances that both receive one alert both post it. Terraform's max_instances = 1 makes this rare."""
    notifier_for(receiver).notify(alert())
    notifier_for(receiver).notify(alert())
    assert len(receiver.received()) == 2


def test_two_concurrent_deliveries_of_one_alert_post_once(receiver):
    receiver.answer_next({"status": 200, "body": "ok", "delay": 0.5})
    notifier = notifier_for(receiver)
    results: list = []

    def deliver():
        try:
            results.append(notifier.notify(alert()).status)
        except AlertInFlight as error:
            results.append(type(error).__name__)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["AlertInFlight", "posted"]
    assert len(receiver.received()) == 1
    assert notifier.notify(alert()).status == "duplicate", "the retried delivery is then acknowledged"


# --- Per-brand rate limit ----------------------------------------------------------------------

def buzz(brand: str, hour: int) -> dict:
    return bad_buzz(brand=brand, detected_at=f"2026-11-20T{hour:02d}:00:00Z")


def test_a_burst_is_limited_per_brand_and_the_next_post_says_how_many_were_held(receiver):
    notifier = notifier_for(receiver, NOTIFY_MAX_PER_BRAND="2", NOTIFY_RATE_WINDOW_SECONDS="60")
    clock = [1000.0]
    notifier.limit.clock = lambda: clock[0]
    assert [notifier.notify(alert(buzz("spike", h))).status for h in (1, 2)] == ["posted", "posted"]
    for hour in (3, 4, 5):
        with pytest.raises(RateLimited) as caught:
            notifier.notify(alert(buzz("spike", hour)))
        assert caught.value.reason == "rate_limited" and "next possible in 60 s" in caught.value.message
    assert notifier.notify(alert(buzz("other", 1))).status == "posted", "another brand has its own budget"
    clock[0] += 61
    outcome = notifier.notify(alert(buzz("spike", 6)))
    assert outcome.status == "posted" and outcome.held_back == 3
    assert "3 more alerts for this brand in the last hour were not posted" in str(receiver.received()[-1]["body"])
    notifier.notify(alert(buzz("spike", 7)))
    assert "were not posted" not in str(receiver.received()[-1]["body"]), "told once"


def test_the_resolution_of_a_posted_buzz_is_never_held_back(receiver):
    notifier = notifier_for(receiver, NOTIFY_MAX_PER_BRAND="1")
    notifier.notify(alert())
    with pytest.raises(RateLimited):
        notifier.notify(alert(buzz("spike", 1)))
    assert notifier.notify(alert(resolved())).status == "posted"


def test_a_failed_post_gives_its_slot_back(receiver):
    notifier = notifier_for(receiver, NOTIFY_MAX_PER_BRAND="1")
    receiver.answer_next({"status": 503})
    with pytest.raises(WebhookUnavailable):
        notifier.notify(alert())
    assert notifier.notify(alert()).status == "posted"

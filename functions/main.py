"""Cloud Functions entry points (functions-framework). Parsing and scoring live in `sentiment`.

- ``predict_http``: HTTP function, JSON in and out (POST /predict, GET /health, GET /model, ...).
- ``score_pubsub``: CloudEvent function for ``google.cloud.pubsub.topic.v1.messagePublished`` (tweets).
- ``notify_alert``: CloudEvent function for the same event type on the alerts topic: posts each
  bad-buzz alert to the team's chat webhook.

Nothing heavy happens at import: the model and the Google clients are created on first use, once
per instance (``instance.current()``), so cold starts stay short and /health answers before any
model is loaded.
"""

import functions_framework

from sentiment import http_api, instance, notify_api, pubsub_api

instance.configure()  # cheap: parse the environment now, so a bad variable fails the deployment


@functions_framework.http
def predict_http(request):
    return http_api.handle(instance.current(), request)


@functions_framework.cloud_event
def score_pubsub(cloud_event):
    pubsub_api.handle(instance.current(), cloud_event)


@functions_framework.cloud_event
def notify_alert(cloud_event):
    notify_api.handle(instance.notifier(), cloud_event)

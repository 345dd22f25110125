"""Cloud Functions entry points (functions-framework). Parsing and scoring live in `sentiment`.

- ``predict_http``: HTTP function, JSON in and out (POST /predict, GET /health, GET /model, ...).
- ``score_pubsub``: CloudEvent function for ``google.cloud.pubsub.topic.v1.messagePublished``.

Nothing heavy happens at import: the model and the Google clients are created on first use, once
per instance (cold starts stay short; /health answers before any model is loaded).
"""

import functions_framework

from sentiment import service

service.configure()  # cheap: parse the environment now, so a bad variable fails the deployment


@functions_framework.http
def predict_http(request):
    return service.handle_http(request)


@functions_framework.cloud_event
def score_pubsub(cloud_event):
    service.handle_cloud_event(cloud_event)

# The notifier: each bad-buzz alert on the alerts topic becomes a message in the team's chat.
#
#   sentiment-alerts --push (OIDC: <notify name>-push)--> notify_alert (module.function["notify"], functions.tf)
#                                                          --> the chat webhook (URL from the secret below)
#
# Like the tweets (pubsub.tf), the alerts reach their function through our own push subscription,
# with its own retry policy and dead-letter policy: an alert the chat cannot take now (5xx, 429, a
# timeout) is redelivered with backoff for about two hours by default, then moved to the dead-letter
# topic; the notifier itself parks there what no retry can post (not an alert, a webhook refusal,
# over the brand's limit), with the reason. Either way the dead-letter alert policy fires.
#
# The webhook URL is a credential: it lives in Secret Manager, never in Terraform. This creates the
# secret (empty) and makes the notifier's identity its only accessor; its value is added as a version
# by hand (README.md, "Deploy"), before the first apply that deploys the notifier. The function reads
# it as an environment variable (secret_environment_variables): no Secret Manager client at run time.

locals {
  notify_push_subscription = "${var.topic_names.alerts}-to-${var.notify_function.name}"

  # google_monitoring_dashboard.id is projects/<number>/dashboards/<id>.
  dashboard_url = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", google_monitoring_dashboard.sentiment.id), 3)}?project=${var.project_id}"

  # The notifier's own configuration (functions/sentiment/config.py reads it): no model, no metrics.
  notify_env = {
    GOOGLE_CLOUD_PROJECT       = var.project_id
    FUNCTION_REGION            = var.region
    DEAD_LETTER_TOPIC          = google_pubsub_topic.this["dead_letter"].name
    LOG_LEVEL                  = var.log_level
    NOTIFY_FORMAT              = var.notify_format
    NOTIFY_DASHBOARD_URL       = local.dashboard_url
    NOTIFY_MAX_PER_BRAND       = tostring(var.notify_max_per_brand)
    NOTIFY_RATE_WINDOW_SECONDS = tostring(var.notify_rate_window_minutes * 60)
  }
  notify_secrets = {
    NOTIFY_WEBHOOK_URL = google_secret_manager_secret.notify_webhook.secret_id
  }
}

resource "google_secret_manager_secret" "notify_webhook" {
  project   = var.project_id
  secret_id = var.notify_webhook_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

# --- Push identity of the alerts subscription ---------------------------------------------------

resource "google_service_account" "notify_push" {
  project      = var.project_id
  account_id   = "${var.notify_function.name}-push"
  display_name = "Pub/Sub push identity for ${var.notify_function.name}"
  description  = "Identity in the OIDC token of the alerts push subscription; may only invoke the notifier function."

  depends_on = [google_project_service.this]
}

# As for the tweets' push identity (iam.tf): Pub/Sub mints the tokens as its service agent.
resource "google_service_account_iam_member" "notify_push_token_creator" {
  service_account_id = google_service_account.notify_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Creating a push subscription whose tokens name an account needs actAs on that account.
resource "google_service_account_iam_member" "deployer_acts_as_notify_push" {
  service_account_id = google_service_account.notify_push.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

# --- Alerts -> the notifier ------------------------------------------------------------------------

resource "google_pubsub_subscription" "alerts_push" {
  name    = local.notify_push_subscription
  project = var.project_id
  topic   = google_pubsub_topic.this["alerts"].id

  # For push, the ack deadline is the HTTP request timeout: match the function's.
  ack_deadline_seconds       = var.notify_function.timeout_seconds
  message_retention_duration = "604800s"

  # Alerts are rare: weeks without one must not delete the subscription.
  expiration_policy {
    ttl = ""
  }

  # An alert the chat could not take comes back after an exponential backoff...
  retry_policy {
    minimum_backoff = var.notify_retry_backoff.minimum
    maximum_backoff = var.notify_retry_backoff.maximum
  }

  # ... and after notify_max_delivery_attempts it is moved to the dead-letter topic, never dropped.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.this["dead_letter"].id
    max_delivery_attempts = var.notify_max_delivery_attempts
  }

  push_config {
    # The path names the topic in the CloudEvent's source (see pubsub.tf).
    push_endpoint = "${module.function["notify"].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.this["alerts"].name}"

    oidc_token {
      service_account_email = google_service_account.notify_push.email
      audience              = module.function["notify"].uri
    }
  }

  depends_on = [
    module.function,
    google_pubsub_topic_iam_member.dead_letter_forwarding,
    google_service_account_iam_member.notify_push_token_creator,
    google_service_account_iam_member.deployer_acts_as_notify_push,
  ]
}

# The Pub/Sub service agent acknowledges on this subscription what it dead-letters (pubsub.tf grants
# it the publisher role on the dead-letter topic).
resource "google_pubsub_subscription_iam_member" "alerts_push_dead_letter_source" {
  project      = var.project_id
  subscription = google_pubsub_subscription.alerts_push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

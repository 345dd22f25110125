# Topics, the push subscription that feeds the Pub/Sub function, and dead letters.
#
# Why our own push subscription rather than an event_trigger: the subscription an Eventarc trigger
# creates is managed by Eventarc and cannot be given a dead-letter policy or a retry policy we own
# (Terraform would fight Eventarc over it). Owning it gives retries with backoff, a bounded number
# of deliveries, then the dead-letter topic, all declared here. The function is deployed without a
# trigger and receives the classic push envelope over authenticated HTTP; functions-framework turns it
# into a CloudEvent for the @functions_framework.cloud_event entry point (see infra/README.md).
#
# CMEK (checkov CKV_GCP_83) is skipped on every topic: the payloads are public tweets and their
# scores, Google-managed encryption at rest is the data's policy, and a customer key would add a
# KMS key ring, rotation and per-service-agent grants without protecting anything confidential.

resource "google_pubsub_topic" "this" {
  #checkov:skip=CKV_GCP_83:Public tweets, their scores, aggregate bad-buzz counts, feedback on public tweets; Google-managed encryption is the policy for this data (see the note at the top of this file).
  for_each = var.topic_names

  name    = each.value
  project = var.project_id

  # Parked tweets must outlive a long weekend even if the holding subscription is recreated.
  message_retention_duration = each.key == "dead_letter" ? "604800s" : null

  depends_on = [google_project_service.this]
}

locals {
  # Also named in the Pub/Sub function's description (functions.tf).
  push_subscription = "${var.topic_names.tweets}-to-${var.pubsub_function.name}"
}

# Tweets -> the Pub/Sub function, over HTTPS with an OIDC token of a dedicated identity.
resource "google_pubsub_subscription" "tweets_push" {
  name    = local.push_subscription
  project = var.project_id
  topic   = google_pubsub_topic.this["tweets"].id

  # For push, the ack deadline is the HTTP request timeout: match the function's.
  ack_deadline_seconds       = var.pubsub_function.timeout_seconds
  message_retention_duration = "604800s"

  # A quiet week must not delete the pipeline's only input (the default TTL is 31 days of inactivity).
  expiration_policy {
    ttl = ""
  }

  # A tweet the function refuses (non-2xx: model unavailable, crash) comes back after an exponential
  # backoff instead of immediately...
  retry_policy {
    minimum_backoff = var.retry_backoff.minimum
    maximum_backoff = var.retry_backoff.maximum
  }

  # ... and after max_delivery_attempts it is parked on the dead-letter topic, not retried forever.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.this["dead_letter"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  push_config {
    # The path ends in /projects/P/topics/T so that functions-framework names the topic in the
    # CloudEvent's source; the function serves every path.
    push_endpoint = "${module.function["pubsub"].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.this["tweets"].name}"

    oidc_token {
      service_account_email = google_service_account.push_invoker.email
      # Cloud Run checks the token's audience against the service URL (without the path).
      audience = module.function["pubsub"].uri
    }
  }

  # module.function: the push identity's run.invoker grant is made there; deployer_acts_as: whoever
  # creates a push subscription with a token of an account must be able to act as it.
  depends_on = [
    module.function,
    google_pubsub_topic_iam_member.dead_letter_forwarding,
    google_service_account_iam_member.push_token_creator,
    google_service_account_iam_member.deployer_acts_as,
  ]
}

# Dead letters need a subscription to be kept at all (a topic without one drops its messages).
# Operators pull from it to inspect and replay; the dead-letter alert watches its backlog.
resource "google_pubsub_subscription" "dead_letter_hold" {
  name    = "${var.topic_names.dead_letter}-hold"
  project = var.project_id
  topic   = google_pubsub_topic.this["dead_letter"].id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# --- IAM for dead-letter forwarding ------------------------------------------------------------
# Pub/Sub moves a message to the dead-letter topic as its own service agent: it must be able to
# publish there and to acknowledge (subscriber) on the source subscription, or dead letters silently
# stay in the backlog and are redelivered forever.

resource "google_pubsub_topic_iam_member" "dead_letter_forwarding" {
  project = var.project_id
  topic   = google_pubsub_topic.this["dead_letter"].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source" {
  for_each = local.dead_lettered_subscriptions

  project      = var.project_id
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

locals {
  # Every subscription with a dead_letter_policy, so that none lacks the subscriber grant above.
  dead_lettered_subscriptions = merge(
    { tweets_push = google_pubsub_subscription.tweets_push.name },
    { for key, sub in google_pubsub_subscription.bigquery : "bigquery_${key}" => sub.name },
  )
}

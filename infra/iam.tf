# Identities and what they may do. One service account per function, so that a compromise or a bug
# in one cannot use the other's grants, plus one identity whose only power is to invoke the Pub/Sub
# function (Pub/Sub signs its push requests as that identity). Every grant is on the narrowest
# resource the API allows: topics and buckets, not the project. Only metricWriter and logWriter are
# project-level, because those roles have no narrower resource.

resource "google_service_account" "http" {
  project      = var.project_id
  account_id   = "${var.http_function.name}-fn"
  display_name = "Sentiment HTTP function (${var.http_function.name})"
  description  = "Runs the HTTP scoring function: reads the model store, publishes alerts and feedback, writes metrics."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "pubsub" {
  project      = var.project_id
  account_id   = "${var.pubsub_function.name}-fn"
  display_name = "Sentiment Pub/Sub function (${var.pubsub_function.name})"
  description  = "Runs the tweet-stream scoring function: reads the model store, publishes scores, alerts and dead letters, writes metrics."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "${var.pubsub_function.name}-push"
  display_name = "Pub/Sub push identity for ${var.pubsub_function.name}"
  description  = "Identity in the OIDC token of the tweets push subscription; may only invoke the Pub/Sub function."

  depends_on = [google_project_service.this]
}

locals {
  function_service_accounts = {
    http   = google_service_account.http
    pubsub = google_service_account.pubsub
  }

  # Which topics each function publishes to (publisher is granted on these topics only):
  # - pubsub: the scores of the stream, bad-buzz alerts, and tweets it can never score (parked with
  #   the reason on the dead-letter topic rather than retried forever);
  # - http: bad-buzz alerts and user feedback (POST /feedback). Its scores are the HTTP response.
  publishes = {
    "pubsub/scored"      = { function = "pubsub", topic = google_pubsub_topic.scored.name }
    "pubsub/alerts"      = { function = "pubsub", topic = google_pubsub_topic.alerts.name }
    "pubsub/dead_letter" = { function = "pubsub", topic = google_pubsub_topic.dead_letter.name }
    "http/alerts"        = { function = "http", topic = google_pubsub_topic.alerts.name }
    "http/feedback"      = { function = "http", topic = google_pubsub_topic.feedback.name }
  }

  # Project-level roles: both have no narrower resource to be granted on.
  function_project_roles = {
    for pair in setproduct(keys(local.function_service_accounts), ["roles/monitoring.metricWriter", "roles/logging.logWriter"]) :
    "${pair[0]}/${pair[1]}" => { function = pair[0], role = pair[1] }
  }
}

resource "google_project_iam_member" "function" {
  for_each = local.function_project_roles

  project = var.project_id
  role    = each.value.role
  member  = local.function_service_accounts[each.value.function].member
}

# Read-only access to the model store: the functions never write models (publishing is the
# converter's job, run by a person or by Cloud Build with its own identity).
resource "google_storage_bucket_iam_member" "function_model_reader" {
  for_each = local.function_service_accounts

  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = each.value.member
}

resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.publishes

  project = var.project_id
  topic   = each.value.topic
  role    = "roles/pubsub.publisher"
  member  = local.function_service_accounts[each.value.function].member
}

# Pub/Sub mints the push OIDC tokens as its service agent acting for push_invoker. Projects created
# before April 2021 need this grant explicitly; granting it on this one account (not the project)
# is harmless where it is implicit.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

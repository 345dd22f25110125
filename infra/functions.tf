# The two Cloud Functions (2nd gen). Same source zip, same configuration, different entry points in
# functions/main.py:
#   predict_http  @functions_framework.http         HTTP JSON API, callable by the listed members only
#   score_pubsub  @functions_framework.cloud_event  fed by the tweets push subscription (pubsub.tf)
#
# Neither has an event_trigger: the Pub/Sub function is reached by our own push subscription, which
# carries the retry and dead-letter policies an Eventarc-managed subscription cannot (see pubsub.tf
# and infra/README.md). The decorator, not the deployment, tells functions-framework that
# score_pubsub takes CloudEvents; it converts the push envelope.

locals {
  runtime = "python311"
}

resource "google_cloudfunctions2_function" "http" {
  #checkov:skip=CKV_GCP_124:The API's callers (the communication team's tools, the deploy pipeline's smoke test) are outside any VPC. Access is IAM-gated: run.invoker for the listed members only, never allUsers unless http_allow_unauthenticated; http_ingress narrows the network path when a load balancer fronts it.
  name        = var.http_function.name
  project     = var.project_id
  location    = var.region
  description = "Air Paradis tweet sentiment: HTTP JSON API (POST /predict, GET /health, GET /model)."

  build_config {
    runtime         = local.runtime
    entry_point     = "predict_http"
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.function_source.name
      }
    }
  }

  service_config {
    available_memory                 = var.http_function.memory
    available_cpu                    = var.http_function.cpu
    min_instance_count               = var.http_function.min_instances
    max_instance_count               = var.http_function.max_instances
    max_instance_request_concurrency = var.http_function.concurrency
    timeout_seconds                  = var.http_function.timeout_seconds
    environment_variables            = local.function_env
    ingress_settings                 = var.http_ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.http.email
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.function,
    google_storage_bucket_iam_member.function_model_reader,
  ]
}

resource "google_cloudfunctions2_function" "pubsub" {
  name        = var.pubsub_function.name
  project     = var.project_id
  location    = var.region
  description = "Air Paradis tweet sentiment: scores the tweets stream (push subscription ${var.topic_names.tweets}-to-${var.pubsub_function.name})."

  build_config {
    runtime         = local.runtime
    entry_point     = "score_pubsub"
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.function_source.name
      }
    }
  }

  service_config {
    available_memory                 = var.pubsub_function.memory
    available_cpu                    = var.pubsub_function.cpu
    min_instance_count               = var.pubsub_function.min_instances
    max_instance_count               = var.pubsub_function.max_instances
    max_instance_request_concurrency = var.pubsub_function.concurrency
    timeout_seconds                  = var.pubsub_function.timeout_seconds
    environment_variables            = local.function_env
    # Pub/Sub push from this project counts as internal traffic: nothing else needs to reach it.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.pubsub.email
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.function,
    google_storage_bucket_iam_member.function_model_reader,
  ]
}

# --- Who may invoke ------------------------------------------------------------------------------
# A gen2 function is a Cloud Run service of the same name; invocation is run.invoker on that service
# (roles/run.invoker cannot be granted through google_cloudfunctions2_function_iam_*).

# The Pub/Sub function: only the push identity.
resource "google_cloud_run_v2_service_iam_member" "pubsub_push_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.pubsub.location
  name     = google_cloudfunctions2_function.pubsub.name
  role     = "roles/run.invoker"
  member   = google_service_account.push_invoker.member
}

# The HTTP function: the listed members (and the smoke-test identity of the deploy pipeline).
resource "google_cloud_run_v2_service_iam_member" "http_invoker" {
  for_each = toset(concat(var.http_invoker_members, var.smoke_test_member == null ? [] : [var.smoke_test_member]))

  project  = var.project_id
  location = google_cloudfunctions2_function.http.location
  name     = google_cloudfunctions2_function.http.name
  role     = "roles/run.invoker"
  member   = each.value
}

# Public access only when asked for, in its own resource, so that it shows up as such in a plan.
resource "google_cloud_run_v2_service_iam_member" "http_public" {
  count = var.http_allow_unauthenticated ? 1 : 0

  project  = var.project_id
  location = google_cloudfunctions2_function.http.location
  name     = google_cloudfunctions2_function.http.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

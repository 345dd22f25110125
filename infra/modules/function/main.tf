# One Cloud Function (2nd gen) with an identity of its own, the grants it runs with, and who may
# invoke it. The root module instantiates it once per function (infra/functions.tf): what differs
# between the functions is data there, what they have in common is here.

# One service account per function, so that a compromise or a bug in one cannot use the other's
# grants.
resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = "${var.name}-fn"
  display_name = var.service_account_display_name
  description  = var.service_account_description
}

# Whoever deploys the function must be able to act as its identity; on this account only.
resource "google_service_account_iam_member" "deployer" {
  service_account_id = google_service_account.this.name
  role               = "roles/iam.serviceAccountUser"
  member             = var.deployer_member
}

# Project-level roles: both have no narrower resource to be granted on. A function that writes no
# metrics (the notifier) gets the log writer only.
resource "google_project_iam_member" "this" {
  for_each = toset(var.writes_metrics ? ["roles/monitoring.metricWriter", "roles/logging.logWriter"] : ["roles/logging.logWriter"])

  project = var.project_id
  role    = each.value
  member  = google_service_account.this.member
}

# Read-only access to the model store: the functions never write models (publishing is the
# converter's job, run by a person or by Cloud Build with its own identity). None for a function that
# reads no model.
resource "google_storage_bucket_iam_member" "model_reader" {
  count = var.reads_models ? 1 : 0

  bucket = var.models_bucket
  role   = "roles/storage.objectViewer"
  member = google_service_account.this.member
}

# Publisher on the listed topics only.
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = var.publishes_to

  project = var.project_id
  topic   = each.value
  role    = "roles/pubsub.publisher"
  member  = google_service_account.this.member
}

# Each secret the function reads as an environment variable: this identity, and no other, may access
# it (secret_environment_variables below; Cloud Run reads the secret when an instance starts).
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = var.secret_environment_variables

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.this.member
}

resource "google_cloudfunctions2_function" "this" {
  #checkov:skip=CKV_GCP_124:Only the HTTP function is given ALLOW_ALL (var.ingress; the Pub/Sub function is ALLOW_INTERNAL_ONLY): its callers, the communication team's tools and the deploy pipeline's smoke test, are outside any VPC. Access is IAM-gated: run.invoker for the listed members only, never allUsers unless http_allow_unauthenticated; http_ingress narrows the network path when a load balancer fronts it.
  name        = var.name
  project     = var.project_id
  location    = var.region
  description = var.description

  build_config {
    runtime         = var.runtime
    entry_point     = var.entry_point
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    min_instance_count               = var.min_instances
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = var.concurrency
    timeout_seconds                  = var.timeout_seconds
    environment_variables            = var.environment_variables
    ingress_settings                 = var.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.this.email

    # Credentials: the latest version of each secret, resolved when an instance starts (a new version
    # reaches new instances; redeploy to move every instance at once).
    dynamic "secret_environment_variables" {
      for_each = var.secret_environment_variables
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  # Rules across two inputs (a variable's validation can only see that variable before Terraform 1.9).
  lifecycle {
    precondition {
      condition     = var.min_instances <= var.max_instances
      error_message = "${var.name}: min_instances must not exceed max_instances."
    }

    precondition {
      # A Cloud Run rule: an instance with less than one vCPU serves one request at a time.
      condition     = var.concurrency == 1 || try(tonumber(var.cpu) >= 1, false)
      error_message = "${var.name}: concurrency above 1 needs cpu >= 1."
    }
  }

  # The first instance must start with its grants in place, and the deployer act as its identity.
  depends_on = [
    google_project_iam_member.this,
    google_storage_bucket_iam_member.model_reader,
    google_secret_manager_secret_iam_member.accessor,
    google_service_account_iam_member.deployer,
  ]
}

# --- Who may invoke ------------------------------------------------------------------------------
# A gen2 function is a Cloud Run service of the same name; invocation is run.invoker on that service
# (roles/run.invoker cannot be granted through google_cloudfunctions2_function_iam_*).

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invokers

  project  = var.project_id
  location = google_cloudfunctions2_function.this.location
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = each.value
}

# Public access only when asked for, in its own resource, so that it shows up as such in a plan.
resource "google_cloud_run_v2_service_iam_member" "public" {
  count = var.allow_unauthenticated ? 1 : 0

  project  = var.project_id
  location = google_cloudfunctions2_function.this.location
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

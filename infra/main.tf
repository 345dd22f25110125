# Air Paradis tweet sentiment: two Cloud Functions (gen2) scoring tweets with a LiteRT model read from
# a bucket, Pub/Sub in and out with dead letters, custom metrics, alert policies and a dashboard; a
# Dataflow streaming job detecting bad buzz per brand over the scored tweets; a third function posting
# its alerts to the team's chat.
#
# Where things are:
#   storage.tf     models bucket (model store) and function-source bucket + the source zip object
#   pubsub.tf      topics, our own push subscription (retries + dead letters), dead-letter holding queue
#   iam.tf         the identities that are not a function's own: push, function builds, the deployer
#   functions.tf   the functions: one modules/function each (function, identity, grants, invokers)
#   notify.tf      the notifier's push subscription, push identity and webhook secret
#   monitoring.tf  metric descriptors (from metric_descriptors.json), alert policies, dashboard
#   bigquery.tf    optional BigQuery subscriptions landing scored tweets and feedback
#   dataflow.tf    the pipelines: image repository, streaming job (Flex Template) and its subscription,
#                  the worker identities of the streaming and bulk jobs (modules/dataflow_worker)

provider "google" {
  project = var.project_id
  region  = var.region

  # Every resource that takes labels gets these (merged with its own).
  default_labels = local.default_labels
}

# Only for the types the google provider lacks (they say `provider = google-beta`); same settings.
provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = local.default_labels
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  default_labels  = merge({ app = "air-paradis-sentiment", managed-by = "terraform" }, var.labels)
  bucket_location = coalesce(var.bucket_location, upper(var.region))
  models_bucket   = coalesce(var.models_bucket_name, "${var.project_id}-sentiment-models")
  source_bucket   = coalesce(var.source_bucket_name, "${var.project_id}-sentiment-fn-source")
  dataflow_bucket = coalesce(var.dataflow_bucket_name, "${var.project_id}-sentiment-dataflow")
  bulk_bucket     = coalesce(var.bulk_bucket_name, "${var.project_id}-sentiment-bulk")

  # The functions follow gs://BUCKET/PREFIX/LATEST to the current bundle (converter publish/promote move it).
  model_uri = "gs://${local.models_bucket}/${var.model_prefix}"

  # Google-managed identity that forwards dead letters and writes BigQuery subscriptions.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Both functions share one configuration (functions/sentiment/config.py reads all of it in each).
  # Only names listed in config.SETTINGS may appear here; tests/test_infra_terraform.py checks it.
  function_env = {
    MODEL_URI             = local.model_uri
    MODEL_REFRESH_SECONDS = tostring(var.model_refresh_seconds)
    GOOGLE_CLOUD_PROJECT  = var.project_id
    FUNCTION_REGION       = var.region
    OUTPUT_TOPIC          = google_pubsub_topic.this["scored"].name
    DEAD_LETTER_TOPIC     = google_pubsub_topic.this["dead_letter"].name
    FEEDBACK_TOPIC        = google_pubsub_topic.this["feedback"].name
    LOG_LEVEL             = var.log_level
    METRICS_EXPORTER      = "monitoring"
    METRICS_FLUSH_SECONDS = tostring(var.metrics_flush_seconds)
    # No alert topic and no bad-buzz settings: the functions are stateless (score, publish, count);
    # bad buzz is detected per brand by the streaming pipeline (dataflow.tf), which alone publishes alerts.
  }

  # The APIs the deployment uses (README.md, "Deploy", lists the same; a test keeps them equal).
  apis = concat([
    "artifactregistry.googleapis.com", # images of the functions
    "cloudbuild.googleapis.com",       # builds them
    "cloudfunctions.googleapis.com",
    "compute.googleapis.com",  # the Dataflow workers and launcher VMs
    "dataflow.googleapis.com", # the bad-buzz streaming job and the bulk scoring job
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # the deployer's identity tokens (the pipeline's smoke test)
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",           # gen2 functions are Cloud Run services
    "secretmanager.googleapis.com", # the notifier's chat webhook URL
    "storage.googleapis.com",
  ], var.enable_bigquery_export ? ["bigquery.googleapis.com"] : [])
  services = var.enable_apis ? toset(local.apis) : toset([])
}

resource "google_project_service" "this" {
  for_each = local.services

  project = var.project_id
  service = each.value

  # Other workloads of the project may use these APIs: never switch them off on destroy.
  disable_on_destroy         = false
  disable_dependent_services = false
}

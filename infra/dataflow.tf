# The pipelines on Dataflow (pipelines/, `python -m pipelines`): the bad-buzz streaming job, run here
# as a Flex Template job, and the bulk scoring job, launched on demand (README.md, "Bulk scoring").
#
#   tweets-scored --pull (the pipeline's own subscription)--> stream job (sentiment-buzz-df)
#                 --> sentiment-alerts --> the notifier (notify.tf)
#
# Both templates' images are built by cloudbuild.yaml from pipelines/flex/Dockerfile into the
# repository below, tagged with the hash of what goes into them (pipelines/flex/image_tag.py), and
# their specs are written to gs://<dataflow bucket>/templates/<command>-<tag>.json. Each image is both
# its template's launcher and its workers' SDK container (sdk_container_image), so the workers start
# with every dependency installed.
#
# The streaming job is updated in place when the tag (code, model, requirements) or its parameters
# change: the provider launches the new template with update=true and Dataflow replaces the running
# job, carrying its windows and baselines over (if the new graph is compatible; else the apply fails
# and the old job keeps running, see README.md "Updating the streaming job"). Destroying it, or
# changing a ForceNew field (name, region, max_workers, enable_streaming_engine), drains it: it
# stops pulling, finishes what it holds (open windows fire), then stops; what it had not
# acknowledged stays in its subscription (7 days) for the next job.

locals {
  pipeline_images = "${google_artifact_registry_repository.pipelines.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.pipelines.repository_id}"
  templates       = "gs://${google_storage_bucket.this["dataflow"].name}/templates"
  # Also named in README.md and in cloudbuild.yaml's template steps.
  stream_subscription = "${var.topic_names.scored}-to-${var.stream_job.name}"

  # What each job's workers (and its launcher VM) may do; modules/dataflow_worker grants exactly this.
  dataflow_workers = {
    stream = {
      account_id  = "${var.stream_job.name}-df"
      name        = "Bad-buzz streaming job (${var.stream_job.name})"
      description = "Runs the bad-buzz pipeline's workers: pulls the scored tweets from its own subscription, publishes alerts."
      # Terraform launches and updates it: the deployer acts as its workers' identity.
      launchers      = { deployer = google_service_account.deployer.member }
      writes_buckets = { dataflow = google_storage_bucket.this["dataflow"].name }
      reads_buckets  = {}
      subscriptions  = { scored = google_pubsub_subscription.stream.name }
      publishes_to   = { alerts = google_pubsub_topic.this["alerts"].name }
    }
    bulk = {
      account_id  = var.bulk_account_id
      name        = "Bulk scoring job"
      description = "Runs the bulk scoring pipeline's workers: reads archives and the model store, writes scored rows."
      launchers   = { for member in var.bulk_launchers : member => member }
      writes_buckets = {
        dataflow = google_storage_bucket.this["dataflow"].name
        bulk     = google_storage_bucket.this["bulk"].name
      }
      reads_buckets = { models = google_storage_bucket.this["models"].name }
      subscriptions = {}
      publishes_to  = {}
    }
  }

  # The bulk job's launch, as README.md shows it (output bulk_job_command).
  bulk_job = {
    template         = "${local.templates}/score-${coalesce(var.pipeline_image_tag, "TAG")}.json"
    image            = "${local.pipeline_images}/score:${coalesce(var.pipeline_image_tag, "TAG")}"
    service_account  = module.dataflow_worker["bulk"].email
    staging_location = "gs://${google_storage_bucket.this["dataflow"].name}/staging"
    temp_location    = "gs://${google_storage_bucket.this["dataflow"].name}/temp"
    input            = "gs://${google_storage_bucket.this["bulk"].name}/${var.bulk_input_prefix}"
    output           = "gs://${google_storage_bucket.this["bulk"].name}/${var.bulk_output_prefix}"
    model            = "gs://${google_storage_bucket.this["models"].name}/${var.model_prefix}"
  }

  # What Terraform gives the streaming job (by the dest names of `python -m pipelines stream`'s options);
  # stream_options adds the detection options.
  stream_job_parameters = {
    subscription = google_pubsub_subscription.stream.id
    alert_topic  = google_pubsub_topic.this["alerts"].id
    brand_field  = var.stream_brand_field
  }

  # The streaming template's parameters (pipelines/flex/stream_metadata.json names them).
  stream_metadata   = jsondecode(file("${path.module}/../pipelines/flex/stream_metadata.json"))
  stream_parameters = [for parameter in local.stream_metadata.parameters : parameter.name]
}

resource "google_artifact_registry_repository" "pipelines" {
  #checkov:skip=CKV_GCP_84:The images hold public code, the committed public model bundle and public dependencies, nothing confidential; Google-managed encryption is the policy for this data (as for the topics, pubsub.tf).
  project       = var.project_id
  location      = var.region
  repository_id = var.pipeline_repository_id
  format        = "DOCKER"
  description   = "Images of the Air Paradis pipelines' Flex Templates (stream, score), tagged with the hash of their contents."

  # A tag names one content hash: never moved to other content.
  docker_config {
    immutable_tags = true
  }

  # Images older than 30 days are deleted, except each image's pipeline_images_kept most recent versions
  # (a keep policy wins over a delete policy): the running job's image, the newest, is always kept.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.pipeline_images_kept
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.this]
}

# The streaming pipeline's own pull subscription on the scored tweets (the functions publish them;
# nothing else reads this subscription). Dataflow acknowledges a message once the pipeline has
# durably taken it in, and extends ack deadlines itself.
resource "google_pubsub_subscription" "stream" {
  name    = local.stream_subscription
  project = var.project_id
  topic   = google_pubsub_topic.this["scored"].id

  ack_deadline_seconds = 60
  # 7 days (the most): after a drain, a failed update or a stopped job, tweets published since keep
  # waiting here for the next job. Acknowledged tweets are retained too, so that a new job (whose
  # windows and baselines start empty) can be given the last days again by seeking the subscription
  # back (README.md, "Updating the streaming job").
  message_retention_duration = "604800s"
  retain_acked_messages      = true

  # The job's only input must not expire during a quiet week or an outage of the job.
  expiration_policy {
    ttl = ""
  }
}

module "dataflow_worker" {
  source   = "./modules/dataflow_worker"
  for_each = local.dataflow_workers

  project_id          = var.project_id
  account_id          = each.value.account_id
  display_name        = each.value.name
  description         = each.value.description
  launchers           = each.value.launchers
  repository          = google_artifact_registry_repository.pipelines.name
  repository_location = google_artifact_registry_repository.pipelines.location
  writes_buckets      = each.value.writes_buckets
  reads_buckets       = each.value.reads_buckets
  subscriptions       = each.value.subscriptions
  publishes_to        = each.value.publishes_to

  depends_on = [google_project_service.this]
}

# Archives in other buckets the bulk job may read (bulk_input_buckets): read only.
resource "google_storage_bucket_iam_member" "bulk_inputs" {
  for_each = toset(var.bulk_input_buckets)

  bucket = each.value
  role   = "roles/storage.objectViewer"
  member = module.dataflow_worker["bulk"].member
}

resource "google_dataflow_flex_template_job" "stream" {
  provider = google-beta
  # Only once cloudbuild.yaml has built the images and template specs of a tag (the first apply,
  # by hand, has none: it creates the repository and bucket they go to).
  count = var.pipeline_image_tag == null ? 0 : 1

  project                 = var.project_id
  region                  = var.region
  name                    = var.stream_job.name
  container_spec_gcs_path = "${local.templates}/stream-${var.pipeline_image_tag}.json"
  sdk_container_image     = "${local.pipeline_images}/stream:${var.pipeline_image_tag}"
  service_account_email   = module.dataflow_worker["stream"].email
  staging_location        = "gs://${google_storage_bucket.this["dataflow"].name}/staging"
  temp_location           = "gs://${google_storage_bucket.this["dataflow"].name}/temp"

  enable_streaming_engine = true
  machine_type            = var.stream_job.machine_type
  max_workers             = var.stream_job.max_workers
  subnetwork              = var.dataflow_subnetwork
  ip_configuration        = var.dataflow_private_ips ? "WORKER_IP_PRIVATE" : "WORKER_IP_PUBLIC"

  # The template's parameters, by the dest names of `python -m pipelines stream`'s options.
  parameters             = merge(var.stream_options, local.stream_job_parameters)
  transform_name_mapping = var.stream_transform_name_mapping

  # terraform destroy, or a ForceNew change, drains the job (open windows fire, nothing pulled is
  # lost) and waits until it has stopped, so that its name is free for the next one.
  on_delete                    = "drain"
  skip_wait_on_job_termination = false

  lifecycle {
    precondition {
      condition     = alltrue([for name in keys(var.stream_options) : contains(local.stream_parameters, name)])
      error_message = "stream_options may only name parameters of pipelines/flex/stream_metadata.json: ${join(", ", local.stream_parameters)}."
    }

    precondition {
      condition     = length(setintersection(keys(var.stream_options), keys(local.stream_job_parameters))) == 0
      error_message = "stream_options must not set ${join(", ", keys(local.stream_job_parameters))}: Terraform sets them."
    }

    precondition {
      condition     = !var.dataflow_private_ips || var.dataflow_subnetwork != null
      error_message = "dataflow_private_ips needs dataflow_subnetwork (with Private Google Access)."
    }
  }

  # Its workers start with their grants in place; the deployer must act as their identity.
  depends_on = [google_project_service.this, module.dataflow_worker]
}

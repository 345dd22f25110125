# The identity one Dataflow job's workers (and its Flex Template launcher VM) run as, with exactly the
# grants that job needs, each on the narrowest resource there is. The root module instantiates it
# once per job (infra/dataflow.tf): what differs between the jobs is data there.

resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = var.account_id
  display_name = var.display_name
  description  = var.description
}

# Who launches the job must be able to act as its workers' identity (the Launch API checks actAs on
# the job's service_account_email): on this account only, never on the project.
resource "google_service_account_iam_member" "launcher" {
  for_each = var.launchers

  service_account_id = google_service_account.this.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}

# The one project-level role: leasing and reporting work items to the Dataflow service (and writing
# the job's logs and metrics) has no narrower resource.
resource "google_project_iam_member" "worker" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = google_service_account.this.member
}

# The image the launcher VM and the workers pull.
resource "google_artifact_registry_repository_iam_member" "image_reader" {
  project    = var.project_id
  location   = var.repository_location
  repository = var.repository
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.this.member
}

# Staging, temp and output: read, write and delete (Beam writes temporary files, then renames them).
resource "google_storage_bucket_iam_member" "writer" {
  for_each = var.writes_buckets

  bucket = each.value
  role   = "roles/storage.objectAdmin"
  member = google_service_account.this.member
}

# The model store and the inputs: read only.
resource "google_storage_bucket_iam_member" "reader" {
  for_each = var.reads_buckets

  bucket = each.value
  role   = "roles/storage.objectViewer"
  member = google_service_account.this.member
}

# Pull from the job's own subscriptions: subscriber (pull, acknowledge) and viewer (the runner reads
# the subscription's configuration before it starts), on those subscriptions only.
resource "google_pubsub_subscription_iam_member" "subscriber" {
  for_each = var.subscriptions

  project      = var.project_id
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.this.member
}

resource "google_pubsub_subscription_iam_member" "viewer" {
  for_each = var.subscriptions

  project      = var.project_id
  subscription = each.value
  role         = "roles/pubsub.viewer"
  member       = google_service_account.this.member
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = var.publishes_to

  project = var.project_id
  topic   = each.value
  role    = "roles/pubsub.publisher"
  member  = google_service_account.this.member
}

# Identities that are not a function's own, and what they may do. Each function runs as a service
# account of its own, created with its grants by modules/function (functions.tf says which topics each
# may publish to). Here: the push identity, the account the functions are built as, and the
# deploy pipeline's account. Every grant is on the narrowest resource the API allows; project-level
# grants are only for roles that have no narrower resource (metrics, logs) or whose resources this
# configuration does not own (the buckets and image repositories Cloud Functions creates itself, and
# what an apply creates).

# --- Push identity -----------------------------------------------------------------------------

resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "${var.pubsub_function.name}-push"
  display_name = "Pub/Sub push identity for ${var.pubsub_function.name}"
  description  = "Identity in the OIDC token of the tweets push subscription; may only invoke the Pub/Sub function."

  depends_on = [google_project_service.this]
}

# Pub/Sub mints the push OIDC tokens as its service agent acting for push_invoker. Projects created
# before April 2021 need this grant explicitly; granting it on this one account (not the project)
# is harmless where it is implicit.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# --- Function builds ---------------------------------------------------------------------------
# Cloud Build builds each function's image as this account (build_config.service_account). Without
# it the build runs as the project's default build account, which since 2024 is the Compute Engine
# default account in new projects, often without the roles a build needs. The roles are exactly the
# three Google documents for a user-specified build account of a function (Cloud Run, "Build service
# account"): Logs Writer (build logs), Artifact Registry Writer (the function's image), Storage
# Object Admin (the function's source and the build's layers). Project-level: the buckets and
# repositories they apply to (gcf-v2-sources-*, gcf-artifacts) are created by Cloud Functions, not
# here, and do not exist before the first build.

locals {
  function_build_roles = ["roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectAdmin"]
}

resource "google_service_account" "function_build" {
  project      = var.project_id
  account_id   = var.function_build_account_id
  display_name = "Sentiment functions: build"
  description  = "Cloud Build builds the sentiment functions' images as this account (logs, images, sources only)."

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "function_build" {
  for_each = toset(local.function_build_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.function_build.member
}

# --- Deployer ----------------------------------------------------------------------------------
# cloudbuild.yaml runs as this account (its serviceAccount field), never as a default build account:
# those cannot mint the identity token the smoke test calls the HTTP function with. The first apply
# is made by a person (it creates this account); every later one by the pipeline. The roles are what
# an apply of this configuration needs; README.md, "Deploy", lists the same (a test keeps them equal).

locals {
  deployer_roles = concat([
    "roles/cloudfunctions.admin",
    "roles/run.admin", # run.invoker grants on the functions' Cloud Run services
    "roles/iam.serviceAccountAdmin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/storage.admin",
    "roles/pubsub.admin",
    "roles/monitoring.admin",
    "roles/secretmanager.admin",    # the notifier's webhook secret and its accessor grant (never its value)
    "roles/logging.logWriter",      # the build's own logs (CLOUD_LOGGING_ONLY)
    "roles/dataflow.admin",         # launches and updates the streaming job (Google's minimal role for it)
    "roles/artifactregistry.admin", # the pipelines' image repository, its reader grants, pushing the images
    ],
    var.enable_apis ? ["roles/serviceusage.serviceUsageAdmin"] : [],
    var.enable_bigquery_export ? ["roles/bigquery.admin"] : [],
  )

  # Deploying a function that builds as an account, or a push subscription whose tokens are minted
  # for one, needs actAs on that account: roles/iam.serviceAccountUser on those accounts, never on the
  # project (which would let the deployer act as every account of the project). The same grant on
  # each function's own runtime account is made by modules/function, before the function.
  deployer_acts_as = {
    function_build = google_service_account.function_build.name
    push           = google_service_account.push_invoker.name
  }
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = var.deployer_account_id
  display_name = "Sentiment deploy pipeline"
  description  = "cloudbuild.yaml runs as this account: applies infra/ and smoke-tests the HTTP function with its identity token."

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(local.deployer_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.deployer.member
}

resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each = local.deployer_acts_as

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

# The smoke test's `gcloud auth print-identity-token --audiences=URL`: a user-specified build account
# mints its own ID tokens through the IAM Service Account Credentials API (iamcredentials, enabled
# in main.tf), which needs this role on the account itself.
resource "google_service_account_iam_member" "deployer_id_tokens" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.serviceAccountOpenIdTokenCreator"
  member             = google_service_account.deployer.member
}

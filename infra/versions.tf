terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  # Exact versions: checks/provider_schema.json is the schema of exactly this release (the offline
  # schema check holds every block here against it), and .terraform.lock.hcl locks it with the
  # release's hashes for every platform. Upgrading is one change to all three: see README.md,
  # "Provider version".
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "7.45.0"
    }
    # For the types only the beta provider has (google_dataflow_flex_template_job): such a resource
    # says `provider = google-beta`; checks/provider_schema.json records which types need it.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "7.45.0"
    }
  }

  # Partial configuration: the state bucket and prefix are given at init time
  # (`terraform init -backend-config=bucket=... -backend-config=prefix=...`, as cloudbuild.yaml does),
  # so no project-specific value is committed. The bucket must exist before the first init and
  # should have object versioning on (the README says how to create it).
  backend "gcs" {}
}

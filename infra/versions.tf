terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0, < 8.0"
    }
  }

  # Partial configuration: the state bucket and prefix are given at init time
  # (`terraform init -backend-config=bucket=... -backend-config=prefix=...`, as cloudbuild.yaml does),
  # so no project-specific value is committed. The bucket must exist before the first init and
  # should have object versioning on (the README says how to create it).
  backend "gcs" {}
}

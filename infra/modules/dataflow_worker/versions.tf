terraform {
  # A child module states the least it needs; the root module (infra/versions.tf) pins the ranges.
  required_version = ">= 1.6.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0"
    }
  }
}

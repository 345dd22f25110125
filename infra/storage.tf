# Two buckets: the model store the functions read at run time, and the functions' source zips.

# The model store: gs://BUCKET/PREFIX/LATEST names the current version, and
# gs://BUCKET/PREFIX/<version>/{manifest.json,model.tflite,...} holds immutable bundles.
# `python -m converter publish` uploads a bundle and moves LATEST with a generation precondition;
# `python -m converter promote` moves it back (rollback). Versioning keeps what a mistaken publish or
# delete replaced, and the lifecycle rules below bound what that history costs.
resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Access logs (legacy usage logs) would need a third bucket; reads of the model store are covered by Cloud Audit Logs (Data Access for storage can be enabled project-wide).
  name     = local.models_bucket
  project  = var.project_id
  location = local.bucket_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets

  versioning {
    enabled = true
  }

  # LATEST is rewritten on every publish: keep a bounded history of it (and of anything overwritten).
  lifecycle_rule {
    condition {
      num_newer_versions = var.model_noncurrent_versions
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # ... and never keep a replaced or deleted object longer than model_noncurrent_days.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.model_noncurrent_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

# Source zips of the functions. An object is named after the zip's SHA-256, so a code change is a new
# object name, which changes the functions' storage_source and redeploys them (an object overwritten
# under a fixed name would not). Old zips are deleted by Terraform when replaced; versioning keeps
# them a week for forensics.
resource "google_storage_bucket" "function_source" {
  #checkov:skip=CKV_GCP_62:Access logs would need a third bucket; the only reader is the Cloud Functions build, which Cloud Audit Logs already record.
  name     = local.source_bucket
  project  = var.project_id
  location = local.bucket_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Only build artifacts live here: they are rebuilt from git at will.
  force_destroy = true

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

locals {
  # infra/package_function.py writes this zip deterministically (sorted entries, fixed timestamps),
  # so its hash changes only when the code or the runtime requirements do.
  function_source_zip    = coalesce(var.function_source_zip, "${path.module}/../build/function-source.zip")
  function_source_sha256 = filesha256(local.function_source_zip)
}

resource "google_storage_bucket_object" "function_source" {
  name         = "functions/sentiment-${local.function_source_sha256}.zip"
  bucket       = google_storage_bucket.function_source.name
  source       = local.function_source_zip
  content_type = "application/zip"

  # The new zip must exist before the functions switch to it and the old one is removed.
  lifecycle {
    create_before_destroy = true
  }
}

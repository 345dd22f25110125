# Four buckets: the model store the functions read at run time, the functions' source zips, the
# Dataflow jobs' templates, staged and temporary files, and the bulk scoring job's archives and
# results. All are private (uniform access, public access prevention), versioned, in the functions'
# region; what differs (lifecycle rules, whether destroy may empty them) is data in local.buckets.
# A lifecycle rule deletes either noncurrent versions (with_state ARCHIVED) or live objects under a
# prefix past an age.

locals {
  buckets = {
    # The model store: gs://BUCKET/PREFIX/LATEST names the current version, and
    # gs://BUCKET/PREFIX/<version>/{manifest.json,model.tflite,...} holds immutable bundles.
    # `python -m converter publish` uploads a bundle and moves LATEST with a generation precondition;
    # `python -m converter promote` moves it back (rollback). Versioning keeps what a mistaken publish
    # or delete replaced, and the lifecycle rules bound what that history costs: LATEST is rewritten
    # on every publish, so keep a bounded number of noncurrent versions, and never keep a replaced or
    # deleted object longer than model_noncurrent_days.
    models = {
      name          = local.models_bucket
      force_destroy = var.force_destroy_buckets
      delete = [
        { num_newer_versions = var.model_noncurrent_versions, days_since_noncurrent_time = null, age = null, matches_prefix = null, with_state = "ARCHIVED" },
        { num_newer_versions = null, days_since_noncurrent_time = var.model_noncurrent_days, age = null, matches_prefix = null, with_state = "ARCHIVED" },
      ]
    }

    # Source zips of the functions. An object is named after the zip's SHA-256, so a code change is a
    # new object name, which changes the functions' storage_source and redeploys them (an object
    # overwritten under a fixed name would not). Old zips are deleted by Terraform when replaced;
    # versioning keeps them a week for forensics. Only build artifacts live here: they are rebuilt
    # from git at will, so the bucket may always be destroyed.
    function_source = {
      name          = local.source_bucket
      force_destroy = true
      delete = [
        { num_newer_versions = null, days_since_noncurrent_time = 7, age = null, matches_prefix = null, with_state = "ARCHIVED" },
      ]
    }

    # The Dataflow jobs' files: templates/ (the Flex Template specs cloudbuild.yaml writes, one per
    # image tag: a few KB each, kept, since a job recreated later reads its spec again), staging/
    # (what each launch stages for its workers: kept while a job may still add workers) and temp/
    # (temporary files of writes in progress: deleted after dataflow_temp_days). All rebuilt from git.
    dataflow = {
      name          = local.dataflow_bucket
      force_destroy = true
      delete = [
        { num_newer_versions = null, days_since_noncurrent_time = 1, age = null, matches_prefix = null, with_state = "ARCHIVED" },
        { num_newer_versions = null, days_since_noncurrent_time = null, age = var.dataflow_temp_days, matches_prefix = ["temp/"], with_state = "ANY" },
      ]
    }

    # Archives the bulk scoring job reads (bulk_input_prefix) and the scored and rejected rows it
    # writes (bulk_output_prefix). Archives are data: destroyed only with force_destroy_buckets.
    bulk = {
      name          = local.bulk_bucket
      force_destroy = var.force_destroy_buckets
      delete = [
        { num_newer_versions = null, days_since_noncurrent_time = 7, age = null, matches_prefix = null, with_state = "ARCHIVED" },
      ]
    }
  }
}

resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_62:Access logs (legacy usage logs) would need one more bucket; reads of the model store, of the source zips (by the Cloud Functions build only) and of the Dataflow and bulk files (by their jobs' own identities) are covered by Cloud Audit Logs (Data Access for storage can be enabled project-wide).
  for_each = local.buckets

  name     = each.value.name
  project  = var.project_id
  location = local.bucket_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = each.value.force_destroy

  versioning {
    enabled = true
  }

  dynamic "lifecycle_rule" {
    for_each = each.value.delete

    content {
      condition {
        num_newer_versions         = lifecycle_rule.value.num_newer_versions
        days_since_noncurrent_time = lifecycle_rule.value.days_since_noncurrent_time
        age                        = lifecycle_rule.value.age
        matches_prefix             = lifecycle_rule.value.matches_prefix
        with_state                 = lifecycle_rule.value.with_state
      }
      action {
        type = "Delete"
      }
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
  bucket       = google_storage_bucket.this["function_source"].name
  source       = local.function_source_zip
  content_type = "application/zip"

  # The new zip must exist before the functions switch to it and the old one is removed.
  lifecycle {
    create_before_destroy = true
  }
}

output "http_function_uri" {
  description = "URL of the HTTP function (callers need an identity token for this audience unless http_allow_unauthenticated)."
  value       = module.function["http"].uri
}

output "pubsub_function_uri" {
  description = "URL of the Pub/Sub function (internal ingress; only the push subscription's identity may invoke it)."
  value       = module.function["pubsub"].uri
}

output "notify_function_uri" {
  description = "URL of the notifier function (internal ingress; only the alerts push subscription's identity may invoke it)."
  value       = module.function["notify"].uri
}

output "notify_subscription" {
  description = "The alerts push subscription feeding the notifier (its own retry and dead-letter policies)."
  value       = google_pubsub_subscription.alerts_push.id
}

output "notify_webhook_secret" {
  description = "Secret Manager secret the notifier reads the chat webhook URL from: add the URL as a version (gcloud secrets versions add)."
  value       = google_secret_manager_secret.notify_webhook.id
}

output "model_uri" {
  description = "Model store the functions read (MODEL_URI): publish with `python -m converter publish BUNDLE --to <this>`."
  value       = local.model_uri
}

output "models_bucket" {
  description = "Name of the models bucket."
  value       = google_storage_bucket.this["models"].name
}

output "function_source_object" {
  description = "gs:// URI of the source zip the functions were built from (its name carries the zip's SHA-256)."
  value       = "gs://${google_storage_bucket_object.function_source.bucket}/${google_storage_bucket_object.function_source.name}"
}

output "topics" {
  description = "Topic IDs by role: tweets (in), scored, alerts, feedback, dead_letter."
  value       = { for key, topic in google_pubsub_topic.this : key => topic.id }
}

output "push_subscription" {
  description = "The tweets push subscription feeding the Pub/Sub function (retry and dead-letter policies)."
  value       = google_pubsub_subscription.tweets_push.id
}

output "dead_letter_subscription" {
  description = "Pull subscription holding dead-lettered tweets for inspection and replay."
  value       = google_pubsub_subscription.dead_letter_hold.id
}

output "service_accounts" {
  description = "Emails of the identities: http, pubsub and notify (the functions), push and notify_push (the push subscriptions' OIDC identities)."
  value = merge(
    { for key, function in module.function : key => function.service_account_email },
    { push = google_service_account.push_invoker.email, notify_push = google_service_account.notify_push.email },
  )
}

output "alert_policies" {
  description = "Alert policy IDs by purpose."
  value       = { for key, policy in google_monitoring_alert_policy.this : key => policy.id }
}

output "dashboard_id" {
  description = "ID of the Cloud Monitoring dashboard."
  value       = google_monitoring_dashboard.sentiment.id
}

output "bigquery_tables" {
  description = "BigQuery tables receiving scored tweets and feedback (empty unless enable_bigquery_export)."
  value       = { for key, table in google_bigquery_table.landing : key => table.id }
}

output "http_public" {
  description = "Whether the HTTP function is public (http_allow_unauthenticated); the smoke test then skips its not-public check."
  value       = var.http_allow_unauthenticated
}

output "pipeline_images" {
  description = "Artifact Registry path of the pipelines' images (<this>/stream:TAG, <this>/score:TAG), built by cloudbuild.yaml."
  value       = local.pipeline_images
}

output "dataflow_bucket" {
  description = "Bucket of the Dataflow jobs' template specs (templates/), staged files (staging/) and temporary files (temp/)."
  value       = google_storage_bucket.this["dataflow"].name
}

output "stream_job" {
  description = "The bad-buzz streaming job: its Dataflow job ID and state (null until a pipeline_image_tag is deployed)."
  value       = try({ id = google_dataflow_flex_template_job.stream[0].job_id, state = google_dataflow_flex_template_job.stream[0].state }, null)
}

output "stream_subscription" {
  description = "The streaming job's own pull subscription on the scored tweets."
  value       = google_pubsub_subscription.stream.id
}

output "dataflow_service_accounts" {
  description = "Emails of the Dataflow jobs' worker identities: stream, bulk."
  value       = { for key, worker in module.dataflow_worker : key => worker.email }
}

output "bulk_job_command" {
  description = "The command that scores the archives under the bulk bucket's input prefix with the deployed image (README.md, \"Bulk scoring\")."
  value = join(" ", [
    "gcloud dataflow flex-template run \"sentiment-score-$(date +%Y%m%d-%H%M%S)\"",
    "--project=${var.project_id} --region=${var.region}",
    "--template-file-gcs-location=${local.bulk_job.template}",
    "--service-account-email=${local.bulk_job.service_account}",
    "--staging-location=${local.bulk_job.staging_location} --temp-location=${local.bulk_job.temp_location}",
    "--additional-experiments=use_runner_v2 --parameters=sdk_container_image=${local.bulk_job.image}",
    "--parameters=input=${local.bulk_job.input}/'*.jsonl' --parameters=output=${local.bulk_job.output}/scored",
    "--parameters=rejected=${local.bulk_job.output}/rejected --parameters=model=${local.bulk_job.model}",
  ])
}

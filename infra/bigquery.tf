# Optional (enable_bigquery_export): BigQuery subscriptions land every scored tweet and every piece
# of user feedback in day-partitioned tables, for analysis and for the next training set, with no
# code of ours in between. Each message is written whole: its JSON payload in `data` (query it with
# JSON_VALUE), its attributes in `attributes`, plus the subscription, message ID and publish time.

locals {
  bigquery_tables = var.enable_bigquery_export ? {
    scored_tweets = {
      topic       = google_pubsub_topic.this["scored"].id
      description = "Scored tweets as published on the ${var.topic_names.scored} topic (one row per message)."
    }
    feedback = {
      topic       = google_pubsub_topic.this["feedback"].id
      description = "User feedback (text, label) as published on the ${var.topic_names.feedback} topic (one row per message)."
    }
  } : {}

  # The columns a BigQuery subscription with write_metadata = true fills.
  pubsub_message_schema = [
    { name = "subscription_name", type = "STRING", mode = "NULLABLE", description = "Subscription that wrote the row." },
    { name = "message_id", type = "STRING", mode = "NULLABLE", description = "Pub/Sub message ID (deduplicate on it)." },
    { name = "publish_time", type = "TIMESTAMP", mode = "NULLABLE", description = "When the message was published." },
    { name = "data", type = "STRING", mode = "NULLABLE", description = "The message payload (JSON text)." },
    { name = "attributes", type = "STRING", mode = "NULLABLE", description = "The message attributes (JSON object)." },
  ]
}

resource "google_bigquery_dataset" "sentiment" {
  #checkov:skip=CKV_GCP_81:Public tweets and their scores; Google-managed encryption is the policy for this data, as for the topics (pubsub.tf).
  count = var.enable_bigquery_export ? 1 : 0

  project       = var.project_id
  dataset_id    = var.bigquery_dataset_id
  friendly_name = "Air Paradis tweet sentiment"
  description   = "Scored tweets and user feedback landed by Pub/Sub BigQuery subscriptions."
  location      = coalesce(var.bigquery_location, var.region)

  # Never let `terraform destroy` drop the data with the dataset.
  delete_contents_on_destroy = false

  depends_on = [google_project_service.this]
}

resource "google_bigquery_table" "landing" {
  #checkov:skip=CKV_GCP_80:Public tweets and their scores; Google-managed encryption is the policy for this data, as for the topics (pubsub.tf).
  for_each = local.bigquery_tables

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.sentiment[0].dataset_id
  table_id            = each.key
  description         = each.value.description
  deletion_protection = var.bigquery_deletion_protection
  schema              = jsonencode(local.pubsub_message_schema)

  time_partitioning {
    type          = "DAY"
    field         = "publish_time"
    expiration_ms = var.bigquery_partition_expiration_days == null ? null : var.bigquery_partition_expiration_days * 86400000
  }
}

# The Pub/Sub service agent writes the rows: data editor on this dataset only.
resource "google_bigquery_dataset_iam_member" "pubsub_writer" {
  count = var.enable_bigquery_export ? 1 : 0

  project    = var.project_id
  dataset_id = google_bigquery_dataset.sentiment[0].dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.pubsub_service_agent
}

resource "google_pubsub_subscription" "bigquery" {
  for_each = local.bigquery_tables

  name    = "${each.key}-to-bigquery"
  project = var.project_id
  topic   = each.value.topic

  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  bigquery_config {
    table          = "${var.project_id}.${google_bigquery_table.landing[each.key].dataset_id}.${google_bigquery_table.landing[each.key].table_id}"
    write_metadata = true
  }

  # A row BigQuery refuses is parked with the tweets that could not be scored rather than retried
  # forever in the backlog (the dead-letter alert then tells someone).
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.this["dead_letter"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_bigquery_dataset_iam_member.pubsub_writer,
    google_pubsub_topic_iam_member.dead_letter_forwarding,
  ]
}

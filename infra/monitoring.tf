# Custom metrics, alert policies and the dashboard.
#
# The metric descriptors come from metric_descriptors.json, which is generated from the code
# (`python -m sentiment.telemetry.descriptors > infra/metric_descriptors.json`; a test keeps them equal),
# so a renamed metric cannot silently orphan an alert or a chart: the tests also check that every
# metric named below and in dashboard.json is one of them.
#
# The functions write their points on the generic_task monitored resource, one series per instance
# (task_id = instance), as CUMULATIVE counters and distributions only (a per-instance gauge would mean
# nothing summed over instances). Fleet-wide numbers are sums over task_id. Conditions use PromQL (MQL is deprecated), where custom.googleapis.com/sentiment/x is
# custom_googleapis_com:sentiment_x and a distribution adds _bucket/_count/_sum.

locals {
  metric_descriptors = {
    for d in jsondecode(file("${path.module}/metric_descriptors.json")).descriptors : d.name => d
  }

  notification_channels = concat(google_monitoring_notification_channel.email[*].id, var.notification_channels)

  # PromQL building blocks.
  window       = "${var.bad_buzz_window_minutes}m"
  buzz_sources = join("|", var.bad_buzz_sources)
  scored       = "custom_googleapis_com:sentiment_tweets_scored"
  rejected     = "custom_googleapis_com:sentiment_requests_rejected"
  load_failed  = "custom_googleapis_com:sentiment_model_load_failures"
  on_task      = "monitored_resource=\"generic_task\""
  functions_re = join("|", [for f in module.function : f.name])
}

resource "google_monitoring_metric_descriptor" "sentiment" {
  for_each = local.metric_descriptors

  project      = var.project_id
  type         = each.value.type
  display_name = each.value.display_name
  description  = each.value.description
  metric_kind  = each.value.metric_kind
  value_type   = each.value.value_type
  unit         = each.value.unit
  launch_stage = "GA"

  # ForceNew: any change to a descriptor's labels (a key added, removed or renamed, even a label's
  # description) makes Terraform delete and recreate the descriptor, and Cloud Monitoring drops the
  # metric's recorded history with it. So do type, metric_kind and value_type. The fields that force
  # a replacement are pinned in metric_descriptors.forcenew.json: a test fails until that file is
  # updated in the same change, so that such a change is made on purpose.
  dynamic "labels" {
    for_each = each.value.labels
    content {
      key         = labels.key
      value_type  = "STRING"
      description = labels.value
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_notification_channel" "email" {
  count = var.alert_email == null ? 0 : 1

  project      = var.project_id
  display_name = "Air Paradis sentiment alerts (${var.alert_email})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }

  depends_on = [google_project_service.this]
}

# --- Alert policies ------------------------------------------------------------------------------
# One entry per policy; google_monitoring_alert_policy.this gives each the same shape: one PromQL
# condition evaluated every minute (Cloud Monitoring accepts no other condition beside a PromQL one),
# a runbook (documentation) and the notification channels.
locals {
  alert_policies = {
    # Bad buzz, the coarse operations signal: the negative share of every tweet scored fleet-wide
    # (all brands mixed) over the window, against one fixed threshold, only once enough tweets were
    # seen. increase() of the per-instance tweets_scored counters summed over instances (task_id) is
    # the fleet's count; neutral tweets are in the denominator. The alerts the team reads are the
    # streaming pipeline's (per brand, against its own baseline, dataflow.tf), not this policy's.
    bad_buzz = {
      display_name = "Sentiment: bad buzz (negative share > ${var.bad_buzz_negative_share} over ${local.window})"
      severity     = "CRITICAL"
      auto_close   = "1800s"
      conditions = [{
        display_name = "Negative share of scored tweets above ${var.bad_buzz_negative_share} with at least ${var.bad_buzz_min_tweets} tweets in ${local.window}"
        duration     = "60s"
        query        = <<-EOT
          (
            sum(increase(${local.scored}{${local.on_task},sentiment="negative",source=~"${local.buzz_sources}"}[${local.window}]))
            /
            sum(increase(${local.scored}{${local.on_task},source=~"${local.buzz_sources}"}[${local.window}]))
          ) > ${var.bad_buzz_negative_share}
          and
          sum(increase(${local.scored}{${local.on_task},source=~"${local.buzz_sources}"}[${local.window}])) >= ${var.bad_buzz_min_tweets}
        EOT
      }]
      subject = "Bad buzz: negative tweets above ${var.bad_buzz_negative_share} over ${local.window}"
      runbook = <<-EOT
        A share above ${var.bad_buzz_negative_share} of all the tweets the functions scored in the last
        ${local.window} (sources: ${local.buzz_sources}; every brand together) are negative, over at least
        ${var.bad_buzz_min_tweets} tweets. This is the coarse, fleet-wide signal for operations: the
        per-brand alerts, with the tweets and words behind them, come from the streaming job
        `${var.stream_job.name}` on `${google_pubsub_topic.this["alerts"].name}` and are posted by the notifier.

        - Did the streaming job alert too? If not, check that it runs and keeps up (Dataflow console:
          job `${var.stream_job.name}`, its data freshness and its subscription's backlog).
        - Check the model before the brand: the dashboard's confidence chart shows whether the model's
          probabilities shifted (drift, or a new model version) rather than the public's mood.
        - The scored tweets themselves are on `${google_pubsub_topic.this["scored"].name}`.
      EOT
    }

    # Requests and messages the code refused (bad input, too large, model unavailable, ...), as a
    # share of everything it handled. "or vector(0)": when nothing could be scored at all (model
    # down), the scored counter may not exist, and the share must still be computed (it is then 100%).
    # One condition per policy: Cloud Monitoring refuses a policy with a PromQL condition and another.
    errors = {
      display_name = "Sentiment: refused share above ${var.error_rate_threshold}"
      severity     = "ERROR"
      auto_close   = "1800s"
      conditions = [{
        display_name = "Refused requests/messages above ${var.error_rate_threshold} over 10 min"
        duration     = "120s"
        query        = <<-EOT
          (
            sum(increase(${local.rejected}{${local.on_task}}[10m]))
            /
            (sum(increase(${local.rejected}{${local.on_task}}[10m])) + (sum(increase(${local.scored}{${local.on_task}}[10m])) or vector(0)))
          ) > ${var.error_rate_threshold}
          and
          (sum(increase(${local.rejected}{${local.on_task}}[10m])) + (sum(increase(${local.scored}{${local.on_task}}[10m])) or vector(0))) >= ${var.error_rate_min_requests}
        EOT
      }]
      subject = "Sentiment functions: refused share above ${var.error_rate_threshold}"
      runbook = <<-EOT
        The functions ${join(" and ", [for f in module.function : "`${f.name}`"])}
        refuse a share above ${var.error_rate_threshold} of the requests and messages they handle.

        - The dashboard's "Refused, by reason" chart says why (model_unavailable points at the model store).
        - Tweets the stream could not score are retried, then parked on `${google_pubsub_topic.this["dead_letter"].name}`.
      EOT
    }

    # What the code cannot count: crashes, timeouts, out-of-memory kills, all seen by Cloud Run as 5xx.
    server_errors = {
      display_name = "Sentiment: 5xx share above ${var.error_rate_threshold}"
      severity     = "ERROR"
      auto_close   = "1800s"
      conditions = [{
        display_name = "5xx responses of the functions above ${var.error_rate_threshold} over 10 min"
        duration     = "120s"
        query        = <<-EOT
          (
            sum(increase(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name=~"${local.functions_re}",response_code_class="5xx"}[10m]))
            /
            sum(increase(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name=~"${local.functions_re}"}[10m]))
          ) > ${var.error_rate_threshold}
          and
          sum(increase(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name=~"${local.functions_re}"}[10m])) >= ${var.error_rate_min_requests}
        EOT
      }]
      subject = "Sentiment functions: 5xx share above ${var.error_rate_threshold}"
      runbook = <<-EOT
        Cloud Run answered 5xx for a share above ${var.error_rate_threshold} of the requests to
        ${join(" and ", [for f in module.function : "`${f.name}`"])}: crashes, timeouts or
        out-of-memory kills, which the code itself cannot count.

        - Cloud Logging: resource.type="cloud_run_revision" severity>=ERROR for the crashes.
        - A memory limit hit shows as "Memory limit of ... exceeded" in the same logs: raise `memory`.
      EOT
    }

    # Model load failures. The first failure of a new instance starts a new series at 1, which
    # increase() cannot see (it needs two points); the "unless ... offset" term catches series that
    # did not exist a window ago.
    model_load_failures = {
      display_name = "Sentiment: model load failures"
      severity     = "ERROR"
      auto_close   = "1800s"
      conditions = [{
        display_name = "A function instance failed to load the model in the last 10 min"
        duration     = "0s"
        query        = <<-EOT
          sum(increase(${local.load_failed}{${local.on_task}}[10m])) > 0
          or
          sum(${local.load_failed}{${local.on_task}} unless ${local.load_failed}{${local.on_task}} offset 10m) > 0
        EOT
      }]
      subject = "Sentiment functions cannot load the model"
      runbook = <<-EOT
        An instance could not fetch or verify the model bundle under `${local.model_uri}`
        (reason label: unavailable = the store could not be read, invalid_bundle = the bundle was refused).
        Without a model the HTTP function answers 503 and tweets are retried, then dead-lettered: no
        score is ever made up.

        - Which version does LATEST name? `gcloud storage cat ${local.model_uri}/LATEST`
        - Roll back: `python -m converter promote ${local.model_uri} PREVIOUS_VERSION`
      EOT
    }

    # Dead letters: anything parked in the holding subscription.
    dead_letters = {
      display_name = "Sentiment: tweets parked on the dead-letter topic"
      severity     = "WARNING"
      auto_close   = "3600s"
      conditions = [{
        display_name = "Undelivered messages in ${google_pubsub_subscription.dead_letter_hold.name}"
        duration     = "60s"
        query        = <<-EOT
          sum(pubsub_googleapis_com:subscription_num_undelivered_messages{monitored_resource="pubsub_subscription",subscription_id="${google_pubsub_subscription.dead_letter_hold.name}"}) > 0
        EOT
      }]
      subject = "Tweets could not be scored and were dead-lettered"
      runbook = <<-EOT
        Tweets wait in `${google_pubsub_subscription.dead_letter_hold.name}` (kept 7 days): either the
        function refused them for good (the reason is in the message), or every one of
        ${var.max_delivery_attempts} deliveries failed (attribute CloudPubSubDeadLetterSourceDeliveryCount).

        - Inspect: `gcloud pubsub subscriptions pull ${google_pubsub_subscription.dead_letter_hold.name} --limit=10`
        - Replay after a fix: republish the payloads to `${google_pubsub_topic.this["tweets"].name}`, then ack them here.
        - Bad-buzz alerts the notifier could not post land here too (attribute parked_by=notify-function, or
          a source subscription of ${google_pubsub_subscription.alerts_push.name}): read error_reason
          (webhook_refused: check the webhook secret; rate_limited: a burst for one brand), fix, then
          republish them to `${google_pubsub_topic.this["alerts"].name}`: the team has not seen them.
      EOT
    }
  }
}

resource "google_monitoring_alert_policy" "this" {
  for_each = local.alert_policies

  project      = var.project_id
  display_name = each.value.display_name
  combiner     = "OR"
  severity     = each.value.severity

  dynamic "conditions" {
    for_each = each.value.conditions

    content {
      display_name = conditions.value.display_name

      condition_prometheus_query_language {
        query               = conditions.value.query
        duration            = conditions.value.duration
        evaluation_interval = "60s"
      }
    }
  }

  alert_strategy {
    auto_close = each.value.auto_close
  }

  documentation {
    subject   = each.value.subject
    mime_type = "text/markdown"
    content   = each.value.runbook
  }

  notification_channels = local.notification_channels
  depends_on            = [google_monitoring_metric_descriptor.sentiment]
}

# --- Dashboard -----------------------------------------------------------------------------------
# dashboard.json is plain JSON (readable and checked by the tests) whose few deployment-specific
# values are ${...} placeholders inside strings, filled in here.
resource "google_monitoring_dashboard" "sentiment" {
  project = var.project_id
  dashboard_json = templatefile("${path.module}/dashboard.json", {
    http_service             = module.function["http"].name
    pubsub_service           = module.function["pubsub"].name
    push_subscription        = google_pubsub_subscription.tweets_push.name
    dead_letter_subscription = google_pubsub_subscription.dead_letter_hold.name
    bad_buzz_negative_share  = var.bad_buzz_negative_share
    bad_buzz_min_tweets      = var.bad_buzz_min_tweets
    bad_buzz_window          = local.window
    bad_buzz_sources         = local.buzz_sources
  })

  depends_on = [google_monitoring_metric_descriptor.sentiment]
}

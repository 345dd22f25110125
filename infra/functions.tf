# The three Cloud Functions (2nd gen), one instance of modules/function each. Same source zip,
# different entry points in functions/main.py:
#   predict_http  @functions_framework.http         HTTP JSON API, callable by the listed members only
#   score_pubsub  @functions_framework.cloud_event  fed by the tweets push subscription (pubsub.tf)
#   notify_alert  @functions_framework.cloud_event  fed by the alerts push subscription (notify.tf)
#
# None has an event_trigger: the CloudEvent functions are reached by our own push subscriptions, which
# carry the retry and dead-letter policies an Eventarc-managed subscription cannot (see pubsub.tf
# and infra/README.md). The decorator, not the deployment, tells functions-framework that
# score_pubsub and notify_alert take CloudEvents; it converts the push envelope. The two scoring
# functions share one configuration (local.function_env); the notifier has its own (local.notify_env).

locals {
  # What differs between the functions; everything else is modules/function.
  functions = {
    http = {
      settings    = var.http_function
      entry_point = "predict_http"
      description = "Air Paradis tweet sentiment: HTTP JSON API (POST /predict, GET /health, GET /model)."
      account     = "Sentiment HTTP function (${var.http_function.name})"
      account_use = "Runs the HTTP scoring function: reads the model store, publishes feedback, writes metrics."
      ingress     = var.http_ingress
      # User feedback (POST /feedback). Its scores are the HTTP response.
      publishes_to = {
        feedback = google_pubsub_topic.this["feedback"].name
      }
      # The listed members, and the deploy pipeline (its smoke test calls /health, /predict, /model).
      invokers              = merge({ for member in var.http_invoker_members : member => member }, { deployer = google_service_account.deployer.member })
      allow_unauthenticated = var.http_allow_unauthenticated
      environment           = local.function_env
      scores                = true # reads the model store, writes metrics
      secrets               = {}
    }

    pubsub = {
      settings    = var.pubsub_function
      entry_point = "score_pubsub"
      description = "Air Paradis tweet sentiment: scores the tweets stream (push subscription ${local.push_subscription})."
      account     = "Sentiment Pub/Sub function (${var.pubsub_function.name})"
      account_use = "Runs the tweet-stream scoring function: reads the model store, publishes scores and dead letters, writes metrics."
      # Pub/Sub push from this project counts as internal traffic: nothing else needs to reach it.
      ingress = "ALLOW_INTERNAL_ONLY"
      # The scores of the stream (the streaming pipeline's input), and tweets it can never score
      # (parked with the reason on the dead-letter topic rather than retried forever).
      publishes_to = {
        scored      = google_pubsub_topic.this["scored"].name
        dead_letter = google_pubsub_topic.this["dead_letter"].name
      }
      # Only the push identity.
      invokers              = { push = google_service_account.push_invoker.member }
      allow_unauthenticated = false
      environment           = local.function_env
      scores                = true
      secrets               = {}
    }

    notify = {
      settings    = var.notify_function
      entry_point = "notify_alert"
      description = "Air Paradis bad-buzz notifier: posts each alert to the team's chat (push subscription ${local.notify_push_subscription})."
      account     = "Sentiment notifier function (${var.notify_function.name})"
      account_use = "Runs the bad-buzz notifier: reads the chat webhook secret, parks the alerts it cannot post on the dead-letter topic."
      ingress     = "ALLOW_INTERNAL_ONLY"
      # What it cannot post (not an alert, a webhook refusal, over a brand's limit) is parked there.
      publishes_to = {
        dead_letter = google_pubsub_topic.this["dead_letter"].name
      }
      invokers              = { push = google_service_account.notify_push.member }
      allow_unauthenticated = false
      environment           = local.notify_env
      scores                = false # no model, no metrics: logs only
      secrets               = local.notify_secrets
    }
  }
}

module "function" {
  source   = "./modules/function"
  for_each = local.functions

  project_id            = var.project_id
  region                = var.region
  name                  = each.value.settings.name
  description           = each.value.description
  entry_point           = each.value.entry_point
  source_bucket         = google_storage_bucket.this["function_source"].name
  source_object         = google_storage_bucket_object.function_source.name
  build_service_account = google_service_account.function_build.name
  deployer_member       = google_service_account.deployer.member
  environment_variables = each.value.environment

  secret_environment_variables = each.value.secrets

  memory          = each.value.settings.memory
  cpu             = each.value.settings.cpu
  min_instances   = each.value.settings.min_instances
  max_instances   = each.value.settings.max_instances
  concurrency     = each.value.settings.concurrency
  timeout_seconds = each.value.settings.timeout_seconds

  service_account_display_name = each.value.account
  service_account_description  = each.value.account_use
  models_bucket                = google_storage_bucket.this["models"].name
  reads_models                 = each.value.scores
  writes_metrics               = each.value.scores
  publishes_to                 = each.value.publishes_to
  ingress                      = each.value.ingress
  invokers                     = each.value.invokers
  allow_unauthenticated        = each.value.allow_unauthenticated

  # The build account must be able to build before the first build starts, and the deployer act as it.
  depends_on = [
    google_project_service.this,
    google_project_iam_member.function_build,
    google_service_account_iam_member.deployer_acts_as,
  ]
}

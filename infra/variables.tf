# Inputs of the root module. Every variable is typed, described and validated where a wrong value
# would otherwise only fail at apply time (or worse, deploy something that silently misbehaves).

# --- Project and placement ---------------------------------------------------------------------

variable "project_id" {
  type        = string
  description = "ID of the Google Cloud project everything is deployed into."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lowercase letters, digits or hyphens), not a project number or name."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, the buckets (unless bucket_location is set) and the BigQuery dataset (unless bigquery_location is set)."
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a single region such as europe-west1, not a zone or a multi-region."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes labels (merged over app = air-paradis-sentiment)."
  default     = {}
}

variable "enable_apis" {
  type        = bool
  description = "Enable the Google APIs the deployment needs. Turn off when a platform team manages project services."
  default     = true
}

variable "deployer_account_id" {
  type        = string
  description = "Account ID of the deploy pipeline's service account (cloudbuild.yaml's serviceAccount names it): created here with the roles an apply needs, and invoker of the HTTP function for the smoke test."
  default     = "sentiment-deployer"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.deployer_account_id))
    error_message = "deployer_account_id must be 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

# --- Storage -----------------------------------------------------------------------------------

variable "models_bucket_name" {
  type        = string
  description = "Name of the bucket holding the model store (LATEST + immutable versioned bundles). Default: <project_id>-sentiment-models."
  default     = null

  validation {
    condition     = var.models_bucket_name == null || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.models_bucket_name))
    error_message = "models_bucket_name must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens or underscores)."
  }
}

variable "source_bucket_name" {
  type        = string
  description = "Name of the bucket holding the functions' source zips. Default: <project_id>-sentiment-fn-source."
  default     = null

  validation {
    condition     = var.source_bucket_name == null || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.source_bucket_name))
    error_message = "source_bucket_name must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens or underscores)."
  }
}

variable "bucket_location" {
  type        = string
  description = "Location of every bucket. Default: the functions' region (no cross-region reads on model load)."
  default     = null
}

variable "model_prefix" {
  type        = string
  description = "Prefix of the model store inside the models bucket: the functions read gs://<models bucket>/<model_prefix>/LATEST."
  default     = "sentiment"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.model_prefix))
    error_message = "model_prefix must be a relative object path without leading, trailing or double slashes."
  }
}

variable "model_noncurrent_days" {
  type        = number
  description = "Days a replaced or deleted model object (an old LATEST pointer, a removed bundle file) is kept before deletion."
  default     = 30

  validation {
    condition     = var.model_noncurrent_days >= 1
    error_message = "model_noncurrent_days must be at least 1."
  }
}

variable "model_noncurrent_versions" {
  type        = number
  description = "Noncurrent versions kept per model object (LATEST is rewritten on every publish); older ones are deleted."
  default     = 10

  validation {
    condition     = var.model_noncurrent_versions >= 1
    error_message = "model_noncurrent_versions must be at least 1."
  }
}

variable "force_destroy_buckets" {
  type        = bool
  description = "Let `terraform destroy` delete non-empty buckets (published models included). Keep false outside throwaway projects."
  default     = false
}

variable "function_source_zip" {
  type        = string
  description = "Path of the functions' source zip built by infra/package_function.py. Default: build/function-source.zip at the repository root."
  default     = null
}

# --- Pub/Sub -----------------------------------------------------------------------------------

variable "topic_names" {
  type = object({
    tweets      = string
    scored      = string
    alerts      = string
    feedback    = string
    dead_letter = string
  })
  description = "Names of the topics: tweets in, scored tweets out, bad-buzz alerts, user feedback, dead letters. The defaults are the functions' own defaults (functions/sentiment/config.py)."
  default = {
    tweets      = "tweets"
    scored      = "tweets-scored"
    alerts      = "sentiment-alerts"
    feedback    = "sentiment-feedback"
    dead_letter = "tweets-dead-letter"
  }

  validation {
    condition = alltrue([
      for name in values(var.topic_names) : can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", name)) && !startswith(lower(name), "goog")
    ])
    error_message = "Every topic name must start with a letter, be 3-255 characters of letters, digits and -._~+% and not start with goog."
  }

  validation {
    condition     = length(distinct(values(var.topic_names))) == 5
    error_message = "The five topic names must be different."
  }
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of a tweet to the Pub/Sub function before it is moved to the dead-letter topic."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts 5 to 100 delivery attempts."
  }
}

variable "retry_backoff" {
  type = object({
    minimum = string
    maximum = string
  })
  description = "Exponential backoff between redeliveries of a tweet the Pub/Sub function failed on (durations such as \"10s\")."
  default = {
    minimum = "10s"
    maximum = "600s"
  }

  validation {
    condition     = can(regex("^[0-9]+s$", var.retry_backoff.minimum)) && can(regex("^[0-9]+s$", var.retry_backoff.maximum))
    error_message = "Backoffs are whole seconds followed by s, such as 10s."
  }

  validation {
    condition     = try(tonumber(trimsuffix(var.retry_backoff.minimum, "s")) <= tonumber(trimsuffix(var.retry_backoff.maximum, "s")) && tonumber(trimsuffix(var.retry_backoff.maximum, "s")) <= 600, false)
    error_message = "retry_backoff.minimum must not exceed retry_backoff.maximum, which Pub/Sub caps at 600s."
  }
}

# --- Functions ---------------------------------------------------------------------------------
# Both objects are validated by modules/function (the same rules for every function); only what is
# particular to one function is validated here.

variable "http_function" {
  type = object({
    name            = optional(string, "sentiment-predict")
    memory          = optional(string, "512Mi")
    cpu             = optional(string, "1")
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 4)
    timeout_seconds = optional(number, 60)
  })
  description = "Sizing of the HTTP function (POST /predict, GET /health, ...). min_instances > 0 removes cold starts but is billed at rest. concurrency 4 matches the request threads functions-framework runs per vCPU (the model's interpreter is lock-guarded)."
  default     = {}
}

variable "pubsub_function" {
  type = object({
    name            = optional(string, "sentiment-score")
    memory          = optional(string, "512Mi")
    cpu             = optional(string, "1")
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 4)
    timeout_seconds = optional(number, 60)
  })
  description = "Sizing of the function the tweets push subscription delivers to. timeout_seconds is also the subscription's ack deadline."
  default     = {}

  validation {
    # The push subscription's ack deadline is the function's timeout, and Pub/Sub caps it at 600 s.
    condition     = var.pubsub_function.timeout_seconds >= 10 && var.pubsub_function.timeout_seconds <= 600
    error_message = "pubsub_function.timeout_seconds must be 10-600 (it is also the push ack deadline)."
  }
}

# --- The notifier (notify.tf) --------------------------------------------------------------------

variable "notify_function" {
  type = object({
    name            = optional(string, "sentiment-notify")
    memory          = optional(string, "256Mi")
    cpu             = optional(string, "1")
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 1)
    concurrency     = optional(number, 4)
    timeout_seconds = optional(number, 60)
  })
  description = "Sizing of the notifier function. max_instances = 1 makes one instance's memory (alerts posted, posts per brand) the whole notifier's: see docs/notifications.md for what more instances would give up. timeout_seconds is also the alerts push subscription's ack deadline."
  default     = {}

  validation {
    condition     = var.notify_function.timeout_seconds >= 10 && var.notify_function.timeout_seconds <= 600
    error_message = "notify_function.timeout_seconds must be 10-600 (it is also the push ack deadline)."
  }
}

variable "notify_format" {
  type        = string
  description = "Chat the notifier posts to: slack (an incoming webhook, Block Kit) or google_chat (a space's webhook, cardsV2, one thread per alert)."
  default     = "slack"

  validation {
    condition     = contains(["slack", "google_chat"], var.notify_format)
    error_message = "notify_format must be slack or google_chat."
  }
}

variable "notify_webhook_secret_id" {
  type        = string
  description = "Secret Manager secret holding the chat webhook URL (created here, empty: add its value as a version, see README.md). Only the notifier's identity may read it."
  default     = "sentiment-alerts-webhook"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.notify_webhook_secret_id))
    error_message = "notify_webhook_secret_id may hold only letters, digits, hyphens and underscores (1-255)."
  }
}

variable "notify_max_per_brand" {
  type        = number
  description = "Most notifications posted per brand in notify_rate_window_minutes; the others are parked on the dead-letter topic and counted in the brand's next post."
  default     = 4

  validation {
    condition     = var.notify_max_per_brand >= 1 && var.notify_max_per_brand <= 1000 && floor(var.notify_max_per_brand) == var.notify_max_per_brand
    error_message = "notify_max_per_brand must be a whole number from 1 to 1000."
  }
}

variable "notify_rate_window_minutes" {
  type        = number
  description = "Sliding window of the per-brand limit on notifications."
  default     = 60

  validation {
    condition     = var.notify_rate_window_minutes >= 1 && var.notify_rate_window_minutes <= 1440
    error_message = "notify_rate_window_minutes must be 1-1440."
  }
}

variable "notify_max_delivery_attempts" {
  type        = number
  description = "Deliveries of an alert to the notifier before Pub/Sub dead-letters it (with notify_retry_backoff: how long a chat outage may last without losing an alert to the dead-letter topic)."
  default     = 20

  validation {
    condition     = var.notify_max_delivery_attempts >= 5 && var.notify_max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts 5 to 100 delivery attempts."
  }
}

variable "notify_retry_backoff" {
  type = object({
    minimum = string
    maximum = string
  })
  description = "Exponential backoff between redeliveries of an alert the notifier could not post (durations such as \"10s\"). The defaults with 20 attempts ride out about two hours of a chat outage."
  default = {
    minimum = "10s"
    maximum = "600s"
  }

  validation {
    condition     = can(regex("^[0-9]+s$", var.notify_retry_backoff.minimum)) && can(regex("^[0-9]+s$", var.notify_retry_backoff.maximum))
    error_message = "Backoffs are whole seconds followed by s, such as 10s."
  }

  validation {
    condition     = try(tonumber(trimsuffix(var.notify_retry_backoff.minimum, "s")) <= tonumber(trimsuffix(var.notify_retry_backoff.maximum, "s")) && tonumber(trimsuffix(var.notify_retry_backoff.maximum, "s")) <= 600, false)
    error_message = "notify_retry_backoff.minimum must not exceed notify_retry_backoff.maximum, which Pub/Sub caps at 600s."
  }
}

variable "function_build_account_id" {
  type        = string
  description = "Account ID of the service account Cloud Build builds both functions as (created here with the roles Google documents for a build account, instead of the project's default build account)."
  default     = "sentiment-fn-build"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.function_build_account_id))
    error_message = "function_build_account_id must be 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of both functions."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "model_refresh_seconds" {
  type        = number
  description = "How often an instance checks LATEST for a newer model (0 = never; a new model then needs new instances)."
  default     = 300

  validation {
    condition     = var.model_refresh_seconds >= 0
    error_message = "model_refresh_seconds must be >= 0."
  }
}

variable "metrics_flush_seconds" {
  type        = number
  description = "Least time between two writes of an instance's aggregated metrics to Cloud Monitoring."
  default     = 60

  validation {
    # Cloud Monitoring rejects points of one series written less than ~5-10 s apart; the code requires >= 10.
    condition     = var.metrics_flush_seconds >= 10
    error_message = "metrics_flush_seconds must be >= 10."
  }
}

# --- Access to the HTTP function ---------------------------------------------------------------

variable "http_invoker_members" {
  type        = list(string)
  description = "IAM members allowed to call the HTTP function (user:, group:, serviceAccount:, domain:, principal:, principalSet:). Public access is http_allow_unauthenticated's job."
  default     = []

  validation {
    condition     = alltrue([for m in var.http_invoker_members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
    error_message = "http_invoker_members takes typed members such as group:comms@example.com; allUsers/allAuthenticatedUsers are refused here (see http_allow_unauthenticated)."
  }
}

variable "http_allow_unauthenticated" {
  type        = bool
  description = "Make the HTTP function public (allUsers gets run.invoker). Off by default: callers need an identity token. Turn on deliberately."
  default     = false
}

variable "http_ingress" {
  type        = string
  description = "Network ingress of the HTTP function: ALLOW_ALL (IAM still applies), ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.http_ingress)
    error_message = "http_ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

# --- Monitoring and alerting -------------------------------------------------------------------

variable "alert_email" {
  type        = string
  description = "Email address notified by the alert policies (an email notification channel is created). Null: no email channel."
  default     = null

  validation {
    condition     = var.alert_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address."
  }
}

variable "notification_channels" {
  type        = list(string)
  description = "Existing notification channel IDs (projects/P/notificationChannels/N) notified in addition to alert_email."
  default     = []
}

variable "bad_buzz_window_minutes" {
  type        = number
  description = "Window over which the fleet-wide alert policy computes the negative share of scored tweets (the coarse operations signal; per-brand detection is the streaming pipeline's)."
  default     = 10

  validation {
    condition     = var.bad_buzz_window_minutes >= 1 && var.bad_buzz_window_minutes <= 1440 && floor(var.bad_buzz_window_minutes) == var.bad_buzz_window_minutes
    error_message = "bad_buzz_window_minutes must be a whole number of minutes from 1 to 1440."
  }
}

variable "bad_buzz_negative_share" {
  type        = number
  description = "Negative share of the scored tweets in the window above which a bad buzz is declared."
  default     = 0.6

  validation {
    condition     = var.bad_buzz_negative_share > 0 && var.bad_buzz_negative_share < 1
    error_message = "bad_buzz_negative_share must be strictly between 0 and 1."
  }
}

variable "bad_buzz_min_tweets" {
  type        = number
  description = "Fewest tweets scored in the window before a negative share can raise a bad-buzz alert (ten angry tweets are not a buzz)."
  default     = 50

  validation {
    condition     = var.bad_buzz_min_tweets >= 1 && floor(var.bad_buzz_min_tweets) == var.bad_buzz_min_tweets
    error_message = "bad_buzz_min_tweets must be a whole number >= 1."
  }
}

variable "bad_buzz_sources" {
  type        = list(string)
  description = "Sources whose tweets count towards the bad-buzz alert policy: pubsub (the stream), http (ad hoc requests)."
  default     = ["pubsub", "http"]

  validation {
    condition     = length(var.bad_buzz_sources) > 0 && alltrue([for s in var.bad_buzz_sources : contains(["pubsub", "http"], s)])
    error_message = "bad_buzz_sources must be a non-empty subset of [\"pubsub\", \"http\"]."
  }
}

variable "error_rate_threshold" {
  type        = number
  description = "Share of refused requests/messages (and of 5xx responses) over 10 minutes above which the error alert fires."
  default     = 0.05

  validation {
    condition     = var.error_rate_threshold > 0 && var.error_rate_threshold < 1
    error_message = "error_rate_threshold must be strictly between 0 and 1."
  }
}

variable "error_rate_min_requests" {
  type        = number
  description = "Fewest requests/messages in 10 minutes before an error rate can fire (one failure out of three is noise)."
  default     = 20

  validation {
    condition     = var.error_rate_min_requests >= 1
    error_message = "error_rate_min_requests must be >= 1."
  }
}

# --- Optional BigQuery landing ------------------------------------------------------------------

variable "enable_bigquery_export" {
  type        = bool
  description = "Land scored tweets and feedback in BigQuery tables through BigQuery subscriptions."
  default     = false
}

variable "bigquery_dataset_id" {
  type        = string
  description = "Dataset receiving the scored_tweets and feedback tables (when enable_bigquery_export)."
  default     = "air_paradis_sentiment"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.bigquery_dataset_id))
    error_message = "bigquery_dataset_id may hold only letters, digits and underscores."
  }
}

variable "bigquery_location" {
  type        = string
  description = "Location of the BigQuery dataset (a region or EU/US). Default: the functions' region."
  default     = null
}

variable "bigquery_partition_expiration_days" {
  type        = number
  description = "Days a daily partition of the landed tables is kept (null: forever)."
  default     = null

  validation {
    condition     = var.bigquery_partition_expiration_days == null || try(var.bigquery_partition_expiration_days >= 1, false)
    error_message = "bigquery_partition_expiration_days must be null or >= 1."
  }
}

variable "bigquery_deletion_protection" {
  type        = bool
  description = "Refuse to let Terraform delete the landed tables (and their data)."
  default     = true
}

# --- Dataflow: the bad-buzz streaming job and the bulk scoring job ------------------------------

variable "pipeline_image_tag" {
  type        = string
  description = "Tag of the pipelines' images and Flex Template specs (cloudbuild.yaml passes the hash of what goes into the images: pipelines/flex/image_tag.py). Null: no streaming job (the first apply creates what the images need; the pipeline's first build starts the job)."
  default     = null

  validation {
    condition     = var.pipeline_image_tag == null || can(regex("^[a-z0-9][a-z0-9.-]{0,63}$", var.pipeline_image_tag))
    error_message = "pipeline_image_tag must be 1-64 lowercase letters, digits, dots or hyphens."
  }
}

variable "pipeline_repository_id" {
  type        = string
  description = "Artifact Registry repository (Docker) of the pipelines' images, in the region."
  default     = "sentiment-pipelines"
}

variable "pipeline_images_kept" {
  type        = number
  description = "Most recent versions of each pipeline image kept by the repository's cleanup policy (older ones are deleted after 30 days); the running job's image is always among them."
  default     = 10

  validation {
    condition     = var.pipeline_images_kept >= 2
    error_message = "pipeline_images_kept must be >= 2 (the running image and the one being rolled out)."
  }
}

variable "dataflow_bucket_name" {
  type        = string
  description = "Bucket of the Dataflow jobs' template specs (templates/), staged files (staging/) and temporary files (temp/). Default: <project_id>-sentiment-dataflow."
  default     = null
}

variable "dataflow_temp_days" {
  type        = number
  description = "Days a file under temp/ of the Dataflow bucket is kept (temporary files of running or finished jobs)."
  default     = 7

  validation {
    condition     = var.dataflow_temp_days >= 1
    error_message = "dataflow_temp_days must be >= 1."
  }
}

variable "dataflow_subnetwork" {
  type        = string
  description = "Subnetwork of the Dataflow workers (regions/REGION/subnetworks/NAME, or its self link). Null: the project's default network, which must exist."
  default     = null
}

variable "dataflow_private_ips" {
  type        = bool
  description = "Workers without external IP addresses (WORKER_IP_PRIVATE). Needs dataflow_subnetwork with Private Google Access (the workers reach Pub/Sub, Cloud Storage and Artifact Registry through it)."
  default     = false
}

variable "stream_job" {
  type = object({
    name         = optional(string, "sentiment-buzz")
    machine_type = optional(string, "n1-standard-2")
    max_workers  = optional(number, 3)
  })
  description = "The bad-buzz streaming job: its name (also of its subscription and worker identity, <name>-df), worker machine type, most workers. Changing name or max_workers drains the job and starts a new one (ForceNew); the machine type is changed by an in-place update."
  default     = {}

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,26}[a-z0-9]$", var.stream_job.name))
    error_message = "stream_job.name must be 4-28 lowercase letters, digits or hyphens, starting with a letter."
  }

  validation {
    condition     = var.stream_job.max_workers >= 1 && var.stream_job.max_workers <= 1000
    error_message = "stream_job.max_workers must be 1-1000."
  }
}

variable "stream_brand_field" {
  type        = string
  description = "Field of a scored tweet that keys the streaming job's windows and baselines (its brand_field parameter)."
  default     = "brand"
}

variable "stream_options" {
  type        = map(string)
  description = "Further parameters of the streaming job (the detection options of `python -m pipelines stream`, by dest name, such as thresholds or allowed lateness); each must be a parameter of pipelines/flex/stream_metadata.json."
  default     = {}
}

variable "stream_transform_name_mapping" {
  type        = map(string)
  description = "Renamed transforms (old name prefix => new) for an update of the running streaming job whose graph renamed steps; empty when names are unchanged."
  default     = {}
}

variable "bulk_account_id" {
  type        = string
  description = "Account ID of the bulk scoring job's workers (launched on demand, see README.md, \"Bulk scoring\")."
  default     = "sentiment-bulk-df"
}

variable "bulk_bucket_name" {
  type        = string
  description = "Bucket the bulk scoring job reads its archives from (under bulk_input_prefix) and writes its results to (under bulk_output_prefix). Default: <project_id>-sentiment-bulk."
  default     = null
}

variable "bulk_input_prefix" {
  type        = string
  description = "Prefix of the archives to score in the bulk bucket."
  default     = "input"
}

variable "bulk_output_prefix" {
  type        = string
  description = "Prefix of the bulk scoring results (scored and rejected rows) in the bulk bucket."
  default     = "output"
}

variable "bulk_input_buckets" {
  type        = list(string)
  description = "Existing buckets the bulk job may also read archives from (roles/storage.objectViewer for its workers on each)."
  default     = []
}

variable "bulk_launchers" {
  type        = list(string)
  description = "Members who may launch the bulk scoring job (roles/iam.serviceAccountUser on its worker identity only; they also need roles/dataflow.developer on the project and read access to the Dataflow bucket's templates)."
  default     = []
}

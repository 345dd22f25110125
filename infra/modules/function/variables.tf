# Inputs of one function. The sizing validations live here, once for every function; the root
# module's http_function and pubsub_function objects are passed through field by field.

# --- Placement and code ------------------------------------------------------------------------

variable "project_id" {
  type        = string
  description = "Project the function, its service account and its grants are created in."
}

variable "region" {
  type        = string
  description = "Region of the function."
}

variable "name" {
  type        = string
  description = "Name of the function (and of its Cloud Run service); its service account is <name>-fn."

  validation {
    # 25 characters at most: the service accounts are named <name>-fn and, for a function fed by a
    # push subscription, <name>-push (30 at most).
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}[a-z0-9]$", var.name))
    error_message = "The function name must be 3-25 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "description" {
  type        = string
  description = "Description of the function."
}

variable "service_account_display_name" {
  type        = string
  description = "Display name of the function's service account."
}

variable "service_account_description" {
  type        = string
  description = "What the function's service account is for (shown in IAM)."
}

variable "entry_point" {
  type        = string
  description = "Python function of main.py that serves requests (its functions_framework decorator sets the signature)."
}

variable "runtime" {
  type        = string
  description = "Cloud Functions runtime."
  default     = "python311"
}

variable "source_bucket" {
  type        = string
  description = "Bucket of the source zip."
}

variable "source_object" {
  type        = string
  description = "Object name of the source zip (named after its hash, so that a code change redeploys)."
}

variable "build_service_account" {
  type        = string
  description = "Service account Cloud Build builds the function as (projects/P/serviceAccounts/EMAIL); never the project's default."
}

variable "deployer_member" {
  type        = string
  description = "Member that deploys the function (the pipeline's account): roles/iam.serviceAccountUser on the function's identity only, which deploying a function that runs as it requires."
}

variable "environment_variables" {
  type        = map(string)
  description = "Environment of the function (names from functions/sentiment/config.py SETTINGS)."
}

variable "secret_environment_variables" {
  type        = map(string)
  description = "Environment variables read from Secret Manager (name => secret ID in the project, latest version); the function's identity is made the secrets' accessor."
  default     = {}
}

# --- Sizing ------------------------------------------------------------------------------------

variable "memory" {
  type        = string
  description = "Memory of an instance, such as 512Mi or 1Gi."

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.memory))
    error_message = "The function memory must look like 512Mi or 1Gi."
  }
}

variable "cpu" {
  type        = string
  description = "vCPUs of an instance."
}

variable "min_instances" {
  type        = number
  description = "Instances kept warm (billed at rest when > 0)."

  validation {
    condition     = var.min_instances >= 0
    error_message = "The function's min_instances must be >= 0."
  }
}

variable "max_instances" {
  type        = number
  description = "Most instances at once."

  validation {
    condition     = var.max_instances >= 1
    error_message = "The function's max_instances must be >= 1."
  }
}

variable "concurrency" {
  type        = number
  description = "Requests an instance serves at once."

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "The function's concurrency must be 1-1000."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Request timeout."

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 3600
    error_message = "The function's timeout_seconds must be 1-3600."
  }
}

# --- Grants and access -------------------------------------------------------------------------

variable "models_bucket" {
  type        = string
  description = "Bucket of the model store: the function's identity may read it (roles/storage.objectViewer) if it reads_models."
}

variable "reads_models" {
  type        = bool
  description = "Whether the function reads the model store (roles/storage.objectViewer on models_bucket)."
  default     = true
}

variable "writes_metrics" {
  type        = bool
  description = "Whether the function writes custom metrics (roles/monitoring.metricWriter on the project)."
  default     = true
}

variable "publishes_to" {
  type        = map(string)
  description = "Topics (role => topic name) the function's identity may publish to; nothing else."
  default     = {}
}

variable "ingress" {
  type        = string
  description = "Network ingress: ALLOW_ALL (IAM still applies), ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.ingress)
    error_message = "ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "invokers" {
  type        = map(string)
  description = "Members granted roles/run.invoker on the function, under keys known at plan time (the members may not be)."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.invokers) : !contains(["allUsers", "allAuthenticatedUsers"], member)])
    error_message = "invokers takes typed members; public access is allow_unauthenticated's job."
  }
}

variable "allow_unauthenticated" {
  type        = bool
  description = "Make the function public (allUsers gets run.invoker, in a resource of its own). Turn on deliberately."
  default     = false
}

# Inputs of one Dataflow job's worker identity. Keys of the maps are known at plan time (the values,
# resource names, may not be).

variable "project_id" {
  type        = string
  description = "Project of the service account and of its grants."
}

variable "account_id" {
  type        = string
  description = "Account ID of the workers' service account."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.account_id))
    error_message = "account_id must be 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "display_name" {
  type        = string
  description = "Display name of the service account."
}

variable "description" {
  type        = string
  description = "What the service account is for (shown in IAM)."
}

variable "launchers" {
  type        = map(string)
  description = "Members that launch the job (roles/iam.serviceAccountUser on this account only), under keys known at plan time."
  default     = {}
}

variable "repository" {
  type        = string
  description = "Artifact Registry repository of the job's image (roles/artifactregistry.reader on it)."
}

variable "repository_location" {
  type        = string
  description = "Location of that repository."
}

variable "writes_buckets" {
  type        = map(string)
  description = "Buckets the workers write (staging, temp, output): roles/storage.objectAdmin on each."
  default     = {}
}

variable "reads_buckets" {
  type        = map(string)
  description = "Buckets the workers only read (model store, inputs): roles/storage.objectViewer on each."
  default     = {}
}

variable "subscriptions" {
  type        = map(string)
  description = "Subscriptions the job pulls from: roles/pubsub.subscriber and roles/pubsub.viewer on each."
  default     = {}
}

variable "publishes_to" {
  type        = map(string)
  description = "Topics the job publishes to: roles/pubsub.publisher on each."
  default     = {}
}

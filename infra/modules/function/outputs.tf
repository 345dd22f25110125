output "name" {
  description = "Name of the function (and of the Cloud Run service behind it)."
  value       = google_cloudfunctions2_function.this.name
}

output "uri" {
  description = "URL of the function: the audience of the identity tokens its callers present."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}

output "service_account_email" {
  description = "Email of the identity the function runs as."
  value       = google_service_account.this.email
}

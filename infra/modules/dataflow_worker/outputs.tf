output "email" {
  description = "Email of the workers' service account (the job's service_account_email)."
  value       = google_service_account.this.email
}

output "member" {
  description = "IAM member of the workers' service account."
  value       = google_service_account.this.member
}

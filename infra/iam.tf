# Identities and what they may do. Each function runs as a service account of its own, created with
# its grants by modules/function (see functions.tf for which topics each may publish to). Here: the
# identity whose only power is to invoke the Pub/Sub function (Pub/Sub signs its push requests as
# that identity). Every grant is on the narrowest resource the API allows: topics and buckets, not
# the project. Only metricWriter and logWriter are project-level, because those roles have no
# narrower resource.

resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "${var.pubsub_function.name}-push"
  display_name = "Pub/Sub push identity for ${var.pubsub_function.name}"
  description  = "Identity in the OIDC token of the tweets push subscription; may only invoke the Pub/Sub function."

  depends_on = [google_project_service.this]
}

# Pub/Sub mints the push OIDC tokens as its service agent acting for push_invoker. Projects created
# before April 2021 need this grant explicitly; granting it on this one account (not the project)
# is harmless where it is implicit.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

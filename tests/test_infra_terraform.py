"""The Terraform in infra/, checked offline (see tests/infra_checks.py for what each check does).

Each check runs on infra/ as it is (no problem expected) and on broken copies (the problem must be
reported, and must not be reported on infra/ as it is), so that none of them can pass by checking
nothing. Both are tables: a check is a function of the infra/ directory, a break is the edits that
make a copy wrong and the problems the check must then report.
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import infra_checks as checks
from .infra_checks import edit, reported

INFRA = checks.INFRA
MODULE = "modules/function/"  # the child module, from infra/
HTTP = 'module.function["http"]'
PUBSUB = 'module.function["pubsub"]'
NOTIFY = 'module.function["notify"]'
STREAM_JOB = "google_dataflow_flex_template_job.stream"
BUZZ_POLICY = 'google_monitoring_alert_policy.this["bad_buzz"]'
STREAM_SA = 'module.dataflow_worker["stream"].google_service_account.this'
BULK_SA = 'module.dataflow_worker["bulk"].google_service_account.this'
WORKER = "modules/dataflow_worker/"

Check = Callable[[Path], list[str]]


def on_module(check: Callable[[checks.Module], list[str]]) -> Check:
    """A check of the parsed configuration, as a check of a directory."""
    return functools.update_wrapper(lambda directory: check(checks.load_module(directory)), check)


def with_directory(check: Callable[[checks.Module, Path], list[str]]) -> Check:
    """A check of the parsed configuration and of the files beside it (dashboard.json, ...)."""
    return functools.update_wrapper(lambda directory: check(checks.load_module(directory), directory), check)


FMT = checks.check_fmt
LOADS = checks.check_config_loads
VARIABLES = on_module(checks.check_variables)
REFERENCES = on_module(checks.check_references)
README = on_module(checks.check_readme)
ENTRY_POINTS = on_module(checks.check_entry_points)
ENV_VARS = on_module(checks.check_env_vars)
SOURCE_OBJECT = on_module(checks.check_source_object)
TOPICS = on_module(checks.check_topics)
PUSH = on_module(checks.check_push_subscription)
NOT_PUBLIC = on_module(checks.check_http_not_public)
LEAST_PRIVILEGE = on_module(checks.check_least_privilege)
DESCRIPTORS = checks.check_descriptor_file
METRICS = with_directory(checks.check_metrics)
QUERIES = with_directory(checks.check_queries)
ALERTS = on_module(checks.check_alert_policies)
DASHBOARD = with_directory(checks.check_dashboard)
IDENTITIES = on_module(checks.check_identities)
SECRETS = on_module(checks.check_secrets)
DEPLOY_README = on_module(checks.check_deploy_readme)
DATAFLOW = on_module(checks.check_dataflow_jobs)
SKIPS = checks.check_checkov_skips
CHECKOV = checks.run_checkov

OFFLINE_CHECKS = [FMT, LOADS, VARIABLES, REFERENCES, README, ENTRY_POINTS, ENV_VARS, SOURCE_OBJECT, TOPICS, PUSH,
                  NOT_PUBLIC, LEAST_PRIVILEGE, IDENTITIES, SECRETS, DEPLOY_README, DESCRIPTORS, METRICS, QUERIES,
                  ALERTS, DASHBOARD, SKIPS, DATAFLOW]


@functools.cache
def on_infra(check: Check) -> tuple[str, ...]:
    """What a check reports on infra/ as it is (computed once per check)."""
    return tuple(check(INFRA))


@pytest.mark.parametrize("check", OFFLINE_CHECKS, ids=lambda check: check.__name__)
def test_infra_passes(check):
    assert list(on_infra(check)) == []


# --- Broken copies -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Break:
    """Edits (file in infra/, old text or pattern or None to append, new text) and what ``check`` must report:
    each entry of ``expected`` is the fragments one problem must hold."""

    id: str
    check: Check
    edits: tuple[tuple[str, str | re.Pattern | None, str], ...]
    expected: tuple[tuple[str, ...], ...]


HTTP_INVOKERS = "merge({ for member in var.http_invoker_members : member => member }"
DEPLOYER = checks.DEPLOYER

BREAKS = [
    # Terraform itself
    Break("fmt-root", FMT, (("pubsub.tf", "  name    = each.value\n", "  name = each.value\n"),), (("pubsub.tf",),)),
    Break("fmt-child-module", FMT,
          ((f"{MODULE}main.tf", "  bucket = var.models_bucket\n", "  bucket   = var.models_bucket\n"),),
          ((f"{MODULE}main.tf",),)),
    Break("load-duplicate-resource", LOADS, (("pubsub.tf", 'resource "google_pubsub_subscription" "dead_letter_hold" {',
                                              'resource "google_pubsub_subscription" "tweets_push" {'),),
          (("Duplicate resource",),)),
    Break("load-invalid-type", LOADS,
          (("variables.tf", '  type        = bool\n  description = "Make the HTTP function public',
            '  type        = boolean\n  description = "Make the HTTP function public'),),
          (("Invalid type specification",),)),
    Break("load-count-and-for_each", LOADS,
          (("bigquery.tf", "  count = var.enable_bigquery_export ? 1 : 0\n\n  project       = var.project_id",
            "  count = var.enable_bigquery_export ? 1 : 0\n  for_each = {}\n  project       = var.project_id"),),
          (('"count" and "for_each"',),)),
    Break("load-unknown-module-argument", LOADS,
          (("functions.tf", "  ingress                      = each.value.ingress\n",
            "  ingres                       = each.value.ingress\n"),),
          (("Unsupported argument", "ingres"),)),
    Break("load-invalid-type-in-child-module", LOADS,
          ((f"{MODULE}variables.tf", '  type        = map(string)\n  description = "Members',
            '  type        = mapping(string)\n  description = "Members'),),
          (("Invalid type specification",),)),
    # Variables and references, in the root module and in the child module
    Break("variables-root", VARIABLES,
          (("variables.tf", '  type        = string\n  description = "LOG_LEVEL of both functions."\n', ""),
           ("main.tf", "    LOG_LEVEL             = var.log_level", "    LOG_LEVEL             = var.log_verbosity"),
           ("notify.tf", "= var.log_level", "= var.log_verbosity")),
          (("variable log_level has no type",), ("variable log_level has no description",),
           ("var.log_verbosity is used but not declared",), ("variable log_level is declared but never used",))),
    Break("variables-child-module", VARIABLES,
          ((f"{MODULE}main.tf", "= var.timeout_seconds\n", "= var.timeout\n"),),
          (("var.timeout is used but not declared in modules/function",),
           (f"{MODULE}variables.tf: variable timeout_seconds is declared but never used",))),
    Break("references", REFERENCES,
          ((f"{MODULE}main.tf", "= google_service_account.this.email", "= google_service_account.predict.email"),
           ("pubsub.tf", "member  = local.pubsub_service_agent", "member  = local.pubsub_agent"),
           ("pubsub.tf", 'audience = module.function["pubsub"].uri', 'audience = module.function["pubsub"].url')),
          (("google_service_account.predict is referenced but not declared in modules/function",),
           ("local.pubsub_agent is used but not defined in the root module",), ("module.function has no output url",))),
    Break("readme", README,
          (("README.md", "| `bigquery_deletion_protection` |", "| bigquery_deletion_protection |"),
           ("README.md", "| `dashboard_id` |", "| dashboard |"),
           (f"{MODULE}README.md", "| `allow_unauthenticated` |", "| allow_unauthenticated |")),
          (("README.md: no row for input bigquery_deletion_protection",),
           ("README.md: no row for output dashboard_id",),
           (f"{MODULE}README.md: no row for input allow_unauthenticated",))),
    # The functions
    Break("entry-point-missing", ENTRY_POINTS,
          (("functions.tf", 'entry_point = "score_pubsub"', 'entry_point = "score_tweets"'),),
          ((PUBSUB, "score_tweets", "is not a functions_framework function of main.py"),
           ("main.py entry point score_pubsub is not deployed",))),
    # The push subscription delivers Pub/Sub envelopes: the HTTP entry point cannot take them.
    Break("entry-point-wrong-signature", ENTRY_POINTS,
          (("functions.tf", 'entry_point = "score_pubsub"', 'entry_point = "predict_http"'),),
          ((PUBSUB, "decorated functions_framework.http", "needs functions_framework.cloud_event"),)),
    Break("push-to-the-http-function", ENTRY_POINTS,
          (("pubsub.tf", '"${module.function["pubsub"].uri}/projects', '"${module.function["http"].uri}/projects'),),
          ((HTTP, "predict_http is decorated functions_framework.http", "needs functions_framework.cloud_event"),)),
    Break("env-var-missing", ENV_VARS, (("main.tf", '    METRICS_EXPORTER      = "monitoring"\n', ""),),
          ((HTTP, "does not set METRICS_EXPORTER"), (PUBSUB, "does not set METRICS_EXPORTER"))),
    Break("webhook-url-as-a-plain-variable", ENV_VARS,
          (("notify.tf", "    NOTIFY_FORMAT              = var.notify_format\n",
            '    NOTIFY_FORMAT              = var.notify_format\n    NOTIFY_WEBHOOK_URL = "https://hooks.example/x"\n'),),
          ((NOTIFY, "sets NOTIFY_WEBHOOK_URL as a plain environment variable"),)),
    Break("notifier-without-its-webhook", ENV_VARS,
          (("notify.tf", "    NOTIFY_WEBHOOK_URL = google_secret_manager_secret.notify_webhook.secret_id\n", ""),),
          ((NOTIFY, "does not set NOTIFY_WEBHOOK_URL"),)),
    Break("env-var-unread-or-platform", ENV_VARS,
          (("main.tf", "    LOG_LEVEL             = var.log_level\n",
            '    LOG_LEVEL             = var.log_level\n    MODEL_PATH = "/tmp/model"\n    K_SERVICE = "x"\n'),),
          (("sets MODEL_PATH, which the code never reads",), ("sets K_SERVICE, which the platform sets",))),
    Break("env-var-wrong-exporter-or-model-uri", ENV_VARS,
          (("main.tf", 'METRICS_EXPORTER      = "monitoring"', 'METRICS_EXPORTER      = "log"'),
           ("main.tf", 'model_uri = "gs://${local.models_bucket}/${var.model_prefix}"',
            'model_uri = "gs://some-other-bucket/${var.model_prefix}"')),
          (("METRICS_EXPORTER must be 'monitoring'",), ("MODEL_URI", "some-other-bucket"))),
    Break("source-object-fixed-name", SOURCE_OBJECT,
          (("storage.tf", 'name         = "functions/sentiment-${local.function_source_sha256}.zip"',
            'name         = "functions/sentiment.zip"'),),
          (("does not carry the zip's hash",),)),
    # Topics, push subscription, dead letters
    Break("topic-name-not-the-code-default", TOPICS,
          (("variables.tf", 'scored      = "tweets-scored"', 'scored      = "scored-tweets"'),),
          (("OUTPUT_TOPIC would be 'scored-tweets'", "'tweets-scored'"),)),
    Break("topic-env-var-not-the-created-topic", TOPICS,
          (("main.tf", 'OUTPUT_TOPIC          = google_pubsub_topic.this["scored"].name',
            'OUTPUT_TOPIC          = "tweets-scored"'),),
          (("OUTPUT_TOPIC must be the name of a google_pubsub_topic declared here",),)),
    Break("push-subscription-reads-another-topic", TOPICS,
          (("pubsub.tf", 'topic   = google_pubsub_topic.this["tweets"].id',
            'topic   = google_pubsub_topic.this["feedback"].id'),),
          (("""pushes 'google_pubsub_topic.this["feedback"]' to score_pubsub, which reads 'tweets'""",),)),
    Break("alerts-pushed-to-the-scorer", TOPICS,
          (("notify.tf", '"${module.function["notify"].uri}/projects', '"${module.function["pubsub"].uri}/projects'),),
          (("""alerts_push pushes 'google_pubsub_topic.this["alerts"]' to score_pubsub, which reads 'tweets'""",),)),
    Break("dead-letter-iam-missing", PUSH,
          (("pubsub.tf", '  role    = "roles/pubsub.publisher"\n  member  = local.pubsub_service_agent',
            '  role    = "roles/pubsub.viewer"\n  member  = local.pubsub_service_agent'),
           ("pubsub.tf", "{ tweets_push = google_pubsub_subscription.tweets_push.name },", "{},")),
          (("tweets_push", 'no roles/pubsub.publisher on google_pubsub_topic.this["dead_letter"]'),
           ("tweets_push", "no roles/pubsub.subscriber"))),
    Break("push-without-policies-or-oidc", PUSH,
          (("pubsub.tf", "  dead_letter_policy {\n"
                         '    dead_letter_topic     = google_pubsub_topic.this["dead_letter"].id\n'
                         "    max_delivery_attempts = var.max_delivery_attempts\n"
                         "  }\n\n  push_config", "  push_config"),
           ("pubsub.tf", "  retry_policy {\n    minimum_backoff = var.retry_backoff.minimum\n"
                         "    maximum_backoff = var.retry_backoff.maximum\n  }\n", ""),
           ("pubsub.tf", "service_account_email = google_service_account.push_invoker.email",
            'service_account_email = "someone@example.com"')),
          (("no dead_letter_policy",), ("no retry_policy",), ("without an OIDC token",))),
    Break("alerts-push-without-policies-or-dead-letter-grant", PUSH,
          (("notify.tf", "  retry_policy {\n    minimum_backoff = var.notify_retry_backoff.minimum\n"
                         "    maximum_backoff = var.notify_retry_backoff.maximum\n  }\n", ""),
           ("notify.tf", re.compile(r'resource "google_pubsub_subscription_iam_member" "alerts_push_dead_letter_source"'
                                    r" \{.*?\n\}\n", re.S), "")),
          (("alerts_push has no retry_policy",), ("alerts_push", "no roles/pubsub.subscriber"))),
    Break("push-identity-without-invoker", PUSH,
          (("functions.tf", "invokers              = { push = google_service_account.push_invoker.member }",
            "invokers              = {}"),),
          ((f"no roles/run.invoker on {PUBSUB}.google_cloudfunctions2_function.this",),)),
    # Access
    Break("public-http-invoker", NOT_PUBLIC,
          (("functions.tf", HTTP_INVOKERS,
            'merge({ for member in concat(var.http_invoker_members, ["allUsers"]) : member => member }'),),
          ((f"{HTTP}.google_cloud_run_v2_service_iam_member.invoker grants allUsers",),)),
    Break("public-by-default", NOT_PUBLIC,
          (("variables.tf", 'description = "Make the HTTP function public (allUsers gets run.invoker). Off by default: '
                            'callers need an identity token. Turn on deliberately."\n  default     = false',
            'description = "Make the HTTP function public."\n  default     = true'),),
          (("must default to false",),)),
    Break("public-invoker-members-default", NOT_PUBLIC,
          (("variables.tf", "http_allow_unauthenticated's job.\"\n  default     = []",
            "http_allow_unauthenticated's job.\"\n  default     = [\"allAuthenticatedUsers\"]"),),
          (("http_invoker_members defaults to a public member",),)),
    Break("public-without-switch", NOT_PUBLIC,
          ((f"{MODULE}main.tf", "  count = var.allow_unauthenticated ? 1 : 0\n", ""),),
          ((f"{HTTP}.google_cloud_run_v2_service_iam_member.public grants allUsers",),)),
    Break("public-pubsub-function", NOT_PUBLIC,
          (("functions.tf", "allow_unauthenticated = false", "allow_unauthenticated = true"),),
          ((f"{PUBSUB}.google_cloud_run_v2_service_iam_member.public grants allUsers",),)),
    Break("broad-grants", LEAST_PRIVILEGE,
          ((f"{MODULE}main.tf", '["roles/monitoring.metricWriter", "roles/logging.logWriter"]',
            '["roles/monitoring.metricWriter", "roles/logging.logWriter", "roles/pubsub.admin"]'),
           (f"{MODULE}main.tf", 'role   = "roles/storage.objectViewer"', 'role   = "roles/storage.objectAdmin"'),
           ("iam.tf", '  role               = "roles/iam.serviceAccountTokenCreator"',
            '  role               = "roles/editor"')),
          (("grants roles/pubsub.admin on the whole project",), ("grants roles/storage.objectAdmin",),
           ("grants the basic role roles/editor",))),
    Break("default-service-account", IDENTITIES,
          ((f"{MODULE}main.tf", "= google_service_account.this.email",
            '= "${var.project_id}-compute@developer.gserviceaccount.com"'),),
          ((HTTP, "service_config.service_account_email", "is not a service account declared here"),
           (PUBSUB, "service_config.service_account_email", "is not a service account declared here"))),
    Break("shared-service-account", LEAST_PRIVILEGE,
          (("functions.tf", None, '\nresource "google_cloudfunctions2_function" "extra" {\n  name = "extra"\n\n'
                                  "  service_config {\n"
                                  '    service_account_email = module.function["http"].service_account_email\n'
                                  "  }\n}\n"),),
          ((f"shares {HTTP}.google_service_account.this",),)),
    # Metrics, alerts, dashboard
    Break("descriptor-file-stale", DESCRIPTORS,
          (("metric_descriptors.json", '"name": "tweets_scored"', '"name": "tweets_counted"'),), (("regenerate it",),)),
    Break("metric-renamed-in-an-alert", METRICS,
          (("monitoring.tf", 'load_failed  = "custom_googleapis_com:sentiment_model_load_failures"',
            'load_failed  = "custom_googleapis_com:sentiment_model_load_errors"'),),
          (("monitoring.tf", "sentiment_model_load_errors is not a metric the code writes"),)),
    Break("metric-renamed-in-the-dashboard", METRICS,
          (("dashboard.json", "custom_googleapis_com:sentiment_scoring_latency_bucket",
            "custom_googleapis_com:sentiment_latency_bucket"),),
          (("dashboard.json", "sentiment_latency_bucket is not a metric the code writes"),
           ("does not chart custom.googleapis.com/sentiment/scoring_latency",))),
    Break("wrong-labels-and-suffixes", METRICS,
          (("monitoring.tf", 'sentiment="negative"', 'polarity="negative"'),
           ("dashboard.json", "custom_googleapis_com:sentiment_model_load_failures{",
            "custom_googleapis_com:sentiment_model_load_failures_bucket{"),
           ("dashboard.json", "sum by (source, reason) (rate(custom_googleapis_com:sentiment_requests_rejected",
            "sum by (source, cause) (rate(custom_googleapis_com:sentiment_requests_rejected")),
          (("sentiment_tweets_scored has no label 'polarity'",), ("model_load_failures is not a distribution",),
           ("sentiment_requests_rejected has no label 'cause'",))),
    Break("bad-buzz-without-minimum-volume", ALERTS,
          (("monitoring.tf", ") > ${var.bad_buzz_negative_share}\n          and\n",
            ") > ${var.bad_buzz_negative_share}\n          or\n"),
           ("monitoring.tf", "[${local.window}])) >= ${var.bad_buzz_min_tweets}", "[${local.window}])) >= 1")),
          (("require a minimum volume",), ("use the volume threshold",))),
    Break("bad-buzz-on-a-per-instance-gauge", ALERTS,
          (("monitoring.tf", '  scored       = "custom_googleapis_com:sentiment_tweets_scored"',
            '  scored       = "custom_googleapis_com:sentiment_tweets_scored"\n'
            '  gauge        = "custom_googleapis_com:sentiment_negative_share"'),
           ("monitoring.tf", 'sum(increase(${local.scored}{${local.on_task},sentiment="negative",',
            'sum(increase(${local.gauge}{${local.on_task},sentiment="negative",')),
          ((BUZZ_POLICY, "must read only custom_googleapis_com:sentiment_tweets_scored",
            "not custom_googleapis_com:sentiment_negative_share"),
           (BUZZ_POLICY, "must be a share"))),
    Break("alerts-without-runbook", ALERTS,
          (("monitoring.tf", "content   = each.value.runbook", 'content   = ""'),),
          (('google_monitoring_alert_policy.this["bad_buzz"] has no documentation',),
           ('google_monitoring_alert_policy.this["dead_letters"] has no documentation',))),
    Break("dashboard-placeholders-and-layout", DASHBOARD,
          (("monitoring.tf", "    push_subscription        = google_pubsub_subscription.tweets_push.name\n", ""),
           ("dashboard.json", '"xPos": 24,\n        "yPos": 6,', '"xPos": 20,\n        "yPos": 6,')),
          (("uses ${push_subscription}, which templatefile() does not pass",), ("overlap",))),
    # The push audience: the pushed function's URL (without the path), or Cloud Run refuses the token.
    Break("wrong-push-audience", PUSH,
          (("pubsub.tf", 'audience = module.function["pubsub"].uri',
            'audience = "${module.function["pubsub"].uri}/projects/${var.project_id}"'),),
          (("tweets_push", "the OIDC audience must be the URL of the function it pushes to"),)),
    # Identities: builds and deploys never as a default account, exactly the documented roles
    Break("function-built-as-default-account", IDENTITIES,
          (("functions.tf", "build_service_account = google_service_account.function_build.name",
            "build_service_account = null"),),
          ((HTTP, "build_config.service_account is not set"), (PUBSUB, "build_config.service_account is not set"))),
    Break("dataflow-job-as-the-default-account", IDENTITIES,
          (("pubsub.tf", None, '\nresource "google_dataflow_flex_template_job" "buzz" {\n  provider = google-beta\n'
                               '  name = "buzz"\n  container_spec_gcs_path = "gs://b/t.json"\n}\n'),),
          (("google_dataflow_flex_template_job.buzz: service_account_email is not set",),)),
    Break("build-account-roles-not-the-documented-ones", IDENTITIES,
          (("iam.tf", '"roles/artifactregistry.writer", "roles/storage.objectAdmin"]',
            '"roles/artifactregistry.writer", "roles/storage.objectViewer"]'),),
          (("google_service_account.function_build", "lacks roles/storage.objectAdmin"),
           ("google_service_account.function_build", "has roles/storage.objectViewer"))),
    Break("deployer-cannot-act-as-what-it-deploys", IDENTITIES,
          (("iam.tf", "    function_build = google_service_account.function_build.name\n", ""),
           (f"{MODULE}main.tf", "  member             = var.deployer_member",
            '  member             = "user:someone@example.com"')),
          (("has no roles/iam.serviceAccountUser on google_service_account.function_build",),
           (f"has no roles/iam.serviceAccountUser on {HTTP}.google_service_account.this",))),
    Break("deployer-without-its-token", IDENTITIES,
          (("iam.tf", '  role               = "roles/iam.serviceAccountOpenIdTokenCreator"',
            '  role               = "roles/iam.serviceAccountTokenCreator"'),
           ("main.tf", re.compile(r'    "iamcredentials\.googleapis\.com",.*\n'), "")),
          (("lacks roles/iam.serviceAccountOpenIdTokenCreator on itself",),
           ("does not enable iamcredentials.googleapis.com",))),
    Break("deployer-cannot-act-as-the-alerts-push-identity", IDENTITIES,
          (("notify.tf", re.compile(r'resource "google_service_account_iam_member" "deployer_acts_as_notify_push"'
                                    r" \{.*?\n\}\n", re.S), ""),),
          (("has no roles/iam.serviceAccountUser on google_service_account.notify_push",),)),
    # The webhook secret: read by the notifier alone, its value never in Terraform
    Break("a-second-accessor", SECRETS,
          (("notify.tf", None, '\nresource "google_secret_manager_secret_iam_member" "also" {\n'
                               "  secret_id = google_secret_manager_secret.notify_webhook.secret_id\n"
                               '  role      = "roles/secretmanager.secretAccessor"\n'
                               '  member    = module.function["pubsub"].service_account_email\n}\n'),),
          (("google_secret_manager_secret.notify_webhook", f"{PUBSUB}.google_service_account.this holds "
            "roles/secretmanager.secretAccessor on it"),)),
    Break("the-notifier-not-an-accessor", SECRETS,
          ((f"{MODULE}main.tf", '  role      = "roles/secretmanager.secretAccessor"',
            '  role      = "roles/secretmanager.viewer"'),),
          ((NOTIFY, "is not its roles/secretmanager.secretAccessor"),
           (f"{NOTIFY}.google_service_account.this holds roles/secretmanager.viewer",))),
    Break("the-secret-value-in-terraform", SECRETS,
          (("notify.tf", None, '\nresource "google_secret_manager_secret_version" "url" {\n'
                               "  secret      = google_secret_manager_secret.notify_webhook.id\n"
                               '  secret_data = "https://hooks.example/x"\n}\n'),),
          (("google_secret_manager_secret_version.url writes the secret's value from Terraform",),)),
    Break("secret-manager-on-the-project", SECRETS,
          ((f"{MODULE}main.tf", '["roles/monitoring.metricWriter", "roles/logging.logWriter"]',
            '["roles/monitoring.metricWriter", "roles/logging.logWriter", "roles/secretmanager.secretAccessor"]'),),
          (("grants roles/secretmanager.secretAccessor on the whole project",),)),
    Break("deployer-not-an-invoker", IDENTITIES,
          (("functions.tf", "{ deployer = google_service_account.deployer.member })", "{})"),),
          ((f"{DEPLOYER} is not an invoker of {HTTP}.google_cloudfunctions2_function.this",),)),
    Break("act-as-on-the-project", LEAST_PRIVILEGE,
          (("iam.tf", '    "roles/monitoring.admin",\n',
            '    "roles/monitoring.admin",\n    "roles/iam.serviceAccountUser",\n'),),
          (("google_project_iam_member.deployer", "grants roles/iam.serviceAccountUser on the whole project"),)),
    Break("readme-lists-drift", DEPLOY_README,
          (("README.md", "`roles/cloudfunctions.admin`, `roles/run.admin`,",
            "`roles/cloudfunctions.admin`, `roles/editor`,"),
           ("README.md", "`iamcredentials.googleapis.com` (IAM Service Account", "the IAM Service Account")),
          (("deployer-roles list lacks `roles/run.admin`",), ("deployer-roles list has `roles/editor`",),
           ("deploy-apis list lacks `iamcredentials.googleapis.com`",))),
    # PromQL and the dashboard, as Cloud Monitoring will read them
    Break("two-promql-conditions-in-a-policy", ALERTS,
          (("monitoring.tf", '        EOT\n      }]\n      subject = "Sentiment functions cannot load the model"',
            '        EOT\n        }, {\n        display_name = "again"\n        duration     = "0s"\n'
            '        query        = "vector(1) > 0"\n      }]\n'
            '      subject = "Sentiment functions cannot load the model"'),),
          (('google_monitoring_alert_policy.this["model_load_failures"] has 2 conditions',),)),
    Break("unbalanced-parenthesis", QUERIES,
          (("monitoring.tf", "[${local.window}]))\n          ) > ${var.bad_buzz_negative_share}",
            "[${local.window}])\n          ) > ${var.bad_buzz_negative_share}"),
           ("dashboard.json", "[5m])) * 60", "[5m]) * 60")),
          (('google_monitoring_alert_policy.this["bad_buzz"]', "the query does not parse"),
           ("dashboard.json: tile 'Tweets scored per minute", "the query does not parse"))),
    Break("query-that-cannot-be-rendered", QUERIES,
          (("monitoring.tf", ") > ${var.error_rate_threshold}\n          and\n          (sum",
            ") > ${var.error_threshold}\n          and\n          (sum"),),
          (('google_monitoring_alert_policy.this["errors"]', "${var.error_threshold} cannot be rendered"),)),
    Break("misspelled-widget", DASHBOARD, (("dashboard.json", re.compile(r'"xyChart"'), '"xyChrat"'),),
          (("not a Dashboard of the Monitoring API", 'no field named "xyChrat"'),)),
    Break("dashboard-schema-error", DASHBOARD, (("dashboard.json", '"plotType": "LINE"', '"plotType": "LINES"'),),
          (("not a Dashboard of the Monitoring API", "Invalid enum value LINES"),)),
    Break("zero-position", DASHBOARD, (("dashboard.json", '"width": 48,', '"xPos": 0,\n        "width": 48,'),),
          (("mosaicLayout.tiles[0].xPos = 0 is a default value the API drops",),)),
    # The Dataflow jobs: each worker identity holds exactly what its job needs
    Break("stream-worker-publishes-the-scores-too", DATAFLOW,
          (("dataflow.tf", '      publishes_to   = { alerts = google_pubsub_topic.this["alerts"].name }',
            '      publishes_to   = { alerts = google_pubsub_topic.this["alerts"].name, '
            'scored = google_pubsub_topic.this["scored"].name }'),),
          ((STREAM_SA, 'holds roles/pubsub.publisher on google_pubsub_topic.this["scored"]',
            f"which {STREAM_JOB} does not need"),)),
    Break("stream-worker-cannot-read-its-subscription", DATAFLOW,
          ((f"{WORKER}main.tf", re.compile(r'resource "google_pubsub_subscription_iam_member" "viewer" \{.*?\n\}\n',
                                           re.S), ""),),
          ((STREAM_SA, "lacks roles/pubsub.viewer on google_pubsub_subscription.stream", STREAM_JOB),)),
    Break("bulk-worker-without-the-model-store", DATAFLOW,
          (("dataflow.tf", '      reads_buckets = { models = google_storage_bucket.this["models"].name }',
            "      reads_buckets = {}"),),
          ((BULK_SA, 'lacks roles/storage.objectViewer on google_storage_bucket.this["models"]', "local.bulk_job"),)),
    Break("one-identity-for-both-jobs", DATAFLOW,
          (("dataflow.tf", 'service_account  = module.dataflow_worker["bulk"].email',
            'service_account  = module.dataflow_worker["stream"].email'),),
          ((f"{STREAM_JOB} and local.bulk_job share {STREAM_SA}",),
           (STREAM_SA, 'lacks roles/storage.objectAdmin on google_storage_bucket.this["bulk"]'))),
    Break("stream-job-cancelled-on-delete", DATAFLOW,
          (("dataflow.tf", 'on_delete                    = "drain"', 'on_delete                    = "cancel"'),
           ("dataflow.tf", "skip_wait_on_job_termination = false", "skip_wait_on_job_termination = true")),
          ((STREAM_JOB, "on_delete is 'cancel', not \"drain\""), (STREAM_JOB, "skip_wait_on_job_termination"))),
    Break("stream-parameters-not-the-templates", DATAFLOW,
          (("dataflow.tf", "    brand_field  = var.stream_brand_field\n", '    window_minutes = "60"\n'),),
          ((STREAM_JOB, "passes window_minutes, which pipelines/flex/stream_metadata.json does not declare"),)),
    Break("stream-without-its-subscription", DATAFLOW,
          (("dataflow.tf", "    subscription = google_pubsub_subscription.stream.id\n", ""),),
          ((STREAM_JOB, "does not pass subscription, which the stream template requires"),)),
    Break("stream-reads-the-raw-tweets", DATAFLOW,
          (("dataflow.tf", '  topic   = google_pubsub_topic.this["scored"].id\n\n  ack_deadline_seconds = 60',
            '  topic   = google_pubsub_topic.this["tweets"].id\n\n  ack_deadline_seconds = 60'),),
          ((STREAM_JOB, "reads google_pubsub_subscription.stream, which is not on the tweets-scored topic"),)),
    Break("stream-subscription-forgets", DATAFLOW,
          (("dataflow.tf", '  message_retention_duration = "604800s"\n  retain_acked_messages      = true',
            '  message_retention_duration = "3600s"\n  retain_acked_messages      = true'),
           ("dataflow.tf", '  expiration_policy {\n    ttl = ""\n  }\n}\n\nmodule "dataflow_worker"',
            '}\n\nmodule "dataflow_worker"')),
          (("google_pubsub_subscription.stream: message_retention_duration must be 604800s",),
           ("google_pubsub_subscription.stream would expire",))),
    Break("stream-alerts-to-another-topic", DATAFLOW,
          (("dataflow.tf", '    alert_topic  = google_pubsub_topic.this["alerts"].id',
            '    alert_topic  = google_pubsub_topic.this["feedback"].id'),),
          ((STREAM_JOB, "alert_topic must be the id of the topic the notifier reads"),
           (STREAM_SA, 'lacks roles/pubsub.publisher on google_pubsub_topic.this["feedback"]'))),
    Break("stream-image-and-spec-of-two-tags", DATAFLOW,
          (("dataflow.tf", 'sdk_container_image     = "${local.pipeline_images}/stream:${var.pipeline_image_tag}"',
            'sdk_container_image     = "${local.pipeline_images}/stream:latest"'),),
          ((STREAM_JOB, "are not the stream template's of one tag"),)),
    Break("worker-admin-of-the-model-store", LEAST_PRIVILEGE,
          (("dataflow.tf", '        bulk     = google_storage_bucket.this["bulk"].name\n',
            '        bulk     = google_storage_bucket.this["bulk"].name\n'
            '        models   = google_storage_bucket.this["models"].name\n'),),
          (('module.dataflow_worker["bulk"].google_storage_bucket_iam_member.writer["models"]',
            "grants roles/storage.objectAdmin on the model store"),)),
    Break("worker-with-a-broad-project-role", LEAST_PRIVILEGE,
          ((f"{WORKER}main.tf", '  role    = "roles/dataflow.worker"', '  role    = "roles/dataflow.admin"'),),
          (('module.dataflow_worker["stream"].google_project_iam_member.worker grants roles/dataflow.admin on the '
            "whole project",),)),
    Break("function-writes-objects", LEAST_PRIVILEGE,
          ((f"{MODULE}main.tf", 'role   = "roles/storage.objectViewer"', 'role   = "roles/storage.objectAdmin"'),),
          ((f"{HTTP}.google_storage_bucket_iam_member.model_reader", "grants roles/storage.objectAdmin",
            "only a Dataflow job's workers write objects"),)),
    Break("stream-job-as-the-compute-default-account", IDENTITIES,
          (("dataflow.tf", 'service_account_email   = module.dataflow_worker["stream"].email',
            'service_account_email   = "${data.google_project.this.number}-compute@developer.gserviceaccount.com"'),),
          ((STREAM_JOB, "service_account_email", "is not a service account declared here"),)),
    Break("deployer-cannot-launch-the-stream-job", IDENTITIES,
          (("dataflow.tf", "      launchers      = { deployer = google_service_account.deployer.member }",
            "      launchers      = {}"),),
          ((f"has no roles/iam.serviceAccountUser on {STREAM_SA} (dataflow_launched account)",),)),
    # checkov skips
    Break("checkov-skip-without-reason", SKIPS,
          ((f"{MODULE}main.tf", re.compile(r"#checkov:skip=CKV_GCP_124:.*"), "#checkov:skip=CKV_GCP_124:needed"),),
          ((f"{MODULE}main.tf", "CKV_GCP_124 without a real reason"),)),
]


@pytest.fixture
def infra_copy(tmp_path) -> Path:
    """A copy of infra/ to break."""
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy, ignore=shutil.ignore_patterns("checks", ".terraform*", "*.tfstate*", "__pycache__"))
    return copy


def break_and_check(case: Break, copy: Path) -> None:
    for expected in case.expected:
        assert not reported(list(on_infra(case.check)), *expected), f"{expected} is reported on infra/ as it is"
    for file, old, new in case.edits:
        edit(copy / file, old, new)
    problems = case.check(copy)
    for expected in case.expected:
        assert reported(problems, *expected), f"{expected} not in {problems}"


@pytest.mark.parametrize("case", BREAKS, ids=lambda case: case.id)
def test_a_broken_copy_is_reported(infra_copy, case):
    break_and_check(case, infra_copy)


def test_the_breaks_cover_every_check():
    assert {case.check for case in BREAKS} == set(OFFLINE_CHECKS)


# --- Inputs other than infra/ ------------------------------------------------------------------------

def test_a_decorator_changed_in_main_py_is_reported(tmp_path):
    main = tmp_path / "main.py"
    main.write_text((checks.FUNCTIONS / "main.py").read_text(encoding="utf-8").replace(
        "@functions_framework.cloud_event", "@functions_framework.http"), encoding="utf-8")
    problems = checks.check_entry_points(checks.load_module(INFRA), main)
    assert reported(problems, "score_pubsub is decorated functions_framework.http")


def test_env_reads_see_direct_reads_of_the_code(tmp_path):
    assert checks.env_reads() == {}, "the functions read every variable through sentiment.config"
    (tmp_path / "direct.py").write_text('import os\nA = os.environ.get("A_VAR", "x")\nB = os.environ["B_VAR"]\n'
                                        'C = os.getenv("C_VAR")\n', encoding="utf-8")
    assert checks.env_reads(tmp_path) == {"A_VAR": True, "B_VAR": False, "C_VAR": False}


def test_code_reading_an_unregistered_variable_is_reported(tmp_path):
    functions = tmp_path / "functions"
    shutil.copytree(checks.FUNCTIONS, functions, ignore=shutil.ignore_patterns("__pycache__"))
    with (functions / "sentiment" / "storage.py").open("a", encoding="utf-8") as source:
        source.write('\nTIMEOUT = float(os.environ["GCS_TIMEOUT"])\n')
    problems = checks.check_env_vars(checks.load_module(INFRA), functions)
    assert reported(problems, "reads GCS_TIMEOUT without a default and nothing sets it")
    assert reported(problems, "the code reads GCS_TIMEOUT directly")


# --- What the reading of the configuration sees --------------------------------------------------------

def test_the_bad_buzz_policy_is_the_ratio_of_the_counter_the_docs_show():
    """The coarse signal, as Cloud Monitoring will evaluate it with the default variables: it parses,
    reads nothing but tweets_scored (negative over all, and the volume), and docs/observability.md shows
    exactly this query."""
    module = checks.load_module(INFRA)
    (query,) = [q for q in checks.alert_queries(module) if 'this["bad_buzz"]' in q.where]
    expression, error = checks.parse_promql(query.text)
    assert error is None, error
    found = checks.selectors(expression)
    assert {name for name, _ in found} == {"custom_googleapis_com:sentiment_tweets_scored"}
    assert sorted(sorted(labels) for _, labels in found) == [
        ["monitored_resource", "sentiment", "source"], ["monitored_resource", "source"],
        ["monitored_resource", "source"]]
    assert 'sentiment="negative"' in query.text and "[10m]" in query.text
    doc = (checks.REPO / "docs" / "observability.md").read_text(encoding="utf-8")
    assert "".join(query.text.split()) in "".join(doc.split()), "docs/observability.md shows another query"



def test_every_function_and_topic_instance_is_seen():
    module = checks.load_module(INFRA)
    assert set(module.of_type("google_cloudfunctions2_function")) == {
        f"{HTTP}.google_cloudfunctions2_function.this", f"{PUBSUB}.google_cloudfunctions2_function.this",
        f"{NOTIFY}.google_cloudfunctions2_function.this"}
    assert f"{NOTIFY}.google_storage_bucket_iam_member.model_reader" not in module.resources, "no model, no access"
    assert f"{HTTP}.google_storage_bucket_iam_member.model_reader" in module.resources
    topics = {checks.resolve(module, body["name"]) for body in module.of_type("google_pubsub_topic").values()}
    assert topics == {"tweets", "tweets-scored", "sentiment-alerts", "sentiment-feedback", "tweets-dead-letter"}
    assert len(module.of_type("google_monitoring_alert_policy")) == 5


def test_the_dataflow_resources_are_seen_as_terraform_would_create_them():
    module = checks.load_module(INFRA)
    assert set(module.of_type("google_dataflow_flex_template_job")) == {STREAM_JOB}
    assert checks.accounts(module)["dataflow"] == {STREAM_SA, BULK_SA}
    assert checks.accounts(module)["dataflow_launched"] == {STREAM_SA}
    # for_each over toset(var.x) and { for m in var.x : m => m }: no instance while the list defaults to [].
    assert not [a for a in module.resources if "bulk_inputs" in a or ("bulk" in a and "launcher" in a)]
    parameters = checks.dataflow_jobs(module)[STREAM_JOB]["parameters"]
    assert set(parameters) == {"subscription", "alert_topic", "brand_field"}


def test_bulk_input_buckets_and_launchers_become_grants(infra_copy):
    edit(infra_copy / "variables.tf", re.compile(r'(variable "bulk_input_buckets" \{.*?default     = )\[\]', re.S),
         r'\1["archive-a", "archive-b"]')
    edit(infra_copy / "variables.tf", re.compile(r'(variable "bulk_launchers" \{.*?default     = )\[\]', re.S),
         r'\1["group:analysts@example.com"]')
    module = checks.load_module(infra_copy)
    assert {'google_storage_bucket_iam_member.bulk_inputs["archive-a"]',
            'google_storage_bucket_iam_member.bulk_inputs["archive-b"]',
            'module.dataflow_worker["bulk"].google_service_account_iam_member.launcher["group:analysts@example.com"]',
            } <= set(module.resources)
    assert checks.check_dataflow_jobs(module) == [], "read-only grants on the archives' buckets are the bulk job's"
    assert checks.check_identities(module) == []
    assert checks.check_least_privilege(module) == []


# --- checkov -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkov_ready() -> None:
    """checkov's own virtualenv (created on first use; needs PyPI once, then cached in .venv-checkov)."""
    try:
        checks.checkov_binary()
    except checks.CheckovUnavailable as error:
        pytest.fail(f"checkov could not be set up: {error}")


def test_checkov_reports_no_failed_check(checkov_ready):
    assert list(on_infra(CHECKOV)) == []


def test_checkov_reports_a_bucket_open_to_the_public(checkov_ready, infra_copy):
    break_and_check(Break("public-bucket", CHECKOV,
                          (("storage.tf", '  public_access_prevention    = "enforced"\n  force_destroy               = '
                                          "each.value.force_destroy", "  force_destroy = each.value.force_destroy"),),
                          (("CKV_GCP_114", "google_storage_bucket.this"),)), infra_copy)

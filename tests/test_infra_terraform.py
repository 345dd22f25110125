"""The Terraform in infra/, checked offline (see tests/infra_checks.py for what each check does).

Each check runs on infra/ as it is (no problem expected) and on a broken copy (the problem must be
reported), so that none of them can pass by checking nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from . import infra_checks as checks

INFRA = checks.INFRA


@pytest.fixture(scope="module")
def module() -> checks.Module:
    return checks.load_module(INFRA)


@pytest.fixture
def infra_copy(tmp_path) -> Path:
    """A copy of infra/ to break."""
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy, ignore=shutil.ignore_patterns("checks", ".terraform*", "*.tfstate*", "__pycache__"))
    return copy


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there: if the file changed, this test must change too)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {path.name}: update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def reported(problems: list[str], *fragments: str) -> bool:
    return any(all(fragment in problem for fragment in fragments) for problem in problems)


# --- Terraform itself ------------------------------------------------------------------------------

def test_terraform_fmt_is_clean():
    assert checks.check_fmt(INFRA) == []


def test_fmt_reports_a_misformatted_file(infra_copy):
    edit(infra_copy / "pubsub.tf", "  name    = var.topic_names.tweets\n", "  name = var.topic_names.tweets\n")
    assert reported(checks.check_fmt(infra_copy), "pubsub.tf")


def test_terraform_loads_the_configuration():
    assert checks.check_config_loads(INFRA) == []


@pytest.mark.parametrize(("file", "old", "new", "error"), [
    ("pubsub.tf", 'resource "google_pubsub_topic" "scored" {', 'resource "google_pubsub_topic" "tweets" {',
     "Duplicate resource"),
    ("variables.tf", '  type        = bool\n  description = "Make the HTTP function public',
     '  type        = boolean\n  description = "Make the HTTP function public', "Invalid type specification"),
    ("bigquery.tf", "  count = var.enable_bigquery_export ? 1 : 0\n\n  project       = var.project_id",
     "  count = var.enable_bigquery_export ? 1 : 0\n  for_each = {}\n  project       = var.project_id",
     '"count" and "for_each"'),
])
def test_config_load_reports_what_terraform_refuses(infra_copy, file, old, new, error):
    edit(infra_copy / file, old, new)
    assert reported(checks.check_config_loads(infra_copy), error)


# --- Variables and references ----------------------------------------------------------------------

def test_every_variable_is_typed_described_and_used(module):
    assert checks.check_variables(module) == []


def test_variable_problems_are_reported(infra_copy):
    edit(infra_copy / "variables.tf",
         '  type        = string\n  description = "LOG_LEVEL of both functions."\n', "")
    edit(infra_copy / "main.tf", "    LOG_LEVEL             = var.log_level",
         "    LOG_LEVEL             = var.log_verbosity")
    problems = checks.check_variables(checks.load_module(infra_copy))
    assert reported(problems, "variable log_level has no type")
    assert reported(problems, "variable log_level has no description")
    assert reported(problems, "var.log_verbosity is used but not declared")
    assert reported(problems, "variable log_level is declared but never used")


def test_every_reference_is_declared(module):
    assert checks.check_references(module) == []


def test_undeclared_references_are_reported(infra_copy):
    edit(infra_copy / "functions.tf", "service_account_email            = google_service_account.http.email",
         "service_account_email            = google_service_account.predict.email")
    edit(infra_copy / "pubsub.tf", "member  = local.pubsub_service_agent", "member  = local.pubsub_agent")
    problems = checks.check_references(checks.load_module(infra_copy))
    assert reported(problems, "google_service_account.predict is referenced but not declared")
    assert reported(problems, "local.pubsub_agent is used but not defined")


def test_readme_documents_every_input_and_output(module):
    assert checks.check_readme(module) == []


def test_an_undocumented_variable_is_reported(infra_copy):
    edit(infra_copy / "README.md", "| `bigquery_deletion_protection` |", "| bigquery_deletion_protection |")
    edit(infra_copy / "README.md", "| `dashboard_id` |", "| dashboard |")
    problems = checks.check_readme(checks.load_module(infra_copy))
    assert reported(problems, "input bigquery_deletion_protection")
    assert reported(problems, "output dashboard_id")


# --- The functions ---------------------------------------------------------------------------------

def test_entry_points_exist_with_the_signature_their_trigger_needs(module):
    assert checks.check_entry_points(module) == []


def test_a_missing_entry_point_is_reported(infra_copy):
    edit(infra_copy / "functions.tf", 'entry_point     = "score_pubsub"', 'entry_point     = "score_tweets"')
    problems = checks.check_entry_points(checks.load_module(infra_copy))
    assert reported(problems, "score_tweets", "is not a functions_framework function of main.py")
    assert reported(problems, "main.py entry point score_pubsub is not deployed")


def test_a_wrong_signature_is_reported(infra_copy):
    # The push subscription delivers Pub/Sub envelopes: the HTTP entry point cannot take them.
    edit(infra_copy / "functions.tf", 'entry_point     = "score_pubsub"', 'entry_point     = "predict_http"')
    problems = checks.check_entry_points(checks.load_module(infra_copy))
    assert reported(problems, "google_cloudfunctions2_function.pubsub", "decorated functions_framework.http",
                    "needs functions_framework.cloud_event")


def test_a_decorator_changed_in_main_py_is_reported(module, tmp_path):
    main = tmp_path / "main.py"
    main.write_text((checks.FUNCTIONS / "main.py").read_text(encoding="utf-8").replace(
        "@functions_framework.cloud_event", "@functions_framework.http"), encoding="utf-8")
    assert reported(checks.check_entry_points(module, main), "score_pubsub is decorated functions_framework.http")


def test_the_environment_matches_what_the_code_reads(module):
    assert checks.check_env_vars(module) == []


def test_env_reads_see_direct_reads_of_the_code():
    reads = checks.env_reads()
    assert "STORAGE_EMULATOR_HOST" in reads  # sentiment/storage.py
    assert "K_SERVICE" in reads  # sentiment/telemetry.py


def test_a_missing_env_var_is_reported(infra_copy):
    edit(infra_copy / "main.tf", '    METRICS_EXPORTER      = "monitoring"\n', "")
    problems = checks.check_env_vars(checks.load_module(infra_copy))
    assert reported(problems, "google_cloudfunctions2_function.http does not set METRICS_EXPORTER")
    assert reported(problems, "google_cloudfunctions2_function.pubsub does not set METRICS_EXPORTER")


def test_env_vars_the_code_does_not_read_or_the_platform_owns_are_reported(infra_copy):
    edit(infra_copy / "main.tf", "    LOG_LEVEL             = var.log_level\n",
         '    LOG_LEVEL             = var.log_level\n    MODEL_PATH = "/tmp/model"\n    K_SERVICE = "x"\n')
    problems = checks.check_env_vars(checks.load_module(infra_copy))
    assert reported(problems, "sets MODEL_PATH, which the code never reads")
    assert reported(problems, "sets K_SERVICE, which the platform sets")


def test_a_wrong_exporter_or_model_uri_is_reported(infra_copy):
    edit(infra_copy / "main.tf", 'METRICS_EXPORTER      = "monitoring"', 'METRICS_EXPORTER      = "log"')
    edit(infra_copy / "main.tf", 'model_uri = "gs://${local.models_bucket}/${var.model_prefix}"',
         'model_uri = "gs://some-other-bucket/${var.model_prefix}"')
    problems = checks.check_env_vars(checks.load_module(infra_copy))
    assert reported(problems, "METRICS_EXPORTER must be 'monitoring'")
    assert reported(problems, "MODEL_URI", "some-other-bucket")


def test_code_reading_an_unregistered_variable_is_reported(module, tmp_path):
    functions = tmp_path / "functions"
    shutil.copytree(checks.FUNCTIONS, functions, ignore=shutil.ignore_patterns("__pycache__"))
    with (functions / "sentiment" / "storage.py").open("a", encoding="utf-8") as source:
        source.write('\nTIMEOUT = float(os.environ["GCS_TIMEOUT"])\n')
    problems = checks.check_env_vars(module, functions)
    assert reported(problems, "reads GCS_TIMEOUT without a default and nothing sets it")
    assert reported(problems, "the code reads GCS_TIMEOUT directly")


def test_functions_are_built_from_an_object_named_after_the_zip_hash(module):
    assert checks.check_source_object(module) == []


def test_a_fixed_source_object_name_is_reported(infra_copy):
    edit(infra_copy / "storage.tf", 'name         = "functions/sentiment-${local.function_source_sha256}.zip"',
         'name         = "functions/sentiment.zip"')
    assert reported(checks.check_source_object(checks.load_module(infra_copy)), "does not carry the zip's hash")


# --- Topics, push subscription, dead letters -------------------------------------------------------

def test_topic_names_agree_with_the_code(module):
    assert checks.check_topics(module) == []


def test_a_topic_name_the_code_does_not_expect_is_reported(infra_copy):
    edit(infra_copy / "variables.tf", 'scored      = "tweets-scored"', 'scored      = "scored-tweets"')
    problems = checks.check_topics(checks.load_module(infra_copy))
    assert reported(problems, "OUTPUT_TOPIC would be 'scored-tweets'", "'tweets-scored'")


def test_a_topic_env_var_that_is_not_the_created_topic_is_reported(infra_copy):
    edit(infra_copy / "main.tf", "ALERT_TOPIC           = google_pubsub_topic.alerts.name",
         'ALERT_TOPIC           = "sentiment-alerts"')
    problems = checks.check_topics(checks.load_module(infra_copy))
    assert reported(problems, "ALERT_TOPIC must be google_pubsub_topic.<x>.name")


def test_the_push_subscription_must_read_the_tweets_topic(infra_copy):
    edit(infra_copy / "pubsub.tf", "  topic   = google_pubsub_topic.tweets.id\n\n  # For push",
         "  topic   = google_pubsub_topic.feedback.id\n\n  # For push")
    problems = checks.check_topics(checks.load_module(infra_copy))
    assert reported(problems, "the push subscription reads 'feedback'")


def test_push_subscription_retries_dead_letters_and_iam(module):
    assert checks.check_push_subscription(module) == []


def test_missing_dead_letter_iam_is_reported(infra_copy):
    edit(infra_copy / "pubsub.tf", '  role    = "roles/pubsub.publisher"\n  member  = local.pubsub_service_agent',
         '  role    = "roles/pubsub.viewer"\n  member  = local.pubsub_service_agent')
    edit(infra_copy / "pubsub.tf", "{ tweets_push = google_pubsub_subscription.tweets_push.name },", "{},")
    problems = checks.check_push_subscription(checks.load_module(infra_copy))
    assert reported(problems, "tweets_push", "no roles/pubsub.publisher on google_pubsub_topic.dead_letter")
    assert reported(problems, "tweets_push", "no roles/pubsub.subscriber")


def test_a_push_subscription_without_policies_or_oidc_is_reported(infra_copy):
    path = infra_copy / "pubsub.tf"
    edit(path, "  dead_letter_policy {\n    dead_letter_topic     = google_pubsub_topic.dead_letter.id\n"
               "    max_delivery_attempts = var.max_delivery_attempts\n  }\n\n  push_config", "  push_config")
    edit(path, "  retry_policy {\n    minimum_backoff = var.retry_backoff.minimum\n"
               "    maximum_backoff = var.retry_backoff.maximum\n  }\n", "")
    edit(path, "service_account_email = google_service_account.push_invoker.email",
         'service_account_email = "someone@example.com"')
    problems = checks.check_push_subscription(checks.load_module(infra_copy))
    assert reported(problems, "no dead_letter_policy")
    assert reported(problems, "no retry_policy")
    assert reported(problems, "without an OIDC token")


def test_a_push_identity_without_invoker_is_reported(infra_copy):
    edit(infra_copy / "functions.tf", "  member   = google_service_account.push_invoker.member",
         "  member   = google_service_account.pubsub.member")
    problems = checks.check_push_subscription(checks.load_module(infra_copy))
    assert reported(problems, "no roles/run.invoker on google_cloudfunctions2_function.pubsub")


# --- Access ----------------------------------------------------------------------------------------

def test_the_http_function_is_not_public(module):
    assert checks.check_http_not_public(module) == []


@pytest.mark.parametrize(("file", "old", "new", "problem"), [
    ("functions.tf", "  role     = \"roles/run.invoker\"\n  member   = each.value",
     "  role     = \"roles/run.invoker\"\n  member   = \"allUsers\"", "http_invoker grants allUsers"),
    ("variables.tf", 'description = "Make the HTTP function public (allUsers gets run.invoker). Off by default: '
                     'callers need an identity token. Turn on deliberately."\n  default     = false',
     'description = "Make the HTTP function public."\n  default     = true', "must default to false"),
    ("variables.tf", "http_allow_unauthenticated's job.\"\n  default     = []",
     "http_allow_unauthenticated's job.\"\n  default     = [\"allAuthenticatedUsers\"]",
     "http_invoker_members defaults to a public member"),
    ("functions.tf", "  count = var.http_allow_unauthenticated ? 1 : 0\n", "", "http_public grants allUsers"),
])
def test_a_public_invoker_is_reported(infra_copy, file, old, new, problem):
    edit(infra_copy / file, old, new)
    assert reported(checks.check_http_not_public(checks.load_module(infra_copy)), problem)


def test_least_privilege(module):
    assert checks.check_least_privilege(module) == []


def test_broad_grants_are_reported(infra_copy):
    edit(infra_copy / "iam.tf", '["roles/monitoring.metricWriter", "roles/logging.logWriter"]',
         '["roles/monitoring.metricWriter", "roles/logging.logWriter", "roles/pubsub.admin"]')
    edit(infra_copy / "iam.tf", 'role   = "roles/storage.objectViewer"', 'role   = "roles/storage.objectAdmin"')
    edit(infra_copy / "iam.tf", '  role               = "roles/iam.serviceAccountTokenCreator"',
         '  role               = "roles/editor"')
    edit(infra_copy / "functions.tf", "service_account_email          = google_service_account.pubsub.email",
         "service_account_email          = google_service_account.http.email")
    problems = checks.check_least_privilege(checks.load_module(infra_copy))
    assert reported(problems, "grants roles/pubsub.admin on the whole project")
    assert reported(problems, "grants roles/storage.objectAdmin")
    assert reported(problems, "grants the basic role roles/editor")
    assert reported(problems, "google_cloudfunctions2_function.pubsub shares google_service_account.http")


# --- Metrics, alerts, dashboard ----------------------------------------------------------------------

def test_metric_descriptors_json_is_generated_from_the_code():
    assert checks.check_descriptor_file(INFRA) == []


def test_a_stale_descriptor_file_is_reported(infra_copy):
    edit(infra_copy / "metric_descriptors.json", '"name": "tweets_scored"', '"name": "tweets_counted"')
    assert reported(checks.check_descriptor_file(infra_copy), "regenerate it")


def test_alerts_and_dashboard_use_only_metrics_the_code_writes(module):
    assert checks.check_metrics(module, INFRA) == []


def test_a_renamed_metric_in_an_alert_policy_is_reported(infra_copy):
    edit(infra_copy / "monitoring.tf", 'load_failed  = "custom_googleapis_com:sentiment_model_load_failures"',
         'load_failed  = "custom_googleapis_com:sentiment_model_load_errors"')
    problems = checks.check_metrics(checks.load_module(infra_copy), infra_copy)
    assert reported(problems, "monitoring.tf", "sentiment_model_load_errors is not a metric the code writes")


def test_a_renamed_metric_in_the_dashboard_is_reported(infra_copy):
    edit(infra_copy / "dashboard.json", "custom_googleapis_com:sentiment_scoring_latency_bucket",
         "custom_googleapis_com:sentiment_latency_bucket")
    problems = checks.check_metrics(checks.load_module(infra_copy), infra_copy)
    assert reported(problems, "dashboard.json", "sentiment_latency_bucket is not a metric the code writes")
    assert reported(problems, "does not chart custom.googleapis.com/sentiment/scoring_latency")


def test_wrong_labels_and_suffixes_are_reported(infra_copy):
    edit(infra_copy / "monitoring.tf", 'sentiment="negative"', 'polarity="negative"')
    edit(infra_copy / "dashboard.json", "custom_googleapis_com:sentiment_window_tweets{",
         "custom_googleapis_com:sentiment_window_tweets_bucket{")
    rejected = "(rate(custom_googleapis_com:sentiment_requests_rejected"
    edit(infra_copy / "dashboard.json", f"sum by (source, reason) {rejected}", f"sum by (source, cause) {rejected}")
    problems = checks.check_metrics(checks.load_module(infra_copy), infra_copy)
    assert reported(problems, "sentiment_tweets_scored has no label 'polarity'")
    assert reported(problems, "window_tweets is not a distribution")
    assert reported(problems, "sentiment_requests_rejected has no label 'cause'")


def test_alert_policies_are_promql_documented_and_complete(module):
    assert checks.check_alert_policies(module) == []


def test_a_bad_buzz_condition_without_minimum_volume_is_reported(infra_copy):
    path = infra_copy / "monitoring.tf"
    edit(path, ") > ${var.bad_buzz_negative_share}\n        and\n", ") > ${var.bad_buzz_negative_share}\n        or\n")
    edit(path, "[${local.window}])) >= ${var.bad_buzz_min_tweets}", "[${local.window}])) >= 1")
    problems = checks.check_alert_policies(checks.load_module(infra_copy))
    assert reported(problems, "require a minimum volume")
    assert reported(problems, "use the volume threshold")


def test_the_dashboard_placeholders_and_layout(module):
    assert checks.check_dashboard(module, INFRA) == []


def test_dashboard_problems_are_reported(infra_copy):
    edit(infra_copy / "monitoring.tf",
         "    push_subscription        = google_pubsub_subscription.tweets_push.name\n", "")
    edit(infra_copy / "dashboard.json", '"xPos": 24,\n        "yPos": 6,', '"xPos": 20,\n        "yPos": 6,')
    problems = checks.check_dashboard(checks.load_module(infra_copy), infra_copy)
    assert reported(problems, "uses ${push_subscription}, which templatefile() does not pass")
    assert reported(problems, "overlap")


# --- checkov -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkov_ready() -> None:
    """checkov's own virtualenv (created on first use; needs PyPI once, then cached in .venv-checkov)."""
    try:
        checks.checkov_binary()
    except checks.CheckovUnavailable as error:
        pytest.fail(f"checkov could not be set up: {error}")


def test_checkov_reports_no_failed_check(checkov_ready):
    assert checks.run_checkov(INFRA) == []


def test_checkov_reports_a_bucket_open_to_the_public(checkov_ready, infra_copy):
    edit(infra_copy / "storage.tf", '  public_access_prevention    = "enforced"\n  force_destroy               = '
                                    "var.force_destroy_buckets", "  force_destroy = var.force_destroy_buckets")
    assert reported(checks.run_checkov(infra_copy), "CKV_GCP_114", "google_storage_bucket.models")


def test_every_checkov_skip_has_a_reason():
    assert checks.check_checkov_skips(INFRA) == []


def test_a_checkov_skip_without_reason_is_reported(infra_copy):
    path = infra_copy / "functions.tf"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = ["  #checkov:skip=CKV_GCP_124:needed\n" if "checkov:skip=CKV_GCP_124" in line else line for line in lines]
    path.write_text("".join(lines), encoding="utf-8")
    assert reported(checks.check_checkov_skips(infra_copy), "functions.tf", "CKV_GCP_124 without a real reason")

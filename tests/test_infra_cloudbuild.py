"""cloudbuild.yaml, checked at the schema level (Cloud Build itself cannot run here).

The pipeline passes the checks as it is, and each break in BREAKS (edits to a copy, the problems
that must then be reported and are not reported on the pipeline as it is) shows a check can fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from . import infra_checks as checks
from .infra_checks import edit, reported


@pytest.fixture
def pipeline(tmp_path) -> Path:
    copy = tmp_path / "cloudbuild.yaml"
    copy.write_text(checks.CLOUDBUILD.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def test_the_pipeline_passes_the_schema_checks():
    assert checks.check_cloudbuild(checks.CLOUDBUILD) == []


def test_the_pipeline_has_the_stages_in_order():
    steps = yaml.safe_load(checks.CLOUDBUILD.read_text(encoding="utf-8"))["steps"]
    ids = [step["id"] for step in steps]
    assert ids.index("terraform-apply") > ids.index("terraform-plan") > ids.index("terraform-init")
    assert ids.index("smoke-test") > ids.index("terraform-apply")
    assert {"lint", "test", "package"} <= set(steps[ids.index("terraform-init")]["waitFor"])


def test_substitutions_cover_project_region_and_buckets():
    substitutions = yaml.safe_load(checks.CLOUDBUILD.read_text(encoding="utf-8"))["substitutions"]
    assert {"_DEPLOY_PROJECT", "_REGION", "_TF_STATE_BUCKET", "_MODELS_BUCKET"} <= set(substitutions)


def test_substitution_scanner_honours_escapes():
    assert checks.substitutions_used("echo $$HOME ${_REGION} $PROJECT_ID $${run%/}") == {"_REGION", "PROJECT_ID"}


# id -> (edits (old, new), each applied once; the problems that must be reported: fragments of one problem)
BREAKS = {
    "undeclared-substitution": (
        [('"${_PYTEST_MARKERS}"', '"${_PYTEST_MARKS}"')],
        [("$_PYTEST_MARKS is neither a built-in nor a declared substitution",),
         ("substitution _PYTEST_MARKERS is declared but never used",)]),
    "unescaped-shell-variable": (
        [('bash infra/checks/smoke_test.sh "$$url"', 'bash infra/checks/smoke_test.sh "$url"')],
        [("$url", "must be written $$url")]),
    "unpinned-images": (
        [("name: hashicorp/terraform:1.15.5", "name: hashicorp/terraform:latest"), ("name: bash:5.2", "name: bash")],
        [("'hashicorp/terraform:latest' is not pinned",), ("'bash' is not pinned",)]),
    "deploy-not-waiting-for-the-tests": (
        [('waitFor: ["require-state-bucket", "lint", "test", "package", "context", "convert"]',
          'waitFor: ["require-state-bucket", "package", "context", "convert"]')],
        [("step terraform-apply (apply) does not wait for lint",),
         ("step terraform-apply (apply) does not wait for test",)]),
    "waiting-for-an-unknown-or-later-step": (
        [('waitFor: ["terraform-apply"]', 'waitFor: ["terraform-deploy"]'),
         ('waitFor: ["install", "fetch-run"]', 'waitFor: ["install", "publish-model"]')],
        [("waits for 'terraform-deploy', which is not an earlier step",), ("step convert waits for 'publish-model'",)]),
    "no-smoke-test": (
        [("bash infra/checks/smoke_test.sh", "echo skipped")],
        [("no smoke step",)]),
    "state-bucket-not-a-substitution": (
        [('-backend-config="bucket=${_TF_STATE_BUCKET}"', '-backend-config="bucket=my-state"')],
        [("no init step",)]),
    "secret-in-the-pipeline": (
        [("options:\n", "options:\n  env:\n    - API_KEY=AIzaSyA1234567890abcdefghijklmnopqrstuv\n")],
        [("seems to hold a secret",)]),
    "unknown-top-level-key": (
        [("timeout: 3600s", "timout: 3600s")],
        [("unknown top-level key 'timout'",)]),
    # The build's identity: never a default build account (it cannot mint the smoke test's token).
    "no-service-account": (
        [(re.compile(r"(?m)^serviceAccount: .*\n"), "")],
        [("names no serviceAccount", "cannot mint the smoke test's identity token")]),
    "service-account-of-another-form": (
        [("serviceAccount: projects/$PROJECT_ID/serviceAccounts/sentiment-deployer@",
          "serviceAccount: projects/$PROJECT_ID/serviceAccounts/123456789@")],
        [("serviceAccount 'projects/$PROJECT_ID/serviceAccounts/123456789@",)]),
    "service-account-with-default-logging": (
        [("  logging: CLOUD_LOGGING_ONLY", "  logging: LEGACY")],
        [("needs options.logging CLOUD_LOGGING_ONLY", "not 'LEGACY'")]),
    "providers-not-from-the-lock-file": (
        [("init -input=false -lockfile=readonly", "init -input=false")],
        [("step terraform-init: terraform init without -lockfile=readonly",)]),
}


@pytest.mark.parametrize(("edits", "expected"), BREAKS.values(), ids=BREAKS.keys())
def test_a_broken_pipeline_is_reported(pipeline, edits, expected):
    as_it_is = checks.check_cloudbuild(checks.CLOUDBUILD)
    for old, new in edits:
        edit(pipeline, old, new, count=1)
    problems = checks.check_cloudbuild(pipeline)
    for fragments in expected:
        assert not reported(as_it_is, *fragments)
        assert reported(problems, *fragments), f"{fragments} not in {problems}"


def test_bad_yaml_is_reported(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [\n", encoding="utf-8")
    assert reported(checks.check_cloudbuild(broken), "not readable YAML")


def test_the_pipeline_runs_as_the_deployer_terraform_creates():
    assert checks.check_pipeline_account(checks.load_module(checks.INFRA)) == []
    assert checks.pipeline_account() == "sentiment-deployer"


def test_a_pipeline_running_as_another_account_is_reported(pipeline, tmp_path):
    edit(pipeline, "serviceAccounts/sentiment-deployer@", "serviceAccounts/sentiment-builder@", count=1)
    problems = checks.check_pipeline_account(checks.load_module(checks.INFRA), pipeline)
    assert reported(problems, "runs as 'sentiment-builder'", "creates the deployer as 'sentiment-deployer'")
    infra = tmp_path / "infra"
    shutil.copytree(checks.INFRA, infra, ignore=shutil.ignore_patterns("checks", ".terraform"))
    edit(infra / "variables.tf", 'default     = "sentiment-deployer"', 'default     = "tweets-deployer"')
    assert reported(checks.check_pipeline_account(checks.load_module(infra)), "as 'tweets-deployer'")

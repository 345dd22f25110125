"""cloudbuild.yaml, checked at the schema level (Cloud Build itself cannot run here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from . import infra_checks as checks


@pytest.fixture
def pipeline(tmp_path) -> Path:
    copy = tmp_path / "cloudbuild.yaml"
    copy.write_text(checks.CLOUDBUILD.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {path.name}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def reported(problems: list[str], *fragments: str) -> bool:
    return any(all(fragment in problem for fragment in fragments) for problem in problems)


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


def test_an_undeclared_substitution_is_reported(pipeline):
    edit(pipeline, '"${_PYTEST_MARKERS}"', '"${_PYTEST_MARKS}"')
    problems = checks.check_cloudbuild(pipeline)
    assert reported(problems, "$_PYTEST_MARKS is neither a built-in nor a declared substitution")
    assert reported(problems, "substitution _PYTEST_MARKERS is declared but never used")


def test_an_unescaped_shell_variable_is_reported(pipeline):
    edit(pipeline, 'test -n "$$deployer"', 'test -n "$deployer"')
    assert reported(checks.check_cloudbuild(pipeline), "$deployer", "must be written $$deployer")


def test_unpinned_images_are_reported(pipeline):
    edit(pipeline, "name: hashicorp/terraform:1.15.5", "name: hashicorp/terraform:latest")
    edit(pipeline, "name: bash:5.2", "name: bash")
    problems = checks.check_cloudbuild(pipeline)
    assert reported(problems, "'hashicorp/terraform:latest' is not pinned")
    assert reported(problems, "'bash' is not pinned")


def test_a_deploy_that_does_not_wait_for_the_tests_is_reported(pipeline):
    edit(pipeline, 'waitFor: ["require-state-bucket", "lint", "test", "package", "context", "convert"]',
         'waitFor: ["require-state-bucket", "package", "context", "convert"]')
    problems = checks.check_cloudbuild(pipeline)
    assert reported(problems, "step terraform-apply (apply) does not wait for lint")
    assert reported(problems, "step terraform-apply (apply) does not wait for test")


def test_waiting_for_an_unknown_or_later_step_is_reported(pipeline):
    edit(pipeline, 'waitFor: ["terraform-apply"]', 'waitFor: ["terraform-deploy"]')
    edit(pipeline, 'waitFor: ["install", "fetch-run"]', 'waitFor: ["install", "publish-model"]')
    problems = checks.check_cloudbuild(pipeline)
    assert reported(problems, "waits for 'terraform-deploy', which is not an earlier step")
    assert reported(problems, "step convert waits for 'publish-model'")


def test_a_missing_smoke_test_is_reported(pipeline):
    edit(pipeline, "bash infra/checks/smoke_test.sh", "echo skipped")
    assert reported(checks.check_cloudbuild(pipeline), "no smoke step")


def test_a_state_bucket_that_is_not_a_substitution_is_reported(pipeline):
    edit(pipeline, '-backend-config="bucket=${_TF_STATE_BUCKET}"', '-backend-config="bucket=my-state"')
    assert reported(checks.check_cloudbuild(pipeline), "no init step")


def test_a_secret_in_the_pipeline_is_reported(pipeline):
    edit(pipeline, "options:\n", "options:\n  env:\n    - API_KEY=AIzaSyA1234567890abcdefghijklmnopqrstuv\n")
    assert reported(checks.check_cloudbuild(pipeline), "seems to hold a secret")


def test_unknown_keys_and_bad_yaml_are_reported(pipeline, tmp_path):
    edit(pipeline, "timeout: 3600s", "timout: 3600s")
    assert reported(checks.check_cloudbuild(pipeline), "unknown top-level key 'timout'")
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [\n", encoding="utf-8")
    assert reported(checks.check_cloudbuild(broken), "not readable YAML")

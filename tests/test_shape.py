"""The shape of the deployed code, checked from its source: who imports whom, and what ships.

- no import cycle anywhere in ``functions/`` (every import counts, function-level ones included);
- ``sentiment`` never imports the offline stacks (converter, TensorFlow, gensim, MLflow, Beam...);
- the entry module imports no API module from the per-instance state: data flows one way,
  ``main.py`` → ``http_api`` / ``pubsub_api`` / ``notify_api`` → library → clients;
- the functions are stateless: no bad-buzz setting, no alert publishing, no per-instance gauge (bad buzz
  is the pipeline's, over every instance's scored tweets).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
FORBIDDEN = ("converter", "pipelines", "devstack", "bench", "tests", "tensorflow", "keras", "gensim", "mlflow",
             "apache_beam", "sklearn", "matplotlib", "google.cloud.storage")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found |= {f"{prefix}.{alias.name}" for alias in node.names}  # `from . import x` imports module x
    return found


def graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules of this tree it imports."""
    files = {module_name(path, root): path for path in root.rglob("*.py") if "__pycache__" not in path.parts}
    edges = {}
    for name, path in files.items():
        targets = {imported for imported in imports_of(path, root) if imported in files}
        edges[name] = {t for t in targets if t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by a depth-first search (enough to report one per strongly connected part)."""
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    return found


def without_package_parents(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """A module importing its own package's ``__init__`` (``from . import x``) is not a cycle through it."""
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}


def test_no_import_cycle_in_the_functions():
    edges = without_package_parents(graph(FUNCTIONS))
    assert "main" in edges and "sentiment.instance" in edges
    assert cycles(edges) == []


def test_the_cycle_finder_finds_one(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import thing\n")  # a function-level import counts
    assert cycles(without_package_parents(graph(tmp_path))) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_data_flows_one_way():
    edges = graph(FUNCTIONS)
    assert edges["main"] >= {"sentiment.http_api", "sentiment.pubsub_api", "sentiment.notify_api", "sentiment.instance"}
    apis = {"sentiment.http_api", "sentiment.pubsub_api", "sentiment.notify_api", "main"}
    for module, targets in edges.items():
        if module not in apis:
            assert not targets & apis, f"{module} imports an entry point or API module: {targets & apis}"


@pytest.mark.parametrize("path", sorted((FUNCTIONS / "sentiment").rglob("*.py")), ids=lambda p: p.name)
def test_the_library_never_imports_the_offline_stacks(path):
    imported = imports_of(path, FUNCTIONS)
    bad = sorted(name for name in imported for forbidden in FORBIDDEN
                 if name == forbidden or name.startswith(forbidden + "."))
    assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_the_function_zip_carries_only_what_the_functions_run(tmp_path):
    """Every file of the zip is the entry module, a module it imports (transitively), the OpenAPI
    document the HTTP function serves, or the runtime requirements; every module it imports is there."""
    import sys
    import zipfile

    sys.path.insert(0, str(REPO / "infra"))
    try:
        import package_function
    finally:
        sys.path.remove(str(REPO / "infra"))
    package_function.build(tmp_path / "source.zip")
    names = set(zipfile.ZipFile(tmp_path / "source.zip").namelist())

    edges = graph(FUNCTIONS)
    needed, todo = set(), ["main"]
    while todo:
        module = todo.pop()
        if module not in needed:
            needed.add(module)
            todo += edges[module]
            todo += [parent for parent in _parents(module) if parent in edges]  # a package's __init__ runs too
    files = set()
    for module in needed:
        path = FUNCTIONS / (module.replace(".", "/") + ".py")
        files.add((path if path.is_file() else FUNCTIONS / module.replace(".", "/") / "__init__.py")
                  .relative_to(FUNCTIONS).as_posix())
    expected = files | {"requirements.txt", "sentiment/openapi.yaml"}
    assert names == expected, (sorted(names - expected), sorted(expected - names))
    assert not any(name.startswith("sentiment/cli/") or name == "sentiment/__main__.py" for name in names)


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


# --- The functions are stateless: score, publish, count -------------------------------------------------

PUBLISHED_TOPICS = {"output_topic", "dead_letter_topic", "feedback_topic"}  # scored tweets, parked ones, feedback


def test_stateless_no_bad_buzz_setting_in_the_functions():
    from sentiment.config import SETTINGS, Config

    names = {setting.env for setting in SETTINGS}
    assert not [name for name in names if name.startswith("BUZZ_")] and "ALERT_TOPIC" not in names
    assert {field for field in Config.__dataclass_fields__ if field.endswith("_topic")} == PUBLISHED_TOPICS


def test_stateless_no_alert_publishing_path_in_the_functions():
    """No module reads a topic setting other than the three the functions publish on (the notifier receives
    alerts from its push subscription and parks what it cannot post on the dead letters), and no source
    names the old detector's settings."""
    read: dict[str, set[str]] = {}
    for path in sorted(FUNCTIONS.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.Attribute) and node.attr.endswith("_topic"):
                read.setdefault(node.attr, set()).add(path.relative_to(REPO).as_posix())
        assert not re.search(r"\bBUZZ_|\bbuzz_(window|negative|min|cooldown)", text), path.relative_to(REPO)
    assert read.keys() == PUBLISHED_TOPICS, {topic: files for topic, files in read.items()
                                             if topic not in PUBLISHED_TOPICS}


def test_stateless_the_telemetry_writes_only_counts_that_add_up_over_instances():
    from sentiment.prediction import CLASSES
    from sentiment.telemetry import Telemetry, aggregation
    from sentiment.telemetry import descriptors as md

    assert {descriptor.metric_kind for descriptor in md.DESCRIPTORS} == {"CUMULATIVE"}, "a gauge is per instance"
    assert not {"negative_share", "window_tweets"} & {descriptor.name for descriptor in md.DESCRIPTORS}
    assert not hasattr(aggregation, "gauge")
    assert not {"publisher", "publish_alert"} & set(inspect.signature(Telemetry).parameters)
    # what the fleet's negative share (the alert policy, the dashboard) is computed from
    assert set(md.TWEETS_SCORED.labels) == {"source", "sentiment", "model_version"} and len(CLASSES) == 3

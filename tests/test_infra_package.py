"""infra/package_function.py: the zip Cloud Functions builds from, and its hash."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "infra" / "package_function.py"


def _load():
    spec = importlib.util.spec_from_file_location("package_function", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


package = _load()


@pytest.fixture
def source(tmp_path) -> Path:
    """A copy of functions/ with the clutter a working tree has (caches, a test, a model)."""
    functions = tmp_path / "functions"
    shutil.copytree(REPO / "functions", functions, ignore=shutil.ignore_patterns("__pycache__"))
    (functions / "sentiment" / "__pycache__").mkdir()
    (functions / "sentiment" / "__pycache__" / "text.cpython-311.pyc").write_bytes(b"\0")
    (functions / "tests").mkdir()
    (functions / "tests" / "test_main.py").write_text("def test(): pass\n")
    (functions / "sentiment" / "test_text.py").write_text("def test(): pass\n")
    (functions / "models").mkdir()
    (functions / "models" / "model.tflite").write_bytes(b"TFL3")
    (functions / ".env").write_text("SECRET=1\n")
    return functions


def names(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return archive.namelist()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_zip_holds_the_functions_and_the_runtime_requirements(tmp_path, source):
    output = tmp_path / "function-source.zip"
    digest = package.build(output, source, REPO / "requirements.txt")
    listed = names(output)
    expected_code = sorted(p.relative_to(REPO / "functions").as_posix()
                           for p in (REPO / "functions").rglob("*.py") if "__pycache__" not in p.parts
                           and not p.relative_to(REPO / "functions").as_posix().startswith(package.LOCAL_TOOLING))
    assert "main.py" in listed and "requirements.txt" in listed
    assert [n for n in listed if n.endswith(".py")] == expected_code
    assert any(n.startswith("sentiment/") for n in listed)
    with zipfile.ZipFile(output) as archive:
        assert archive.read("requirements.txt") == (REPO / "requirements.txt").read_bytes()
        assert archive.read("main.py") == (REPO / "functions" / "main.py").read_bytes()
        assert {info.date_time for info in archive.infolist()} == {package.FIXED_TIME}
    assert digest == sha256(output)


def test_no_tests_models_caches_or_dotfiles(tmp_path, source):
    output = tmp_path / "function-source.zip"
    package.build(output, source, REPO / "requirements.txt")
    listed = names(output)
    assert not [n for n in listed if "__pycache__" in n or n.endswith((".pyc", ".tflite"))]
    assert not [n for n in listed if n.startswith(("tests/", "models/", ".")) or "/test_" in n]
    assert listed == sorted(listed)


def test_same_content_gives_the_same_hash_whatever_the_timestamps(tmp_path, source):
    first = package.build(tmp_path / "a.zip", source, REPO / "requirements.txt")
    for path in source.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    second = package.build(tmp_path / "b.zip", source, REPO / "requirements.txt")
    assert first == second
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_code_change_changes_the_hash(tmp_path, source):
    before = package.build(tmp_path / "a.zip", source, REPO / "requirements.txt")
    with (source / "main.py").open("a", encoding="utf-8") as main:
        main.write("\n# a change\n")
    after = package.build(tmp_path / "b.zip", source, REPO / "requirements.txt")
    assert before != after


def test_a_requirements_change_changes_the_hash(tmp_path, source):
    requirements = tmp_path / "requirements.txt"
    requirements.write_bytes((REPO / "requirements.txt").read_bytes())
    before = package.build(tmp_path / "a.zip", source, requirements)
    requirements.write_text(requirements.read_text() + "six==1.17.0\n")
    assert package.build(tmp_path / "b.zip", source, requirements) != before


def test_a_requirements_file_inside_functions_is_refused(tmp_path, source):
    (source / "requirements.txt").write_text("flask\n")
    with pytest.raises(package.PackagingError, match="would shadow"):
        package.build(tmp_path / "a.zip", source, REPO / "requirements.txt")


def test_a_directory_without_main_py_is_refused(tmp_path):
    with pytest.raises(package.PackagingError, match="no main.py"):
        package.build(tmp_path / "a.zip", tmp_path, REPO / "requirements.txt")


def test_the_command_line_prints_the_path_and_hash(tmp_path):
    output = tmp_path / "out" / "function-source.zip"
    result = subprocess.run([sys.executable, str(SCRIPT), "--output", str(output)],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"{output} sha256={sha256(output)}"
    assert not output.with_name(output.name + ".partial").exists()

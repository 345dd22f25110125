"""Build the Cloud Functions source zip: the contents of functions/ plus the runtime requirements.

Cloud Functions installs ``requirements.txt`` from the root of the source, but the runtime
requirements live at the top of the repository (next to the dev ones) while the code lives in
``functions/`` (``main.py`` + the ``sentiment`` package). The zip therefore holds::

    main.py
    sentiment/*.py ...
    requirements.txt        <- the top-level requirements.txt

and nothing else: no tests, no models (the functions read them from the model store), no caches,
no local tooling (``sentiment/cli/`` and ``sentiment/__main__.py``: ``python -m sentiment score``;
``sentiment/rows.py``: reading tweet files, for it and the bulk pipeline).

The zip is deterministic: entries sorted, timestamps fixed, permissions normalised, so the same
content always gives the same bytes. Terraform names the uploaded object after the zip's SHA-256,
so a change of code or requirements is a new object and redeploys the functions, and an unchanged
tree redeploys nothing.

    python infra/package_function.py [--output build/function-source.zip]

prints the zip's path and SHA-256. Standard library only (runs in any Python 3.11 build step).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "build" / "function-source.zip"

# 1980-01-01, the earliest time a zip entry can carry: nothing about the build machine leaks in.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

EXCLUDED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests", "models", ".venv"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo", ".tflite", ".keras", ".h5", ".zip"}
EXCLUDED_NAMES = {".DS_Store", ".gcloudignore"}
# Local tooling that lives in the library's tree but that no function runs (paths under functions/).
LOCAL_TOOLING = ("sentiment/cli/", "sentiment/__main__.py", "sentiment/rows.py")


class PackagingError(Exception):
    """The source tree cannot be packaged as it is."""


def _excluded(relative: Path) -> bool:
    if relative.as_posix().startswith(LOCAL_TOOLING):
        return True
    if any(part in EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1]):
        return True
    name = relative.name
    return (
        name in EXCLUDED_NAMES
        or name.startswith(".")
        or name.startswith("test_")
        or name.endswith("_test.py")
        or relative.suffix in EXCLUDED_SUFFIXES
    )


def source_files(functions_dir: Path, requirements: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file on disk) for every file to ship, sorted by name."""
    if not (functions_dir / "main.py").is_file():
        raise PackagingError(f"{functions_dir} has no main.py: not a functions source directory")
    if not requirements.is_file():
        raise PackagingError(f"{requirements} not found")
    if (functions_dir / "requirements.txt").exists():
        # Two requirement files would make which one ships a matter of packaging order.
        raise PackagingError(f"{functions_dir / 'requirements.txt'} would shadow {requirements}: remove it")
    entries = {
        path.relative_to(functions_dir).as_posix(): path
        for path in functions_dir.rglob("*")
        if path.is_file() and not _excluded(path.relative_to(functions_dir))
    }
    entries["requirements.txt"] = requirements
    yield from sorted(entries.items())


def build(
    output: Path = DEFAULT_OUTPUT,
    functions_dir: Path = REPO / "functions",
    requirements: Path = REPO / "requirements.txt",
) -> str:
    """Write the zip to ``output`` and return its SHA-256 (hex)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in source_files(functions_dir, requirements):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--, whatever the checkout says
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the attributes above are honoured on extraction
            archive.writestr(info, path.read_bytes())
    partial.replace(output)  # never leave a half-written zip where Terraform would read it
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write (default: %(default)s)")
    parser.add_argument("--functions-dir", type=Path, default=REPO / "functions", help="source root of the functions")
    parser.add_argument("--requirements", type=Path, default=REPO / "requirements.txt", help="runtime requirements")
    args = parser.parse_args(argv)
    try:
        digest = build(args.output, args.functions_dir, args.requirements)
    except PackagingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.output} sha256={digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

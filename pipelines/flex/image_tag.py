"""Print the tag of the pipelines' images: a hash of everything pipelines/flex/Dockerfile copies into them.

    python pipelines/flex/image_tag.py            # 16 hex digits, such as 3f9c0a1be42d7c55

The same code, model bundle, requirements and Dockerfile give the same tag, so a deploy that changed none
of them builds nothing and leaves the streaming job alone; any change gives a new tag, new template specs
(``templates/<command>-<tag>.json``) and an in-place update of the job (infra/dataflow.tf). The files
hashed are read from the Dockerfile's own COPY instructions, so the two cannot disagree; caches are left
out as the build context leaves them out (Dockerfile.dockerignore).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

FLEX = Path(__file__).resolve().parent
ROOT = FLEX.parents[1]
DOCKERFILE = FLEX / "Dockerfile"
SKIPPED = ("__pycache__", ".pyc")


def copied_paths(dockerfile: Path = DOCKERFILE) -> list[str]:
    """The build-context sources of the Dockerfile's COPY instructions (not those copied from another image)."""
    sources = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
            continue
        sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def image_files(root: Path = ROOT, dockerfile: Path = DOCKERFILE) -> list[Path]:
    files = {dockerfile.resolve()}
    for source in copied_paths(dockerfile):
        path = root / source
        if not path.exists():
            raise FileNotFoundError(f"{dockerfile.name} copies {source}, which does not exist under {root}")
        found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        files |= {p.resolve() for p in found if not any(s in p.as_posix() for s in SKIPPED)}
    return sorted(files)


def image_tag(root: Path = ROOT, dockerfile: Path = DOCKERFILE) -> str:
    digest = hashlib.sha256()
    for path in image_files(root, dockerfile):
        name = path.relative_to(root.resolve()).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(name).to_bytes(8, "big") + name + len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the build context (the repository root)")
    args = parser.parse_args(argv)
    print(image_tag(args.root.resolve(), args.root.resolve() / DOCKERFILE.relative_to(ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

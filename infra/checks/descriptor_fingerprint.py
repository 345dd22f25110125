#!/usr/bin/env python3
"""The fields of each metric descriptor whose change replaces the descriptor, pinned in a file.

google_monitoring_metric_descriptor marks `labels`, `metric_kind`, `value_type` (and `type`, the
descriptor's identity) ForceNew: changing any of them, even one label's description, makes Terraform
delete the descriptor and create a new one, and Cloud Monitoring drops the metric's recorded history
with the old one. infra/metric_descriptors.forcenew.json pins those fields as
infra/metric_descriptors.json has them; tests/test_infra_schema.py fails while the two differ, so
that such a change is never a side effect.

After a deliberate change (say so in the commit message: the metric's history restarts):

    python infra/checks/descriptor_fingerprint.py --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parents[1]
PINNED = "metric_descriptors.forcenew.json"
DESCRIPTORS = "metric_descriptors.json"
# Arguments of the resource (monitoring.tf) -> the field of metric_descriptors.json they come from.
FIELDS = {"type": "type", "metric_kind": "metric_kind", "value_type": "value_type", "labels": "labels"}
NOTE = ("Fields of each metric descriptor whose change deletes and recreates it (ForceNew), and with it the "
        "metric's history. Written by infra/checks/descriptor_fingerprint.py --write after a deliberate change.")


def fingerprint(descriptors: dict) -> dict:
    """metric type -> its ForceNew fields, from metric_descriptors.json's content."""
    pinned = {}
    for descriptor in descriptors["descriptors"]:
        pinned[descriptor[FIELDS["type"]]] = {argument: descriptor[field] for argument, field in FIELDS.items()
                                              if argument != "type"}
    return {"note": NOTE, "descriptors": dict(sorted(pinned.items()))}


def render(directory: Path = INFRA) -> str:
    descriptors = json.loads((directory / DESCRIPTORS).read_text(encoding="utf-8"))
    return json.dumps(fingerprint(descriptors), indent=2, sort_keys=True) + "\n"


def check(directory: Path = INFRA) -> list[str]:
    path = directory / PINNED
    if not path.is_file():
        return [f"{PINNED} is missing: write it with `python infra/checks/descriptor_fingerprint.py --write`"]
    pinned = json.loads(path.read_text(encoding="utf-8"))["descriptors"]
    current = fingerprint(json.loads((directory / DESCRIPTORS).read_text(encoding="utf-8")))["descriptors"]
    problems = []
    for metric in sorted(set(pinned) | set(current)):
        if metric not in current:
            problems.append(f"{metric} is no longer in {DESCRIPTORS}: its descriptor would be deleted with its history")
            continue
        if metric not in pinned:
            problems.append(f"{metric} is new in {DESCRIPTORS} and not pinned in {PINNED}")
            continue
        for argument in sorted(set(pinned[metric]) | set(current[metric])):
            if pinned[metric].get(argument) != current[metric].get(argument):
                problems.append(f"{metric}: {argument} changed ({pinned[metric].get(argument)!r} -> "
                                f"{current[metric].get(argument)!r}); the provider replaces the descriptor and "
                                "the metric's history is lost")
    if problems:
        problems.append(f"if this is deliberate, run `python infra/checks/descriptor_fingerprint.py --write` and "
                        f"commit {PINNED} with the change")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite infra/{PINNED} from infra/{DESCRIPTORS}")
    args = parser.parse_args(argv)
    if args.write:
        (INFRA / PINNED).write_text(render(), encoding="utf-8")
        print(f"wrote infra/{PINNED}", file=sys.stderr)
        return 0
    problems = check()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

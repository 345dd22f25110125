"""Bulk scoring: one generated archive scored by ``python -m sentiment score`` (one process) and by
``python -m pipelines score`` on the DirectRunner with 2 worker processes, in the same run, on the same file.

The archive is JSONL, one tweet per line (texts drawn with a fixed seed from the benchmark sample, with an id,
a brand and a time). Both commands run as users run them, in fresh processes; wall time and the CPU time
of every process involved (the pipeline's workers included) are measured. Both outputs are counted: every
tweet scored once. The CPU time per million tweets makes the Dataflow cost (``bench/cost.py``).

    python -m bench.bulk [--count 1000000] [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import common

WORKERS = 2
BRANDS = ("AirParadis", "AirParadis", "SkyWays", "BlueJet")


def generate(path: Path, texts: list[str], count: int) -> int:
    """``count`` tweets as JSONL; returns the file's size in bytes."""
    rng = random.Random(common.SEED)
    start = 1_767_225_600  # 2026-01-01T00:00:00Z
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i * 2))
            handle.write(json.dumps({"id": str(i), "text": rng.choice(texts), "brand": rng.choice(BRANDS),
                                     "created_at": moment}, ensure_ascii=False) + "\n")
    return path.stat().st_size


def timed(command: list[str], timeout: float) -> dict:
    """Run ``command``; wall seconds and the CPU seconds of it and of every process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=common.REPO, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": wall, "cpu_seconds": cpu, "stderr_tail": result.stderr.strip().splitlines()[-1:]}


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda h=handle: h.read(1 << 20), b""))
    return total


def run(store: Path, texts: list[str], work: Path, count: int) -> dict:
    archive = work / "bulk-archive.jsonl"
    size = generate(archive, texts, count)
    model = ["--model", str(store)]
    single = timed([sys.executable, "-m", "sentiment", "score", "--input", str(archive), "--output",
                    str(work / "bulk-cli.jsonl"), "--quiet", *model], timeout=3600)
    single["scored"] = count_lines([work / "bulk-cli.jsonl"])
    prefix = work / "bulk-pipeline" / "scored"
    pipeline = timed([sys.executable, "-m", "pipelines", "score", "--input", str(archive), "--output", str(prefix),
                      "--quiet", *model, "--direct_num_workers", str(WORKERS), "--direct_running_mode",
                      "multi_processing"], timeout=3600)
    pipeline["scored"] = count_lines(sorted(prefix.parent.glob("scored-[0-9]*-of-*.jsonl")))
    pipeline["rejected"] = count_lines(sorted(prefix.parent.glob("scored-rejected-*.jsonl")))
    for row in (single, pipeline):
        row["tweets_per_second"] = count / row["seconds"]
        row["cpu_seconds_per_million"] = row["cpu_seconds"] / count * 1e6
    return {"count": count, "archive_bytes": size, "workers": WORKERS, "single": single, "pipeline": pipeline,
            "ratio": pipeline["tweets_per_second"] / single["tweets_per_second"]}


def main(argv: list[str] | None = None) -> int:
    import tempfile

    from bench import scoring

    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--model", help="bundle or model store (default: the committed one)")
    args = parser.parse_args(argv)
    store = common.model_store(args.model)
    texts = scoring.scorable(store, common.tweet_sample(5000, quick=True).texts)
    print(json.dumps(run(store, texts, Path(tempfile.mkdtemp(prefix="bench-bulk-")), args.count), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

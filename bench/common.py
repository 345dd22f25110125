"""What every benchmark shares: the fixed tweet sample, the model under test, percentiles, the machine.

The sample is drawn once, with a fixed seed, from the shared Sentiment140 pool (real tweet lengths);
``--quick`` without the shared data falls back to the repository's own examples/bad_buzz.jsonl. The
model is the committed one (models/LATEST) unless ``--model`` names another bundle or store; before a
model is committed, the newest bundle under artifacts/bundles/ is used.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import random
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
BUNDLES = REPO / "artifacts" / "bundles"
RUNS = REPO / "artifacts" / "runs"
EXAMPLES = REPO / "examples" / "bad_buzz.jsonl"
POOL = Path("sentiment140") / "sentiment140_pool.csv"
SEED = 20261125
REPLACED_KERAS_MB = 339  # the replaced system's Keras file (FastAPI app, 65 ms per prediction)


@dataclass(frozen=True)
class Sample:
    texts: list[str]
    source: str  # where the texts came from, for the report


def tweet_sample(count: int, quick: bool = False) -> Sample:
    """``count`` tweets drawn with a fixed seed; the shared pool, else (quick mode) the examples."""
    from converter.data import data_dir

    pool = data_dir() / POOL
    if pool.is_file():
        with open(pool, encoding="utf-8", newline="") as handle:
            texts = [row["text"] for row in csv.DictReader(handle) if row.get("text", "").strip()]
        source = f"Sentiment140 pool ({len(texts):,} tweets), {count:,} drawn with seed {SEED}"
    elif quick:
        with open(EXAMPLES, encoding="utf-8") as handle:
            texts = [json.loads(line)["text"] for line in handle if line.strip()]
        source = f"examples/bad_buzz.jsonl ({len(texts):,} made-up tweets; the shared data was not found)"
    else:
        raise SystemExit(f"the shared data is missing ({pool}); set SENTIMENT_DATA_DIR or run with --quick")
    rng = random.Random(SEED)
    drawn = rng.sample(texts, count) if count <= len(texts) else [rng.choice(texts) for _ in range(count)]
    return Sample(drawn, source)


def model_store(explicit: str | None = None) -> Path:
    """The bundle or store to benchmark: ``--model``, else models/ (LATEST), else the newest built bundle."""
    if explicit:
        return Path(explicit)
    if (MODELS / "LATEST").is_file():
        return MODELS
    built = sorted((p for p in BUNDLES.glob("*/manifest.json")), key=lambda p: p.stat().st_mtime)
    if built:
        return built[-1].parent
    raise SystemExit("no model: commit one under models/ (LATEST), build one with `python -m converter convert`, "
                     "or pass --model")


def bundle_dir(store: Path) -> Path:
    """The bundle directory a store or bundle path names."""
    from sentiment.bundle import resolve

    return resolve(store).location


def manifest(store: Path) -> dict:
    return json.loads((bundle_dir(store) / "manifest.json").read_text(encoding="utf-8"))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(seconds: Sequence[float]) -> dict:
    """p50/p99/mean in milliseconds of per-item durations in seconds."""
    return {"n": len(seconds), "p50_ms": percentile(seconds, 50) * 1e3, "p99_ms": percentile(seconds, 99) * 1e3,
            "mean_ms": statistics.fmean(seconds) * 1e3 if seconds else float("nan")}


def machine() -> dict:
    """The machine the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "os": platform.platform(terse=True),
            "python": platform.python_version()}


def pin(pid: int, cores: set[int]) -> bool:
    """Restrict a process to ``cores`` (Linux); False where that is not possible."""
    try:
        os.sched_setaffinity(pid, cores)
        return True
    except (AttributeError, OSError):
        return False


@contextlib.contextmanager
def pinned(cores: set[int]):
    """Run the block with this process restricted to ``cores``; the previous affinity is restored after."""
    try:
        previous = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        yield
        return
    pin(0, cores)
    try:
        yield
    finally:
        pin(0, previous)


def server_core() -> set[int]:
    """The core the servers are pinned to (a 1-vCPU instance); the load generator gets the others."""
    return {0}


def client_cores() -> set[int]:
    cores = set(range(os.cpu_count() or 1)) - server_core()
    return cores or server_core()


def run_json(args: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run ``python -m bench.<...>`` in a fresh process and parse the JSON it prints last."""
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def peak_rss_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of a live process, in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's arbiter and its worker), from /proc."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(status.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds consumed so far by live processes (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            continue
    return total

"""All the benchmarks in one run: prints the tables, writes BENCHMARKS.md and bench/latency_histogram.png.

    python -m bench                   # full run (~15 min): writes BENCHMARKS.md at the repository root
    python -m bench --quick           # tiny counts (< 90 s): prints the tables, writes only to a temp dir
    python -m bench --model PATH      # another bundle or model store (default: models/, the committed one)

Sections: scoring core, telemetry overhead, HTTP function, cold start, Pub/Sub path, bulk scoring (a
generated archive of 1,000,000 tweets, 2,000 in quick mode), streaming latency (publish to the
pipeline's alert on the local stack), cost. Each one
starts the processes it needs (functions-framework, fake-gcs-server, the Pub/Sub emulator) on
loopback and stops them. Benchmarks are not tests: nothing here fails on a slow figure; a missed
target is reported as missed.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import bulk, cold_start, common, cost, http_load, pubsub_path, report, scoring, stream_latency


def metrics_overhead(store: Path, quick: bool) -> dict:
    """bench/metrics_overhead.py as its own process; its ratio line parsed."""
    import subprocess

    model = str(store.resolve().relative_to(common.REPO)) if store.resolve().is_relative_to(common.REPO) else str(store)
    command = [sys.executable, "-m", "bench.metrics_overhead", "--model", model] + (["--quick"] if quick else [])
    with common.pinned(common.server_core()):
        result = subprocess.run(command, cwd=common.REPO, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"metrics_overhead failed:\n{result.stderr[-2000:]}")
    match = re.search(r"ratio on/off: (\d+\.\d+) median", result.stdout)
    ratio = float(match.group(1)) if match else float("nan")
    return {"ratio": ratio, "overhead_pct": 100 * (ratio - 1), "output": result.stdout}


def step(name: str, action, timings: dict):
    print(f"[bench] {name}…", file=sys.stderr, flush=True)
    started = time.perf_counter()
    value = action()
    timings[name] = time.perf_counter() - started
    print(f"[bench] {name}: {timings[name]:.0f} s", file=sys.stderr, flush=True)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts, for CI: prints, writes no BENCHMARKS.md")
    parser.add_argument("--model", help="bundle or model store (default: models/, the committed one)")
    parser.add_argument("--output", help="where BENCHMARKS.md goes (default: the repository root; quick: a temp dir)")
    parser.add_argument("--no-pubsub", action="store_true", help="skip the Pub/Sub path (no emulator installed)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    store = common.model_store(args.model)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    output = Path(args.output) if args.output else (work if args.quick else common.REPO)
    default_png = common.REPO / "bench" / "latency_histogram.png"
    png = output / "latency_histogram.png" if args.quick or args.output else default_png
    sample = common.tweet_sample(300 if args.quick else 5000, quick=args.quick)
    texts = scoring.scorable(store, sample.texts)
    manifest = common.manifest(store)
    timings: dict[str, float] = {}
    results: dict = {}
    results["scoring"] = step("scoring core", lambda: scoring.run(store, texts, args.quick), timings)
    results["metrics_overhead"] = step("telemetry overhead", lambda: metrics_overhead(store, args.quick), timings)
    results["http"] = step("HTTP function", lambda: http_load.run(store, texts, work, args.quick), timings)
    results["cold"] = step("cold start", lambda: cold_start.run(store, texts, work, args.quick), timings)
    if not args.no_pubsub:
        count = 200 if args.quick else 5000
        results["pubsub"] = step("Pub/Sub path", lambda: pubsub_path.run(store, texts, work, count, 60 if args.quick
                                                                          else 300), timings)
        # the local stack with the pipeline, the demo stream at twice the replay's pace in quick mode
        results["stream"] = step("streaming latency", lambda: stream_latency.run(
            work, stream_latency.RATE * (2 if args.quick else 1)), timings)
    results["bulk"] = step("bulk scoring", lambda: bulk.run(store, texts, work, 2_000 if args.quick else 1_000_000),
                           timings)
    keras_tps = results["cold"]["keras"]["under_load"].get("tweets_per_second")
    results["cost"] = cost.run(results["http"], results.get("pubsub"), keras_tps, results["bulk"])
    command = "python -m bench" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])).rstrip()
    results["meta"] = {
        "command": command.strip(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": time.perf_counter() - started, "machine": common.machine(), "timings": timings,
        "model": f"`{manifest['model_version']}` ({manifest['quantization']} quantization, "
                 f"{manifest['training']['network']['lstm_units']}-unit BiLSTM over "
                 f"{manifest['training']['network']['embedding_dim']}-d embeddings, "
                 f"{manifest['training']['network']['vocabulary_size']:,} words)",
        "sample": f"{len(texts):,} scorable tweets from the {sample.source}",
    }

    markdown = report.markdown(results)
    print(markdown)
    output.mkdir(parents=True, exist_ok=True)
    (output / "BENCHMARKS.md").write_text(markdown.replace("bench/latency_histogram.png", _relative(png, output)),
                                          encoding="utf-8")
    report.histogram(results, png)
    raw = {k: v for k, v in results.items()}
    (work / "results.json").write_text(json.dumps(raw, default=str), encoding="utf-8")
    print(f"[bench] wrote {output / 'BENCHMARKS.md'}, {png} and {work / 'results.json'} in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())

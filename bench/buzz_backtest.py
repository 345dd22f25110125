"""Backtest throughput: ``python -m pipelines backtest`` over a simulated week of six brands (real
hand-labelled tweets), timed end to end as a user runs it, twice in one run: lines already scored
(as on ``tweets-scored``) and raw lines ``{"id", "text", "created_at", "brand"}``, which the backtest
scores with the committed bundle itself.

    python -m bench.buzz_backtest [--lines 15000]

Prints lines, seconds and tweets/s of each. The target (issue: a week of 15,000 lines in a few
minutes) is reported as met or missed; nothing fails on a slow figure.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import buzz_week

TARGET_SECONDS = 180.0


def main(argv: list[str] | None = None) -> int:
    from converter.data import data_dir

    parser = argparse.ArgumentParser(prog="python -m bench.buzz_backtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args(argv)
    scored, version = buzz_week.score_pool(buzz_week.load_pool(data_dir()), None)
    negatives = [t for t in scored if t.human_negative]
    others = [t for t in scored if not t.human_negative]
    with tempfile.TemporaryDirectory(prefix="buzz-bench-") as scratch:
        tweets, _ = buzz_week.simulate_week(random.Random(arguments.seed), negatives, others)
        for scored_input in (True, False):
            week = Path(scratch) / "week.jsonl"
            buzz_week.write_week(week, tweets, version, scored=scored_input)
            lines = week.read_text(encoding="utf-8").splitlines()[:arguments.lines]
            week.write_text("\n".join(lines) + "\n", encoding="utf-8")
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "pipelines", "backtest", "--input", str(week), "--output",
                                   str(Path(scratch) / "alerts.jsonl")], capture_output=True, text=True, timeout=1800)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            verdict = "met" if seconds <= TARGET_SECONDS else "MISSED"
            kind = "pre-scored" if scored_input else "raw (scored by the backtest)"
            print(f"backtest of {len(lines):,} {kind} lines (6 brands, one week): {seconds:.1f} s end to end, "
                  f"{len(lines) / seconds:,.0f} tweets/s (process start and Beam import included); "
                  f"target {TARGET_SECONDS:.0f} s: {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

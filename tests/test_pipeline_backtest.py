"""``python -m pipelines backtest`` as a user runs it: a file in, alerts out, a summary per brand, a plot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.buzz_streams import brand_stream, daily, ramp

ROOT = Path(__file__).resolve().parents[1]


def backtest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", "backtest", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    rows = brand_stream("steady", 96, daily(30), lambda h: 0.75, seed=11)
    rows += brand_stream("climb", 96, daily(40), ramp(0.40, 0.65, 60, 3, 72), seed=12, buzz=lambda h: 60 <= h < 72)
    path = tmp_path_factory.mktemp("backtest") / "tweets.jsonl"
    lines = [json.dumps(row) for row in rows] + ["not json", "", json.dumps({"text": "x", "sentiment": "negative"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_backtest_writes_the_alerts_a_summary_and_a_plot(week, tmp_path):
    output, plot, rejected = tmp_path / "alerts.jsonl", tmp_path / "share.png", tmp_path / "rejected.jsonl"
    done = backtest("--input", str(week), "--output", str(output), "--plot", str(plot), "--rejected", str(rejected))
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(a["brand"], a["type"]) for a in alerts] == [("climb", "bad_buzz"), ("climb", "resolved")]
    summary = done.stderr
    assert "backtest: " in summary and "tweets/s" in summary
    climb = next(line for line in summary.splitlines() if line.startswith("climb"))
    steady = next(line for line in summary.splitlines() if line.startswith("steady"))
    assert " 1: " in climb and "share z=" in climb and steady.rstrip().endswith("0: none")
    assert "rejected lines: " in summary and "bad_json 1" in summary
    assert plot.read_bytes().startswith(b"\x89PNG") and plot.stat().st_size > 10_000
    reasons = sorted(json.loads(line)["reason"] for line in rejected.read_text().splitlines())
    assert reasons == ["bad_json", "no_time"]


def test_other_thresholds_are_options(week, tmp_path):
    output = tmp_path / "alerts.jsonl"
    done = backtest("--input", str(week), "--output", str(output), "--z_alert", "30", "--min-effect", "0.5")
    assert done.returncode == 0, done.stderr
    assert output.read_text() == ""


@pytest.mark.parametrize("args, message", [
    (["--input", "missing.jsonl", "--output", "-"], "no such file"),
    (["--input", "README.md", "--output", "-", "--windows-hours", "3,x"], "--windows-hours"),
    (["--input", "README.md", "--output", "-", "--z-alert", "1", "--z-resolve", "2"], "z_resolve"),
])
def test_bad_arguments_exit_2_with_a_reason(args, message):
    done = backtest(*args)
    assert done.returncode == 2 and message in done.stderr


def test_an_empty_file_gives_no_alert(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    done = backtest("--input", str(empty), "--output", "-")
    assert done.returncode == 0 and done.stdout == "" and "0 tweets, 0 brands" in done.stderr

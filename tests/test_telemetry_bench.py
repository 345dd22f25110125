"""The metrics-overhead benchmark runs (quick mode, the tiny model) and reports its ratio.

No timing is asserted here: the machine is shared and the figure belongs in a report, not a gate.
"""

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_quick_benchmark_prints_the_ratio(serving_bundle):
    result = subprocess.run([sys.executable, "-m", "bench.metrics_overhead", "--quick", "--model", str(serving_bundle)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "300 tweets timed each way" in result.stdout
    match = re.search(r"ratio on/off: (\d+\.\d+) median", result.stdout)
    assert match and 0.5 < float(match.group(1)) < 3.0, result.stdout
    assert re.search(r"control \(no telemetry on either side\): ratio \d+\.\d+", result.stdout)


def test_the_benchmark_also_runs_as_a_file(serving_bundle):
    result = subprocess.run([sys.executable, "bench/metrics_overhead.py", "--quick", "--model", str(serving_bundle)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ratio on/off:" in result.stdout

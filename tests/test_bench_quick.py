"""`python -m bench --quick` runs end to end (tiny counts) and prints its tables.

No timing is asserted: the machine is shared and the figures belong in BENCHMARKS.md, not in a gate.
The quick mode writes to a temporary directory, never over the committed BENCHMARKS.md.
"""

import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_quick_benchmark_prints_the_tables(tiny_bundle):
    committed = (REPO / "BENCHMARKS.md").read_bytes() if (REPO / "BENCHMARKS.md").is_file() else None
    result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--model", str(tiny_bundle)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for heading in ("## Headline", "## Targets", "## 1. Scoring core", "## 2. HTTP function", "## 3. Cold start",
                    "## 4. Memory and size", "## 5. Pub/Sub path", "## Bulk scoring (Beam)",
                    "## Streaming: publish to alert (Beam)", "## 6. Cost",
                    "## Telemetry overhead"):
        assert heading in result.stdout, heading
    assert "| scoring, p50 per tweet (1 thread) |" in result.stdout
    assert "| cold start ≤ 0.25 s to first prediction |" in result.stdout  # the regression guard: reported
    assert "HTTP: zero errors | 0 errors | met" in result.stdout
    assert "Pub/Sub path: zero loss | 0 lost, 0 dead-lettered | met" in result.stdout
    assert "| Dataflow batch job (bulk scoring" in result.stdout  # its cost beside the functions' rows
    assert "| `bad_buzz` AirParadis, decided at 2026-11-03" in result.stdout  # the pipeline's alert arrived
    current = (REPO / "BENCHMARKS.md").read_bytes() if (REPO / "BENCHMARKS.md").is_file() else None
    assert current == committed, "--quick must not overwrite BENCHMARKS.md"

"""A progress line on a terminal while a batch pipeline runs (bulk scoring).

On Dataflow, ``run()`` returns at once: the job's counters are polled. A local runner blocks in ``run()`` and
its metrics exist only at the end, so its workers (threads or processes of this machine) tell us instead:
``Tap`` counts the elements going by in each worker and writes the count to a file of its own in a
directory that a thread of this process sums twice a second.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import apache_beam as beam

INTERVAL_SECONDS = 0.5


class Tap(beam.DoFn):
    """Passes elements through, writing how many went by to ``directory`` now and then."""

    def __init__(self, directory: str):
        self._directory = directory

    def setup(self) -> None:
        self._path = Path(self._directory) / f"{os.getpid()}-{uuid.uuid4().hex}"
        self._count, self._written = 0, 0.0

    def process(self, element):
        self._count += 1
        if self._count % 256 == 0 and time.monotonic() - self._written > INTERVAL_SECONDS:
            self._write()
        yield element

    def finish_bundle(self) -> None:
        self._write()

    def _write(self) -> None:
        self._written = time.monotonic()
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(str(self._count))
        os.replace(temporary, self._path)


def counters(result) -> dict[str, int]:
    """The ``sentiment`` namespace's counters of a run (committed values where the runner has them)."""
    from apache_beam.metrics.metric import MetricsFilter

    from pipelines.scoring import NAMESPACE

    totals: dict[str, int] = {}
    for counter in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals


def _tapped(directory: str) -> int:
    total = 0
    for path in Path(directory).iterdir():
        if path.suffix != ".tmp":
            with contextlib.suppress(OSError, ValueError):  # replaced while being read: counted next time
                total += int(path.read_text() or 0)
    return total


class Reporter:
    """``with Reporter(options, enabled) as reporter: ... reporter.run(pipeline)``; ``tap()`` to count a
    PCollection's elements on the line (local runners)."""

    def __init__(self, options, enabled: bool, label: str = "lines", wait: bool = True):
        from apache_beam.options.pipeline_options import StandardOptions

        self.options = options
        self._enabled = enabled
        # A Flex Template launcher must submit and return: waiting for the job there blocks the launch
        # until it times out. Only a remote job can be left running; a local runner always waits.
        self._wait = wait
        self._label = label
        runner = options.view_as(StandardOptions).runner or "DirectRunner"
        self._remote = "Dataflow" in str(runner)
        self._directory: str | None = None

    @property
    def remote(self) -> bool:
        return self._remote

    def __enter__(self) -> Reporter:
        if self._enabled and not self._remote:
            self._directory = tempfile.mkdtemp(prefix="beam-progress-")
        return self

    def __exit__(self, *exc) -> None:
        if self._directory is not None:
            for path in Path(self._directory).iterdir():
                path.unlink(missing_ok=True)
            os.rmdir(self._directory)

    def tap(self, pcollection, name: str):
        if self._directory is None:
            return pcollection
        return pcollection | name >> beam.ParDo(Tap(self._directory))

    def run(self, pipeline):
        started = time.monotonic()
        if self._remote:
            result = pipeline.run()
            if not self._wait:
                return result
            if self._enabled:
                while result.state not in ("DONE", "FAILED", "CANCELLED", "UPDATED", "DRAINED"):
                    self._line(sum(n for k, n in counters(result).items() if k != "files"), started)
                    time.sleep(10)
            result.wait_until_finish()
            if self._enabled:
                self._end()
            return result
        if self._directory is None:
            result = pipeline.run()
            result.wait_until_finish()
            return result
        done = threading.Event()

        def report() -> None:
            while not done.wait(INTERVAL_SECONDS):
                self._line(_tapped(self._directory), started)

        thread = threading.Thread(target=report, daemon=True)
        thread.start()
        try:
            result = pipeline.run()
            result.wait_until_finish()
        finally:
            done.set()
            thread.join()
            self._line(_tapped(self._directory), started)
            self._end()
        return result

    def _line(self, count: int, started: float) -> None:
        elapsed = time.monotonic() - started
        rate = count / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(f"\r{count:,} {self._label} done in {elapsed:,.0f} s ({rate:,.0f}/s)   ")
        sys.stderr.flush()

    def _end(self) -> None:
        sys.stderr.write("\n")

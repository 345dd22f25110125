"""A request's CPU budget: the CPU seconds its thread may spend before the request is refused.

The functions serve a few requests at a time per instance (4 threads): one request that costs
seconds of CPU (a thousand 4,000-character texts) would hold a thread that ``/health`` and every
other caller wait for. The budget is this thread's CPU time, not the wall clock, so a request that
waits for the lock of a busy interpreter is not charged for the wait.
"""

from __future__ import annotations

import math
import time

from .errors import Rejected


class CpuBudget:
    def __init__(self, seconds: float, clock=time.thread_time):
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def check(self, done: int, total: int) -> None:
        """Raise ``Rejected`` (413) once the budget is spent; ``done`` of ``total`` texts were handled."""
        if self._deadline != math.inf and self._clock() > self._deadline:  # no clock read when unlimited
            raise Rejected(413, "over_budget", f"the request needs more than {self.seconds:g} s of CPU (stopped "
                                               f"after {done:,} of {total:,} texts): send fewer or shorter texts")


UNLIMITED = CpuBudget(float("inf"))

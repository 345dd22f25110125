"""A deadline on reading a request body: past it, the socket's read side is shut and the read ends.

gunicorn reads a body with blocking ``recv`` calls and no timeout, so a client that sends its body a
byte at a time holds one of the instance's few threads for as long as it likes. A socket timeout
would bound each ``recv``, not the whole body; this bounds the whole body: one shared thread keeps
the deadlines in a heap and, when one passes, calls ``shutdown(SHUT_RD)`` on that request's socket,
which makes the blocked ``recv`` return at once. The response can still be written (408).

Only where the server hands the socket to the application (gunicorn's ``environ["gunicorn.socket"]``,
what functions-framework runs on); elsewhere reads are not bounded here.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import socket
import threading
import time

log = logging.getLogger(__name__)


class Deadline:
    __slots__ = ("at", "sock", "active", "fired")

    def __init__(self, at: float, sock: socket.socket):
        self.at, self.sock, self.active, self.fired = at, sock, True, False


class ReadDeadlines:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, seconds: float) -> Deadline:
        deadline = Deadline(self._clock() + seconds, sock)
        with self._changed:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="read-deadlines", daemon=True)
                self._thread.start()
            self._changed.notify()
        return deadline

    @staticmethod
    def disarm(deadline: Deadline | None) -> None:
        if deadline is not None:
            deadline.active = False  # the heap entry is dropped when its time comes

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._heap:
                    self._changed.wait()
                at, _, deadline = self._heap[0]
                wait = at - self._clock()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if deadline.active:
                deadline.fired = True
                with contextlib.suppress(OSError):  # already closed by the client or the server
                    deadline.sock.shutdown(socket.SHUT_RD)


DEADLINES = ReadDeadlines()

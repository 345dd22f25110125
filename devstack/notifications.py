"""What the notifier posted to the local stack's webhook receiver, shown as the chat would show it.

``PostFollower`` polls the receiver (``GET /_control/received``) in a thread and prints each new
post of this run, rendered as text (``chat_render``), while ``make replay`` runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .chat_render import as_text
from .webhook_receiver import received_from

POLL_SECONDS = 0.5


class PostFollower:
    def __init__(self, receiver_url: str, printer: Callable[[str], None]):
        self.url, self.printer = receiver_url, printer
        self.shown = 0
        self.duplicates = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True, name="follow-webhook")
        try:
            self._skip = len(received_from(self.url))  # posts of an earlier run are not this run's
        except OSError:
            self._skip = 0

    def start(self) -> PostFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self.poll()  # what arrived in the last half second

    def _follow(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            self.poll()

    def poll(self) -> None:
        try:
            posts = received_from(self.url)[self._skip:]
        except OSError:
            return
        for post in posts[self.shown:]:
            self.shown += 1
            if post.get("duplicate"):
                self.duplicates += 1
                continue
            answered = "" if post.get("status") == 200 else f" (the receiver answered {post.get('status')})"
            rendered = as_text(post.get("body"), post.get("query"))
            self.printer(f"💬 the notifier posted{answered}:\n" + "\n".join(f"     {line}"
                                                                          for line in rendered.splitlines()))

    @property
    def posted(self) -> int:
        return self.shown - self.duplicates

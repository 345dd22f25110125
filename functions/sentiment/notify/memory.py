"""What one notifier instance remembers between alerts: what it posted, and how often per brand.

Both are per instance and bounded; neither survives the instance. Terraform runs the notifier with
``max_instances = 1``, so one instance's memory is, most of the time, the whole notifier's
(docs/notifications.md says exactly when it is not).

- ``PostedAlerts``: the (alert id, type) keys posted, oldest forgotten first, and those being posted
  right now (so that two concurrent deliveries of one alert do not both post);
- ``BrandRateLimit``: at most ``limit`` posts per brand in any ``window_seconds`` (a sliding
  window), and how many alerts of the brand were held back since its last post.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

NEW, POSTED, IN_FLIGHT = "new", "posted", "in_flight"


class PostedAlerts:
    def __init__(self, capacity: int = 10_000):
        self.capacity = capacity
        self._posted: OrderedDict[Hashable, None] = OrderedDict()
        self._in_flight: set[Hashable] = set()
        self._lock = threading.Lock()

    def claim(self, key: Hashable) -> str:
        """NEW (now in flight: the caller posts, then calls ``done`` or ``release``), POSTED or IN_FLIGHT."""
        with self._lock:
            if key in self._posted:
                return POSTED
            if key in self._in_flight:
                return IN_FLIGHT
            self._in_flight.add(key)
            return NEW

    def done(self, key: Hashable) -> None:
        with self._lock:
            self._in_flight.discard(key)
            self._posted[key] = None
            self._posted.move_to_end(key)
            while len(self._posted) > self.capacity:
                self._posted.popitem(last=False)

    def release(self, key: Hashable) -> None:
        """Not posted after all: a later delivery may try again."""
        with self._lock:
            self._in_flight.discard(key)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._posted


class BrandRateLimit:
    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_brands: int = 10_000):
        self.limit, self.window_seconds, self.clock, self.max_brands = limit, window_seconds, clock, max_brands
        self._posts: OrderedDict[str, deque[float]] = OrderedDict()
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def _recent(self, brand: str, now: float) -> deque[float]:
        posts = self._posts.setdefault(brand, deque())
        self._posts.move_to_end(brand)
        while posts and posts[0] <= now - self.window_seconds:
            posts.popleft()
        while len(self._posts) > self.max_brands:
            old, _ = self._posts.popitem(last=False)
            self._held.pop(old, None)
        return posts

    def take(self, brand: str) -> bool:
        """Use one of the brand's posts if it has one left (True), else count it as held back (False)."""
        with self._lock:
            now = self.clock()
            posts = self._recent(brand, now)
            if len(posts) >= self.limit:
                self._held[brand] = self._held.get(brand, 0) + 1
                return False
            posts.append(now)
            return True

    def give_back(self, brand: str) -> None:
        """The post did not happen after all (the webhook failed): its slot is free again."""
        with self._lock:
            posts = self._posts.get(brand)
            if posts:
                posts.pop()

    def held_back(self, brand: str) -> int:
        with self._lock:
            return self._held.get(brand, 0)

    def told(self, brand: str, count: int) -> None:
        """``count`` held-back alerts were mentioned in a post: they need not be mentioned again."""
        with self._lock:
            left = self._held.get(brand, 0) - count
            if left > 0:
                self._held[brand] = left
            else:
                self._held.pop(brand, None)

    def next_slot_in(self, brand: str) -> float:
        """Seconds until the brand may post again (0 if it may now)."""
        with self._lock:
            now = self.clock()
            posts = self._recent(brand, now)
            return 0.0 if len(posts) < self.limit else max(0.0, posts[0] + self.window_seconds - now)

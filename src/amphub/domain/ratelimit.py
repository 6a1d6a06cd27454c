"""A pure sliding-window limiter for failed logins and refused handshakes.

The caller keeps the value and passes ``now``; no clock or lock lives here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(slots=True)
class SlidingWindowLimiter:
    """At most ``max_events`` counted events per key within ``window``.

    Mutable by design (one per process, held by an application service); the memory it
    keeps is bounded by ``max_keys``: the least recently touched keys are forgotten first.
    """

    max_events: int
    window: timedelta
    max_keys: int = 100_000
    _events: dict[str, deque[datetime]] = field(default_factory=dict)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        events = self._events.pop(key, None)
        if events is None:
            events = deque()
        cutoff = now - self.window
        while events and events[0] <= cutoff:
            events.popleft()
        self._events[key] = events  # re-insert: dicts keep insertion order, newest last
        while len(self._events) > self.max_keys:
            del self._events[next(iter(self._events))]
        return events

    def is_blocked(self, key: str, now: datetime) -> bool:
        return len(self._recent(key, now)) >= self.max_events

    def record(self, key: str, now: datetime) -> None:
        self._recent(key, now).append(now)

    def retry_after(self, key: str, now: datetime) -> timedelta:
        """How long until one more event is allowed for ``key``."""
        events = self._recent(key, now)
        if len(events) < self.max_events:
            return timedelta(0)
        return events[0] + self.window - now

    def reset(self, key: str) -> None:
        self._events.pop(key, None)

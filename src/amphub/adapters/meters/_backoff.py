"""Back-off and log throttling shared by the meter transports."""

from __future__ import annotations

import logging
import random
import time


class Backoff:
    """Exponential back-off with a cap and a little jitter (so that many pollers or
    listeners do not hammer a recovering broker or gateway in lockstep)."""

    def __init__(self, initial_s: float, max_s: float, *, factor: float = 2.0) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.factor = factor
        self._next_s = initial_s

    def next_delay(self) -> float:
        delay = self._next_s
        self._next_s = min(self._next_s * self.factor, self.max_s)
        return delay * random.uniform(0.9, 1.1)

    def reset(self) -> None:
        self._next_s = self.initial_s


class ThrottledLog:
    """Logs the first message per key, then at most one per ``interval_s`` with the number
    held back: a device sending garbage every second must not drown the log."""

    def __init__(self, logger: logging.Logger, interval_s: float = 60.0) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._state: dict[object, tuple[float, int]] = {}

    def warning(self, key: object, message: str, *args: object) -> None:
        now = time.monotonic()
        logged_at, held = self._state.get(key, (None, 0))
        if logged_at is not None and now - logged_at < self._interval_s:
            self._state[key] = (logged_at, held + 1)
            return
        self._state[key] = (now, 0)
        if held:
            message += f" ({held} more like it held back)"
        self._logger.warning(message, *args)

"""The simulated clock: ``speed`` simulated seconds pass per real second.

Only the cars and the building run on it. Everything on the wire keeps real UTC time
(amphub refuses readings from the future and times out silent meters and chargers in
real seconds), so at ``--speed 60`` a car fills an hour's worth of battery per real minute
while amphub's meter timeout, profile lapse, minimum on/off times and increase damping
still count real seconds — see docs/simulator.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta


class SimClock:
    def __init__(
        self, start: datetime, speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def elapsed_s(self) -> float:
        """Simulated seconds since the start."""
        return (self._monotonic() - self._origin) * self.speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s())

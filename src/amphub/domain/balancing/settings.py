"""Every timing and threshold of the balancer, with the defaults of issue 5."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from amphub.domain.errors import InvalidValue


@dataclass(frozen=True, slots=True)
class BalancerSettings:
    min_on_time: timedelta = timedelta(minutes=5)
    """A car that was started keeps running this long unless the fuse forces a pause."""
    min_off_time: timedelta = timedelta(minutes=5)
    """A car the balancer paused stays paused this long (contactors, and some cars)."""
    lend_after: timedelta = timedelta(seconds=30)
    """A car drawing less than its limit for this long lends the rest to others."""
    underdraw_tolerance_a: float = 1.0
    """Drawing less than ``limit - tolerance`` counts as drawing less than the limit."""
    lend_margin_a: float = 2.0
    """A lending car keeps its draw plus this margin (never less than its minimum)."""
    probe_interval: timedelta = timedelta(minutes=3)
    """How long a car lends before it is offered its full share again, to see if it takes it."""
    increase_interval: timedelta = timedelta(seconds=10)
    """At most one increase per connector per interval; decreases are never delayed."""
    max_increase_step_a: float = 6.0
    """The largest single increase of a connector's limit (a start goes to at least min)."""
    change_threshold_a: float = 0.5
    """Changes smaller than this keep the previous limit (when it is still safe)."""
    resolution_a: float = 0.1
    """Limits are rounded down to this step (OCPP carries one decimal)."""

    def __post_init__(self) -> None:
        for name in ("underdraw_tolerance_a", "lend_margin_a", "change_threshold_a"):
            if not getattr(self, name) >= 0:
                raise InvalidValue(name, "must be >= 0")
        if not self.max_increase_step_a > 0:
            raise InvalidValue("max_increase_step_a", "must be > 0")
        if not self.resolution_a > 0:
            raise InvalidValue("resolution_a", "must be > 0")

"""What a car has been seen to take, so that it is planned as it charges: its own maximum
current and whether it charges on one phase only.

Without it, every car is planned at its connector's maximum on the connector's phases. A car
that takes less (a 16 A car on a 32 A charger, a single-phase car on a three-phase one) then
leaves its planned share of the circuit unused, while the plan's caps hold the other cars
back (bench/RESULTS.md, quality). The readings tell: a car that keeps drawing clearly less
than its charger offers it (OCPP's ``Current.Offered``) is drawing its own maximum, and a car
that draws on one phase only is a single-phase car.

A car ramping up draws less than offered for a few seconds; only an under-draw that lasts
``LEARN_AFTER`` (the balancer's ``lend_after``) counts, at the highest current seen during it.
What is learnt then only rises within the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from amphub.domain.units import PhaseCurrents

UNDERDRAW_TOLERANCE_A = 1.0
"""Drawing less than offered minus this is drawing less than offered (the balancer's
``underdraw_tolerance_a``)."""
LEARN_AFTER = timedelta(seconds=30)
CHARGING_A = 3.0
"""A reading whose highest phase carries less than this says nothing: the car is not
charging (full, paused, not yet started)."""
PHASE_IN_USE_A = 1.0
"""A phase carrying at least this is in use."""


@dataclass(frozen=True, slots=True)
class SeenVehicle:
    """What the readings of one session have shown so far."""

    max_a: float | None = None
    """Its own maximum current per phase; None while not known (it took what it was
    offered, or has not drawn less for long enough)."""
    phases: int = 0
    """The most phases seen in use in one reading while charging (0: not seen charging)."""
    under_since: datetime | None = None
    """When the current stretch of drawing less than offered began."""
    under_top_a: float = 0.0
    """The highest current of that stretch."""

    def observe(
        self, measured: PhaseCurrents, offered_a: float | None, at: datetime
    ) -> SeenVehicle:
        """Fold in one reading taken ``at``: ``measured`` per charger phase, ``offered_a``
        per phase (None when the charger does not report it: nothing is learnt of the
        maximum then)."""
        top = measured.max_a()
        if top < CHARGING_A:
            if self.under_since is None:
                return self
            return SeenVehicle(self.max_a, self.phases)
        phases = max(self.phases, sum(1 for current in measured if current >= PHASE_IN_USE_A))
        if self.max_a is not None:
            max_a = max(self.max_a, top)
            if max_a == self.max_a and phases == self.phases:
                return self
            return SeenVehicle(max_a, phases)
        if offered_a is None or top >= offered_a - UNDERDRAW_TOLERANCE_A:
            return SeenVehicle(None, phases)
        since = at if self.under_since is None else self.under_since
        highest = max(self.under_top_a, top)
        if at - since >= LEARN_AFTER:
            return SeenVehicle(highest, phases)
        return SeenVehicle(None, phases, since, highest)

    def limits(self, phases: int, min_a: float, max_a: float) -> tuple[int, float]:
        """(phases, maximum per phase) to plan the car with, on a connector wired for
        ``phases`` that takes ``min_a`` to ``max_a``. A car seen on two phases is planned on
        the connector's (plans are for one or three)."""
        planned_phases = 1 if self.phases == 1 else phases
        if self.max_a is None:
            return planned_phases, max_a
        return planned_phases, min(max_a, max(min_a, self.max_a))

    def changes_plan(self, before: SeenVehicle) -> bool:
        """Whether a plan made with ``before`` is out of date: the car turned out to be
        single-phase, or its maximum was learnt or rose by more than the tolerance."""
        if (self.phases == 1) != (before.phases == 1):
            return True
        if self.max_a is None or before.max_a is None:
            return self.max_a != before.max_a
        return self.max_a - before.max_a >= UNDERDRAW_TOLERANCE_A

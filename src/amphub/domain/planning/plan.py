"""From a solved LP to what each connector may draw per slot, and why.

The LP plans a continuous current, but a charger offers either nothing or at least its
minimum (6 A, IEC 61851-1). Slots planned below the minimum are merged: their energy goes,
at the minimum current, into the cheapest of them. The caps are ceilings for the balancer,
which still enforces the live limits; re-planning corrects the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from amphub.domain.planning.problem import PlanningProblem, SessionToPlan, Solution
from amphub.domain.planning.tariffs import SlotGrid

SHORTFALL_TOLERANCE_KWH = 0.05


class PlanStatus(StrEnum):
    PLANNED = "planned"
    """The need is met by departure in the cheapest slots the circuit allows."""
    SHORT = "short"
    """The need cannot be met by departure: charging as fast as allowed until it leaves."""
    CHARGE_NOW = "charge_now"
    """The driver overrode the plan: charging as fast as allowed."""
    UNPRICED = "unpriced"
    """No price is known: charging at once."""


@dataclass(frozen=True, slots=True)
class SessionPlan:
    session: SessionToPlan
    status: PlanStatus
    grid: SlotGrid
    currents_a: tuple[float, ...]
    """Planned current per slot of the grid (A per phase used)."""
    caps_a: tuple[float, ...]
    """What the balancer is told per slot: 0 (wait) or at least the minimum."""
    prices_per_kwh: tuple[float | None, ...]
    planned_kwh: float
    cost: float
    message: str

    def cap_at(self, now: datetime) -> float | None:
        """The cap in force at ``now``; None outside the plan (it no longer limits)."""
        if self.status in (PlanStatus.CHARGE_NOW, PlanStatus.UNPRICED):
            return None
        t = self.grid.index_of(now)
        if not 0 <= t < self.grid.count or now >= self.session.departure:
            return None
        return self.caps_a[t]


def round_to_minimum(
    currents_a: Sequence[float], prices: Sequence[float], min_a: float
) -> list[float]:
    """Slots below ``min_a`` give their energy to the cheapest of them, at ``min_a`` each
    (rounded up to a whole slot: a car is never planned less than the LP gave it)."""
    caps = [a if a >= min_a - 1e-6 else 0.0 for a in currents_a]
    small = [t for t, a in enumerate(currents_a) if 1e-6 < a < min_a - 1e-6]
    owed = sum(currents_a[t] for t in small)
    for t in sorted(small, key=lambda t: (prices[t], t)):
        if owed <= 1e-6:
            break
        caps[t] = min_a
        owed -= min_a
    return caps


def session_plans(
    problem: PlanningProblem,
    sessions: Sequence[SessionToPlan],
    solution: Solution,
    known_prices: Sequence[float | None],
) -> list[SessionPlan]:
    grid = problem.grid
    hours = grid.hours()
    offsets = problem.offsets()
    plans = []
    for s, session in enumerate(sessions):
        first, end = problem.first_slot[s], problem.end_slot[s]
        currents = [0.0] * grid.count
        for t in range(first, end):
            currents[t] = max(0.0, solution.currents_a[offsets[s] + t - first])
        kwh = [currents[t] * problem.kw_per_a[s] * hours[t] for t in range(grid.count)]
        planned = sum(kwh)
        cost = sum(k * problem.price_per_kwh[t] for t, k in enumerate(kwh))
        short = solution.shortfall_kwh[s] > SHORTFALL_TOLERANCE_KWH
        if short:
            # Up to the moment it leaves: the LP plans whole slots only, so the slot the car
            # leaves in (a stay shorter than a slot: its only one) is not in the LP.
            last = min(grid.count, math.ceil((session.departure - grid.start) / grid.step))
            caps = [session.max_a if first <= t < last else 0.0 for t in range(grid.count)]
            status = PlanStatus.SHORT
            message = (
                f"needs {problem.need_kwh[s]:.1f} kWh by departure, at most {planned:.1f} kWh "
                "can be charged: charging as fast as allowed"
            )
        else:
            caps = round_to_minimum(currents, problem.price_per_kwh, session.min_a)
            status = PlanStatus.PLANNED
            message = f"{planned:.1f} kWh in the cheapest slots before departure"
        plans.append(
            SessionPlan(
                session=session,
                status=status,
                grid=grid,
                currents_a=tuple(currents),
                caps_a=tuple(caps),
                prices_per_kwh=tuple(known_prices),
                planned_kwh=planned,
                cost=cost,
                message=message,
            )
        )
    return plans


def unplanned(
    session: SessionToPlan, grid: SlotGrid, status: PlanStatus, message: str
) -> SessionPlan:
    """A session the planner does not limit (charge now, or no price known)."""
    return SessionPlan(
        session=session, status=status, grid=grid, currents_a=(), caps_a=(),
        prices_per_kwh=(), planned_kwh=0.0, cost=0.0, message=message,
    )  # fmt: skip

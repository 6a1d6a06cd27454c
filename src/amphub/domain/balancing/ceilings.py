"""Per connector: may it run at all, and how high may it go this cycle?

The ceiling is the lowest of: the connector's maximum, an external cap, the draw of a car
that takes less than it is given (lending), and the damped increase. The group's fuses are
not considered here; ``waterfill`` shares them out below these ceilings.

Lending: a car that draws less than ``limit - underdraw_tolerance_a`` for ``lend_after``
keeps ``draw + lend_margin_a`` (never below its minimum) and lends the rest. Every
``probe_interval`` the cap is lifted for one round: the car's limit climbs back (damped) and,
if the car still does not take it, it lends again ``lend_after`` later. A car drawing close
to its limit stops lending at once.

Damping: an increase is at most ``max_increase_step_a`` and at most one per
``increase_interval``; a start goes to at least the minimum. Decreases are never damped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from amphub.domain.balancing.decision import (
    FORGOTTEN,
    NO_VEHICLE,
    BalancerMemory,
    Binding,
    ConnectorDecision,
    ConnectorMemory,
)
from amphub.domain.balancing.index import GroupIndex
from amphub.domain.balancing.model import BalancingInput, VehicleState
from amphub.domain.balancing.settings import BalancerSettings

WANTS_NOTHING = 0
WANTS_CURRENT = 1
EV_SUSPENDED = 2


@dataclass(frozen=True, slots=True)
class Ceilings:
    """Per connector (indexed like the group index): what the cycle starts from."""

    wants: list[int]
    """WANTS_NOTHING (decided already: see ``decided``), WANTS_CURRENT or EV_SUSPENDED."""
    ceiling_a: list[float]
    ceiling_by: list[Binding]
    decided: dict[int, ConnectorDecision]
    previous_a: list[float]
    memories: list[ConnectorMemory]
    under_draw_since: list[datetime | None]
    lending_since: list[datetime | None]


def ceilings(
    index: GroupIndex,
    snapshot: BalancingInput,
    memory: BalancerMemory,
    now: datetime,
    settings: BalancerSettings,
) -> Ceilings:
    n = len(index.keys)
    wants = [WANTS_NOTHING] * n
    ceiling_a = [0.0] * n
    ceiling_by = [Binding.CONNECTOR_MAX] * n
    decided: dict[int, ConnectorDecision] = {}
    previous_a = [0.0] * n
    memories = [FORGOTTEN] * n
    under: list[datetime | None] = [None] * n
    lending: list[datetime | None] = [None] * n

    lives = snapshot.connectors
    caps = snapshot.caps
    old_memories = memory.connectors
    old_decisions = memory.decisions
    lend_start = now - settings.lend_after
    probe_start = now - settings.probe_interval
    damp_start = now - settings.increase_interval
    tolerance = settings.underdraw_tolerance_a
    margin = settings.lend_margin_a
    step = settings.max_increase_step_a
    idle = VehicleState.IDLE
    suspended = VehicleState.SUSPENDED_EV
    min_a = index.min_a
    max_a = index.max_a
    kind = index.kind

    for i, key in enumerate(index.keys):
        old = old_decisions.get(key)
        previous = 0.0 if old is None else old.limit_a
        previous_a[i] = previous
        live = lives.get(key)
        if live is None or live.state is idle:
            decided[i] = NO_VEHICLE
            continue
        mem = old_memories.get(key, FORGOTTEN)
        memories[i] = mem
        low = min_a[i]
        top = max_a[i]
        by = Binding.CONNECTOR_MAX
        cap = caps.get(key)
        if cap is not None:
            if cap.cap_a < low:
                decided[i] = ConnectorDecision(0.0, Binding.EXTERNAL_CAP, detail=cap.reason)
                continue
            if cap.cap_a < top:
                top = cap.cap_a
                by = Binding.EXTERNAL_CAP

        if live.state is suspended:
            wants[i] = EV_SUSPENDED
            if low < top:
                top = low
                by = Binding.EV_SUSPENDED
        else:
            wants[i] = WANTS_CURRENT
            measured = live.measured
            draw = measured.l1_a if kind[i] else max(measured.l1_a, measured.l2_a, measured.l3_a)
            if previous > 0.0 and draw < previous - tolerance:
                since = mem.under_draw_since or now
                if since <= lend_start and live.state_since <= lend_start:
                    lent = mem.lending_since or now
                    if lent <= probe_start:
                        since = now
                    else:
                        lending[i] = lent
                        keep = max(low, draw + margin)
                        if keep < top:
                            top = keep
                            by = Binding.EV_DRAW
                under[i] = since

        if previous > 0.0:
            raised = mem.increased_at
            damped = previous if raised is not None and raised > damp_start else previous + step
        else:
            damped = step
        if damped < low:
            damped = low
        if damped < top:
            top = damped
            by = Binding.DAMPED_INCREASE
        ceiling_a[i] = top
        ceiling_by[i] = by

    return Ceilings(wants, ceiling_a, ceiling_by, decided, previous_a, memories, under, lending)

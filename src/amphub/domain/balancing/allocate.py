"""One balancing cycle: from a snapshot to a limit per connector, and why.

1. ``available``: what every node may hand out, per phase (meter, buffer, fail-safe).
2. ``ceilings``: per connector, whether it wants current and how high it may go this cycle
   (maximum, external cap, lending, damping).
3. ``rotation``: who runs when not every minimum fits (pausing, with on/off times).
4. ``waterfill``: max–min fair shares between the running cars, priority by priority
   (a lower priority keeps its minimum; the surplus goes to the higher priority first).
5. Here: round down to the resolution, keep the previous limit when the change is below
   the threshold and doing so is safe, and record decisions and memory.

Invariant of the result: on every phase of every node the sum of limits is at most the
available current (a three-phase connector counts on all three phases, a single-phase one
on its grid phase), and each limit is 0 or within [min, max] (and at most its external cap).
"""

from __future__ import annotations

import math
from datetime import datetime

from amphub.domain.balancing.available import _available
from amphub.domain.balancing.ceilings import Ceilings, ceilings
from amphub.domain.balancing.decision import (
    FORGOTTEN,
    Allocation,
    BalancerMemory,
    Binding,
    ConnectorDecision,
    ConnectorMemory,
)
from amphub.domain.balancing.index import GroupIndex, constraint_loads
from amphub.domain.balancing.model import BalancingGroup, BalancingInput
from amphub.domain.balancing.rotation import Pause, select_running
from amphub.domain.balancing.settings import BalancerSettings
from amphub.domain.balancing.waterfill import fill
from amphub.domain.units import Phase

DEFAULT_SETTINGS = BalancerSettings()
_HOLD_EPSILON_A = 1e-9


def allocate(
    group: BalancingGroup,
    snapshot: BalancingInput,
    memory: BalancerMemory,
    now: datetime,
    settings: BalancerSettings = DEFAULT_SETTINGS,
) -> Allocation:
    """Limits for every connector of ``group``; pass the result's ``memory`` to the next call."""
    index = group.index
    available, room = _available(group, snapshot, now)
    start = ceilings(index, snapshot, memory, now, settings)
    running, paused = select_running(index, start, snapshot, room, now, settings)
    shares, stopped = _share(index, running, start.ceiling_a, room)
    limits = _rounded(index, running, shares, settings.resolution_a)
    held = _hold_small_changes(index, running, limits, start, room, settings.change_threshold_a)

    keys = index.keys
    old_decisions = memory.decisions
    old_memories = memory.connectors
    decisions: list[ConnectorDecision] = []
    memories: list[ConnectorMemory] = []
    root_is_fail_safe = available.fail_safe
    for i, key in enumerate(keys):
        limit = limits[i]
        previous = start.previous_a[i]
        decision = start.decided.get(i)
        if decision is None:
            pause = paused.get(i)
            if pause is not None:
                decision = _paused(index, pause)
            elif i in held:
                decision = ConnectorDecision(limit, Binding.BELOW_THRESHOLD)
            elif stopped[i] >= 0:
                j = stopped[i]
                binding = Binding.FAIL_SAFE if j < 3 and root_is_fail_safe else Binding.GROUP_LIMIT
                decision = ConnectorDecision(
                    limit, binding, index.node_ids[j // 3], Phase(j % 3 + 1)
                )
            else:
                binding = start.ceiling_by[i]
                detail = snapshot.caps[key].reason if binding is Binding.EXTERNAL_CAP else ""
                decision = ConnectorDecision(limit, binding, detail=detail)
        old = old_decisions.get(key)
        decisions.append(decision if old is None or old != decision else old)
        memories.append(_remember(start, i, previous, limit, now, old_memories.get(key)))

    return Allocation(
        limits_a=dict(zip(keys, limits, strict=True)),
        decisions=dict(zip(keys, decisions, strict=True)),
        available=available,
        memory=BalancerMemory(
            connectors=dict(zip(keys, memories, strict=True)),
            decisions=dict(zip(keys, decisions, strict=True)),
        ),
    )


def _share(
    index: GroupIndex, running: list[int], ceiling_a: list[float], room: list[float]
) -> tuple[list[float], list[int]]:
    """Fair shares, one priority at a time from the highest; each priority shares what the
    higher ones left after every lower one's minimum is set aside."""
    floors = [0.0] * len(index.keys)
    min_a = index.min_a
    for i in running:
        floors[i] = min_a[i]
    priority = index.priority
    levels = sorted({priority[i] for i in running}, reverse=True)
    if len(levels) <= 1:
        return fill(index, running, floors, ceiling_a, room)
    shares = floors
    stopped = [-1] * len(floors)
    for level in levels:
        tier = [i for i in running if priority[i] == level]
        others = [i for i in running if priority[i] != level]
        taken = constraint_loads(index, others, shares)
        tier_room = [r - t for r, t in zip(room, taken, strict=True)]
        shares, tier_stopped = fill(index, tier, shares, ceiling_a, tier_room)
        for i in tier:
            stopped[i] = tier_stopped[i]
    return shares, stopped


def _rounded(
    index: GroupIndex, running: list[int], shares: list[float], resolution_a: float
) -> list[float]:
    """Round down to the resolution, never below the minimum (rounding only lowers)."""
    limits = [0.0] * len(index.keys)
    min_a = index.min_a
    floor = math.floor
    for i in running:
        share = shares[i]
        stepped = round(floor(share / resolution_a + 1e-9) * resolution_a, 6)
        if stepped > share:
            stepped = share
        low = min_a[i]
        limits[i] = stepped if stepped > low else low
    return limits


def _hold_small_changes(
    index: GroupIndex,
    running: list[int],
    limits: list[float],
    start: Ceilings,
    room: list[float],
    threshold_a: float,
) -> set[int]:
    """Keep the previous limit where the change is below the threshold: always for a small
    rise (keeping less is safe), for a small cut only while the previous limit still fits
    under the connector's ceiling and every constraint on its path."""
    held: set[int] = set()
    cuts: list[int] = []
    previous_a = start.previous_a
    ceiling_a = start.ceiling_a
    min_a = index.min_a
    for i in running:
        previous = previous_a[i]
        limit = limits[i]
        if previous < min_a[i] or limit == previous or abs(limit - previous) >= threshold_a:
            continue
        if limit < previous:
            if previous <= ceiling_a[i]:
                cuts.append(i)
            continue
        limits[i] = previous
        held.add(i)
    if cuts:
        loads = constraint_loads(index, running, limits)
        paths = index.paths
        for i in cuts:
            extra = previous_a[i] - limits[i]
            path = paths[i]
            if all(loads[j] + extra <= room[j] + _HOLD_EPSILON_A for j in path):
                for j in path:
                    loads[j] += extra
                limits[i] = previous_a[i]
                held.add(i)
    return held


def _paused(index: GroupIndex, pause: Pause) -> ConnectorDecision:
    j = pause.constraint
    if j < 0:
        return ConnectorDecision(0.0, pause.binding)
    return ConnectorDecision(0.0, pause.binding, index.node_ids[j // 3], Phase(j % 3 + 1))


def _remember(
    start: Ceilings,
    i: int,
    previous: float,
    limit: float,
    now: datetime,
    old: ConnectorMemory | None,
) -> ConnectorMemory:
    """The connector's memory after this cycle, reusing the old value when unchanged."""
    if i in start.decided and start.decided[i].binding is Binding.NO_VEHICLE:
        return FORGOTTEN
    base = start.memories[i]
    switched = base.switched_at
    if (previous > 0.0) != (limit > 0.0):
        switched = now
    increased = now if limit > previous else base.increased_at
    under = start.under_draw_since[i]
    lending = start.lending_since[i]
    if (
        old is not None
        and old.switched_at == switched
        and old.increased_at == increased
        and old.under_draw_since == under
        and old.lending_since == lending
    ):
        return old
    return ConnectorMemory(switched, increased, under, lending)

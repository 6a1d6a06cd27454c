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

from collections.abc import Mapping
from datetime import datetime

from amphub.domain.balancing.available import available_and_room
from amphub.domain.balancing.ceilings import Ceilings, ceilings
from amphub.domain.balancing.decision import (
    FORGOTTEN,
    NO_VEHICLE,
    Allocation,
    BalancerMemory,
    Binding,
    ConnectorDecision,
    ConnectorMemory,
)
from amphub.domain.balancing.index import GroupIndex, constraint_loads
from amphub.domain.balancing.model import BalancingGroup, BalancingInput, ConnectorKey
from amphub.domain.balancing.rotation import Pause, select_running
from amphub.domain.balancing.settings import BalancerSettings
from amphub.domain.balancing.vectorized.cycle import allocate_vectorized
from amphub.domain.balancing.waterfill import fill
from amphub.domain.units import PHASES, Phase

DEFAULT_SETTINGS = BalancerSettings()
VECTORIZED_FROM = 2_000
"""Groups with this many connectors or more run the vectorised allocator
(``vectorized/``, the same decisions): below it, numpy's cost per call outweighs what
it saves."""
_HOLD_EPSILON_A = 1e-9


def allocate(
    group: BalancingGroup,
    snapshot: BalancingInput,
    memory: BalancerMemory,
    now: datetime,
    settings: BalancerSettings = DEFAULT_SETTINGS,
) -> Allocation:
    """Limits for every connector of ``group``; pass the result's ``memory`` to the next call."""
    if len(group.index.keys) >= VECTORIZED_FROM:
        return allocate_vectorized(group, snapshot, memory, now, settings)
    return allocate_scalar(group, snapshot, memory, now, settings)


def allocate_scalar(
    group: BalancingGroup,
    snapshot: BalancingInput,
    memory: BalancerMemory,
    now: datetime,
    settings: BalancerSettings = DEFAULT_SETTINGS,
) -> Allocation:
    """``allocate`` in plain Python: the reference the vectorised path must match."""
    index = group.index
    available, room = available_and_room(group, snapshot, now)
    start = ceilings(index, snapshot, memory, now, settings)
    running, paused = select_running(index, start, snapshot, room, now, settings)
    shares, stopped = _share(index, running, start.ceiling_a, room, settings.resolution_a)
    limits = _rounded(index, running, shares, settings.resolution_a)
    held = _hold_small_changes(index, running, limits, start, room, settings.change_threshold_a)

    keys = index.keys
    decisions = _decisions(
        index,
        start,
        running,
        paused,
        limits,
        held,
        stopped,
        snapshot,
        available.fail_safe,
        memory.decisions,
    )
    by_key = dict(zip(keys, decisions, strict=True))
    memories = _memories(start, limits, now)
    return Allocation(
        limits_a=dict(zip(keys, limits, strict=True)),
        decisions=by_key,
        available=available,
        memory=BalancerMemory(connectors=dict(zip(keys, memories, strict=True)), decisions=by_key),
    )


def _decisions(
    index: GroupIndex,
    start: Ceilings,
    running: list[int],
    paused: dict[int, Pause],
    limits: list[float],
    held: set[int],
    stopped: list[int],
    snapshot: BalancingInput,
    fail_safe: bool,
    old_decisions: Mapping[ConnectorKey, ConnectorDecision],
) -> list[ConnectorDecision]:
    """Every connector's decision. Most are the same from one cycle to the next: those are
    reused rather than rebuilt (it matters at thousands of connectors)."""
    decisions = [NO_VEHICLE] * len(limits)
    for i, decision in start.decided.items():
        decisions[i] = decision
    for i, pause in paused.items():
        decisions[i] = _paused(index, pause)
    keys = index.keys
    node_ids = index.node_ids
    ceiling_by = start.ceiling_by
    caps = snapshot.caps
    below = Binding.BELOW_THRESHOLD
    external = Binding.EXTERNAL_CAP
    group_limit = Binding.FAIL_SAFE if fail_safe else Binding.GROUP_LIMIT
    for i in running:
        limit = limits[i]
        node_id: str | None = None
        phase: Phase | None = None
        detail = ""
        j = stopped[i]
        if i in held:
            binding = below
        elif j >= 0:
            binding = group_limit if j < 3 else Binding.GROUP_LIMIT
            node_id = node_ids[j // 3]
            phase = PHASES[j % 3]
        else:
            binding = ceiling_by[i]
            if binding is external:
                detail = caps[keys[i]].reason
        old = old_decisions.get(keys[i])
        if (
            old is not None
            and old.limit_a == limit
            and old.binding is binding
            and old.node_id == node_id
            and old.phase is phase
            and old.detail == detail
        ):
            decisions[i] = old
        else:
            decisions[i] = ConnectorDecision(limit, binding, node_id, phase, detail)
    return decisions


def _memories(start: Ceilings, limits: list[float], now: datetime) -> list[ConnectorMemory]:
    """Every connector's memory after this cycle; an unchanged one is reused."""
    memories = list(start.memories)
    previous_a = start.previous_a
    under = start.under_draw_since
    lending = start.lending_since
    decided = start.decided
    for i, base in enumerate(memories):
        if base is FORGOTTEN and i in decided and decided[i] is NO_VEHICLE:
            continue
        previous = previous_a[i]
        limit = limits[i]
        switched = now if (previous > 0.0) != (limit > 0.0) else base.switched_at
        increased = now if limit > previous else base.increased_at
        if (
            switched is not base.switched_at
            or increased is not base.increased_at
            or under[i] is not base.under_draw_since
            or lending[i] is not base.lending_since
        ):
            memories[i] = ConnectorMemory(switched, increased, under[i], lending[i])
    return memories


def _share(
    index: GroupIndex,
    running: list[int],
    ceiling_a: list[float],
    room: list[float],
    resolution_a: float,
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
        return fill(index, running, floors, ceiling_a, room, resolution_a)
    shares = floors
    stopped = [-1] * len(floors)
    for level in levels:
        tier = [i for i in running if priority[i] == level]
        others = [i for i in running if priority[i] != level]
        taken = constraint_loads(index, others, shares)
        tier_room = [r - t for r, t in zip(room, taken, strict=True)]
        shares, tier_stopped = fill(index, tier, shares, ceiling_a, tier_room, resolution_a)
        for i in tier:
            stopped[i] = tier_stopped[i]
    return shares, stopped


def _rounded(
    index: GroupIndex, running: list[int], shares: list[float], resolution_a: float
) -> list[float]:
    """Round down to the resolution, never below the minimum (rounding only lowers)."""
    limits = [0.0] * len(index.keys)
    min_a = index.min_a
    steps = 1.0 / resolution_a
    for i in running:
        share = shares[i]
        stepped = int(share * steps + 1e-9) / steps
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

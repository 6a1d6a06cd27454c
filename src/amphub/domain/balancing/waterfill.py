"""Max–min fair shares on a fuse tree with three phases (progressive filling).

Every running connector starts at its floor (its minimum) and a common water level rises;
a connector follows the level between its floor and its ceiling. When one phase of a node is
full, the connectors loading it stop rising; the others go on. The result is a water level per
*slot* (a node and a kind: three-phase, or single-phase on L1/L2/L3), and a connector's
limit is ``max(floor, min(ceiling, level of its slot))``.

Nodes are solved bottom-up. A node needs only the floors and ceilings of its subtree's
connectors, already capped by the levels of the sub-nodes below it, kept as sorted lists:
with prefix sums, the load of a phase as a function of the level is then evaluated in
O(log n) and inverted by bisection. Three-phase connectors couple the phases of a node: the
first phase to fill freezes them, and the node's other phases are then solved for their
single-phase connectors alone. A node whose full demand fits on every phase costs a few
additions. The levels are then pushed down (a connector follows the lowest level on its
path).

One pass is not always Pareto-optimal: when a node fills a phase and an ancestor later
freezes the node's three-phase connectors lower, the node's single-phase connectors on that
phase could rise into the room left. ``fill`` detects this and runs a refining pass with
the first pass's shares as floors (at most a few; each keeps the invariant).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate

from amphub.domain.balancing.index import GroupIndex, constraint_loads

INF = math.inf
_PINNING_PASSES = 4
_REFINING_PASSES = 3
_ROOM_EPSILON_A = 1e-6
_EMPTY: list[float] = []
"""Shared stand-in for a slot without connectors (never mutated: replaced on first use)."""
_SCAN_BELOW = 48
"""Lists shorter than this are solved by a linear scan, longer ones by bisection."""


def fill(
    index: GroupIndex,
    members: Sequence[int],
    floors: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
    min_gain_a: float = 0.0,
) -> tuple[list[float], list[int]]:
    """Fair shares of the connectors ``members`` within ``room`` (per constraint).

    Returns the share of every connector (indexed like ``floors``; non-members keep their
    floor) and, per connector, the constraint that stopped it (-1 if its ceiling did).
    The members' floors must fit ``room`` on every constraint. Refining passes whose total
    possible gain is at most ``min_gain_a`` are skipped.
    """
    shares = list(floors)
    stopped = [-1] * len(floors)
    slot = index.slot
    node_of = index.node_of
    tops: Sequence[float] = ceilings
    pinned_by: dict[int, int] = {}
    for attempt in range(_PINNING_PASSES):
        levels, level_by, gain = _levels(index, members, shares, tops, room)
        if gain <= min_gain_a or attempt == _PINNING_PASSES - 1:
            break
        # Some node assumed its three-phase connectors would rise higher than an ancestor
        # let them. Solve again with those connectors pinned where the ancestor froze them.
        pinned = list(ceilings)
        for i in members:
            s = slot[i]
            if s % 4 == 0 and level_by[s] // 3 != node_of[i] and levels[s] < pinned[i]:
                pinned[i] = max(levels[s], floors[i])
                pinned_by[i] = level_by[s]
        if pinned == tops:
            break
        tops = pinned
    for i in members:
        s = slot[i]
        level = levels[s]
        top = tops[i]
        if level < top:
            if level > shares[i]:
                shares[i] = level
            stopped[i] = level_by[s]
        else:
            shares[i] = top
            if top < ceilings[i]:
                stopped[i] = pinned_by[i]
    for _ in range(_REFINING_PASSES):
        if gain <= min_gain_a:
            break
        free, free_room = _free_to_rise(index, members, shares, ceilings, room)
        if not free:
            break
        levels, level_by, gain = _levels(index, free, shares, ceilings, free_room)
        for i in free:
            s = slot[i]
            level = levels[s]
            top = ceilings[i]
            if level >= top:
                shares[i] = top
                stopped[i] = -1
            elif level > shares[i]:
                shares[i] = level
                stopped[i] = level_by[s]
    return shares, stopped


def _free_to_rise(
    index: GroupIndex,
    members: Sequence[int],
    shares: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
) -> tuple[list[int], list[float]]:
    """For a refining pass: the connectors with room on every constraint of their path
    (and below their ceiling), and the room left to them by all the others."""
    loads = constraint_loads(index, members, shares)
    parent = index.parent
    blocked = [False] * (4 * index.node_count)
    for n in range(index.node_count):
        j = 3 * n
        f1 = room[j] - loads[j] <= _ROOM_EPSILON_A
        f2 = room[j + 1] - loads[j + 1] <= _ROOM_EPSILON_A
        f3 = room[j + 2] - loads[j + 2] <= _ROOM_EPSILON_A
        base = 4 * n
        if n:
            up = 4 * parent[n]
            f1, f2, f3 = f1 or blocked[up + 1], f2 or blocked[up + 2], f3 or blocked[up + 3]
        blocked[base] = f1 or f2 or f3
        blocked[base + 1] = f1
        blocked[base + 2] = f2
        blocked[base + 3] = f3
    slot = index.slot
    free = [i for i in members if not blocked[slot[i]] and shares[i] < ceilings[i]]
    if not free:
        return free, []
    pinned = list(loads)
    for j, load in enumerate(constraint_loads(index, free, shares)):
        pinned[j] -= load
    return free, [r - p for r, p in zip(room, pinned, strict=True)]


def _levels(
    index: GroupIndex,
    members: Sequence[int],
    floors: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
) -> tuple[list[float], list[int], float]:
    """Water level per slot (pushed down the tree), the constraint that set it, and an upper
    bound of what a refining pass could still hand out."""
    n_nodes = index.node_count
    n_slots = 4 * n_nodes
    lows: list[list[float]] = [_EMPTY] * n_slots
    highs: list[list[float]] = [_EMPTY] * n_slots
    const = [0.0] * n_slots
    spare = [0.0] * n_slots
    slot = index.slot
    for i in members:
        s = slot[i]
        low = floors[i]
        high = ceilings[i]
        if lows[s] is _EMPTY:
            lows[s] = [low]
            highs[s] = [high]
        else:
            lows[s].append(low)
            highs[s].append(high)
        const[s] += low
        spare[s] += high - low
    theta = [INF] * n_slots
    theta_by = [-1] * n_slots
    tri_count = [0] * n_nodes
    parent = index.parent
    for n in range(n_nodes - 1, -1, -1):
        base = 4 * n
        full0 = const[base] + spare[base]
        j = 3 * n
        binding = [
            p for p in (1, 2, 3) if full0 + const[base + p] + spare[base + p] > room[j + p - 1]
        ]
        if binding:
            _solve_node(n, binding, lows, highs, const, spare, room, theta, theta_by)
        tri_count[n] = len(lows[base])
        up = parent[n]
        if up >= 0:
            target = 4 * up
            for k in range(4):
                child = lows[base + k]
                if child is _EMPTY:
                    continue
                if lows[target + k] is _EMPTY:
                    lows[target + k] = list(child)
                    highs[target + k] = list(highs[base + k])
                else:
                    lows[target + k].extend(child)
                    highs[target + k].extend(highs[base + k])
                const[target + k] += const[base + k]
                spare[target + k] += spare[base + k]

    gain = 0.0
    for n in range(1, n_nodes):
        base = 4 * n
        above = 4 * parent[n]
        own_tri = theta[base]
        for k in range(4):
            if theta[above + k] < theta[base + k]:
                theta[base + k] = theta[above + k]
                theta_by[base + k] = theta_by[above + k]
        if theta[base] < own_tri and (
            theta_by[base + 1] // 3 == n
            or theta_by[base + 2] // 3 == n
            or theta_by[base + 3] // 3 == n
        ):
            # An ancestor froze this node's three-phase connectors below the level this
            # node assumed for them: a phase this node filled has room again.
            gain += (min(own_tri, _top(highs[base])) - theta[base]) * tri_count[n]
    return theta, theta_by, gain


def _top(values: list[float]) -> float:
    return max(values) if values else 0.0


def _solve_node(
    n: int,
    binding: list[int],
    lows: list[list[float]],
    highs: list[list[float]],
    const: list[float],
    spare: list[float],
    room: Sequence[float],
    theta: list[float],
    theta_by: list[int],
) -> None:
    """Levels of node ``n`` whose ``binding`` phases cannot take their full demand; caps the
    subtree's lists at those levels so the parent sees what this node lets through."""
    base = 4 * n
    j = 3 * n - 1  # + phase = constraint
    mono: dict[int, tuple[list[float], list[float]]] = {}
    if not lows[base]:
        # No three-phase connectors: the phases are independent.
        for p in binding:
            low, high = sorted(lows[base + p]), sorted(highs[base + p])
            level = _level(low, high, const[base + p], room[j + p])
            _set(theta, theta_by, lows, highs, spare, base + p, j + p, level, low, high)
        return
    tri_low = sorted(lows[base])
    tri_high = sorted(highs[base])
    c0 = const[base]
    first, first_phase = INF, 0
    for p in binding:
        s = base + p
        if not lows[s]:
            # Only three-phase connectors on this phase.
            if first < INF and _load(tri_low, tri_high, c0, first) <= room[j + p]:
                continue
            level = _level(tri_low, tri_high, c0, room[j + p])
        else:
            mono_low, mono_high = sorted(lows[s]), sorted(highs[s])
            mono[p] = (mono_low, mono_high)
            if (
                first < INF
                and _load(tri_low, tri_high, c0, first)
                + _load(mono_low, mono_high, const[s], first)
                <= room[j + p]
            ):
                continue  # this phase fills later than one already found
            level = _level(
                sorted(tri_low + mono_low),
                sorted(tri_high + mono_high),
                c0 + const[s],
                room[j + p],
            )
        if level < first:
            first, first_phase = level, p
    if first == INF:
        return
    tri_load = _load(tri_low, tri_high, c0, first)
    for p in (1, 2, 3):
        s = base + p
        if not lows[s]:
            if p == first_phase:
                theta[s], theta_by[s] = first, j + p
            continue
        if p not in mono:
            mono[p] = (sorted(lows[s]), sorted(highs[s]))
        mono_low, mono_high = mono[p]
        if p == first_phase:
            level = first
        else:
            left = room[j + p] - tri_load
            if const[s] + spare[s] <= left:
                continue
            level = _level(mono_low, mono_high, const[s], left)
        _set(theta, theta_by, lows, highs, spare, s, j + p, level, mono_low, mono_high)
    _set(theta, theta_by, lows, highs, spare, base, j + first_phase, first, tri_low, tri_high)


def _set(
    theta: list[float],
    theta_by: list[int],
    lows: list[list[float]],
    highs: list[list[float]],
    spare: list[float],
    s: int,
    constraint: int,
    level: float,
    low: list[float],
    high: list[float],
) -> None:
    """Record slot ``s``'s level and cap its (sorted) lists there, as seen from above:
    nobody rises past the level. Capping floors too keeps each connector's ramp consistent
    (a floor above the level becomes an empty ramp: the connector stays at its floor)."""
    if level == INF:
        return
    theta[s] = level
    theta_by[s] = constraint
    k = bisect_left(low, level)
    if k < len(low):
        low = low[:k] + [level] * (len(low) - k)
    k = bisect_left(high, level)
    if k < len(high):
        high = high[:k] + [level] * (len(high) - k)
    lows[s] = low
    highs[s] = high
    spare[s] = sum(high) - sum(low)


def _load(low: list[float], high: list[float], const: float, level: float) -> float:
    """Total of ``max(floor, min(level, ceiling))`` over sorted floors and ceilings."""
    k_low = bisect_left(low, level)
    k_high = bisect_left(high, level)
    return const + (k_low - k_high) * level - sum(low[:k_low]) + sum(high[:k_high])


def _level(low: list[float], high: list[float], const: float, room: float) -> float:
    """The highest level whose load fits ``room`` (INF if everything fits); ``low`` and
    ``high`` sorted, of equal length.

    The load ``const + Σ(L - floor)⁺ - Σ(L - ceiling)⁺`` is piecewise linear and
    non-decreasing in L, with breakpoints at the floors and ceilings: find the last
    breakpoint that fits, then interpolate on the segment after it.
    """
    m = len(low)
    if not m:
        return INF
    if const > room:
        # Even the floors do not fit (only through rounding upstream): stay at the floors.
        return low[0]
    if m < _SCAN_BELOW:
        return _scan(low, high, const, room)
    sum_low = list(accumulate(low, initial=0.0))
    sum_high = list(accumulate(high, initial=0.0))
    points = sorted(low + high)
    lo_i, hi_i = 0, len(points)
    best, best_load = low[0], const
    while lo_i < hi_i:
        mid = (lo_i + hi_i) // 2
        at = points[mid]
        k_low = bisect_left(low, at)
        k_high = bisect_left(high, at)
        load = const + (k_low - k_high) * at - sum_low[k_low] + sum_high[k_high]
        if load <= room:
            best, best_load = at, load
            lo_i = mid + 1
        else:
            hi_i = mid
    if lo_i == len(points):
        return INF
    slope = bisect_right(low, best) - bisect_right(high, best)
    return best + (room - best_load) / slope if slope > 0 else best


def _scan(low: list[float], high: list[float], const: float, room: float) -> float:
    """``_level`` for short lists: walk the breakpoints in order."""
    m = len(low)
    i = j = 0
    at, load, slope = low[0], const, 0
    while True:
        if i < m and low[i] <= high[j]:
            point, step = low[i], 1
            i += 1
        elif j < m:
            point, step = high[j], -1
            j += 1
        else:
            return INF
        reached = load + slope * (point - at)
        if reached > room:
            return at + (room - load) / slope
        at, load, slope = point, reached, slope + step

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

from amphub.domain.balancing.index import GroupIndex

INF = math.inf
_REFINING_PASSES = 3
_ROOM_EPSILON_A = 1e-6


def fill(
    index: GroupIndex,
    members: Sequence[int],
    floors: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
) -> tuple[list[float], list[int]]:
    """Fair shares of the connectors ``members`` within ``room`` (per constraint).

    Returns the share of every connector (indexed like ``floors``; non-members keep their
    floor) and, per connector, the constraint that stopped it (-1 if its ceiling did).
    The members' floors must fit ``room`` on every constraint.
    """
    shares = list(floors)
    stopped = [-1] * len(floors)
    tops: Sequence[float] = ceilings
    slot = index.slot
    for attempt in range(_REFINING_PASSES + 1):
        levels, level_by, refine = _levels(index, members, shares, tops, room)
        for i in members:
            s = slot[i]
            level = levels[s]
            top = tops[i]
            if level < top:
                if level > shares[i]:
                    shares[i] = level
                    stopped[i] = level_by[s]
                elif attempt == 0:
                    stopped[i] = level_by[s]
            elif attempt == 0 or top > shares[i]:
                shares[i] = top
                stopped[i] = -1 if top == ceilings[i] else stopped[i]
        if not refine or attempt == _REFINING_PASSES:
            break
        tops = _free_to_rise(index, members, shares, ceilings, room)
    return shares, stopped


def _free_to_rise(
    index: GroupIndex,
    members: Sequence[int],
    shares: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
) -> list[float]:
    """Ceilings for a refining pass: only connectors with room on every constraint of
    their path may rise; the others are pinned at their share."""
    paths = index.paths
    used = [0.0] * len(room)
    for i in members:
        share = shares[i]
        for j in paths[i]:
            used[j] += share
    full = [r - u <= _ROOM_EPSILON_A for r, u in zip(room, used, strict=True)]
    tops = list(shares)
    for i in members:
        if shares[i] < ceilings[i] and not any(full[j] for j in paths[i]):
            tops[i] = ceilings[i]
    return tops


def _levels(
    index: GroupIndex,
    members: Sequence[int],
    floors: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
) -> tuple[list[float], list[int], bool]:
    """Water level per slot (pushed down the tree), the constraint that set it, and whether
    a refining pass could raise someone."""
    n_nodes = index.node_count
    n_slots = 4 * n_nodes
    lows: list[list[float]] = [[] for _ in range(n_slots)]
    highs: list[list[float]] = [[] for _ in range(n_slots)]
    slot = index.slot
    for i in members:
        s = slot[i]
        lows[s].append(floors[i])
        highs[s].append(ceilings[i])
    const = [sum(x) for x in lows]
    spare = [sum(h) - c for h, c in zip(highs, const, strict=True)]
    theta = [INF] * n_slots
    theta_by = [-1] * n_slots
    parent = index.parent
    for n in range(n_nodes - 1, -1, -1):
        base = 4 * n
        c0, s0 = const[base], spare[base]
        full0 = c0 + s0
        binding = [
            p for p in (1, 2, 3) if full0 + const[base + p] + spare[base + p] > room[3 * n + p - 1]
        ]
        if binding:
            _solve_node(n, binding, lows, highs, const, spare, room, theta, theta_by)
        up = parent[n]
        if up >= 0:
            target = 4 * up
            for k in range(4):
                lows[target + k].extend(lows[base + k])
                highs[target + k].extend(highs[base + k])
                const[target + k] += const[base + k]
                spare[target + k] += spare[base + k]

    refine = False
    for n in range(1, n_nodes):
        base = 4 * n
        above = 4 * parent[n]
        own_tri = theta[base]
        for k in range(4):
            if theta[above + k] < theta[base + k]:
                theta[base + k] = theta[above + k]
                theta_by[base + k] = theta_by[above + k]
        if theta[base] < own_tri and any(theta_by[base + k] // 3 == n for k in (1, 2, 3)):
            # An ancestor froze this node's three-phase connectors below the level this
            # node assumed for them: a phase this node filled has room again.
            refine = True
    return theta, theta_by, refine


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
    tri_low = sorted(lows[base])
    tri_high = sorted(highs[base])
    c0 = const[base]
    first, first_phase = INF, 0
    for p in binding:
        level = _level(
            sorted(tri_low + lows[base + p]),
            sorted(tri_high + highs[base + p]),
            c0 + const[base + p],
            room[3 * n + p - 1],
        )
        if level < first:
            first, first_phase = level, p
    if first == INF:
        return
    tri_load = _load(tri_low, tri_high, c0, first)
    for p in (1, 2, 3):
        s = base + p
        if p == first_phase:
            level = first
        else:
            left = room[3 * n + p - 1] - tri_load
            if const[s] + spare[s] <= left:
                continue
            level = _level(sorted(lows[s]), sorted(highs[s]), const[s], left)
        theta[s] = level
        theta_by[s] = 3 * n + p - 1
        lows[s], highs[s], spare[s] = _capped(lows[s], highs[s], level)
    theta[base] = first
    theta_by[base] = 3 * n + first_phase - 1
    lows[base], highs[base], spare[base] = _capped(tri_low, tri_high, first)


def _capped(
    low: list[float], high: list[float], level: float
) -> tuple[list[float], list[float], float]:
    """Floors and ceilings as seen from above a level: nobody rises past it. Capping both
    keeps each connector's ramp from floor to ceiling consistent (a floor above the level
    becomes an empty ramp: the connector stays at its floor)."""
    low = sorted(low)
    high = sorted(high)
    k = bisect_left(low, level)
    low = low[:k] + [level] * (len(low) - k)
    k = bisect_left(high, level)
    high = high[:k] + [level] * (len(high) - k)
    return low, high, sum(high) - sum(low)


def _load(low: list[float], high: list[float], const: float, level: float) -> float:
    """Total of ``max(floor, min(level, ceiling))`` over sorted floors and ceilings."""
    k_low = bisect_left(low, level)
    k_high = bisect_left(high, level)
    return const + (k_low - k_high) * level - sum(low[:k_low]) + sum(high[:k_high])


def _level(low: list[float], high: list[float], const: float, room: float) -> float:
    """The highest level whose load fits ``room``; ``low`` and ``high`` sorted.

    The load ``const + Σ(L - floor)⁺ - Σ(L - ceiling)⁺`` is piecewise linear and
    non-decreasing in L, with breakpoints at the floors and ceilings: find the last
    breakpoint that fits, then interpolate on the segment after it.
    """
    if not low:
        return INF
    sum_low = list(accumulate(low, initial=0.0))
    sum_high = list(accumulate(high, initial=0.0))

    def load(level: float) -> float:
        k_low = bisect_left(low, level)
        k_high = bisect_left(high, level)
        return const + (k_low - k_high) * level - sum_low[k_low] + sum_high[k_high]

    best = -INF
    for points in (low, high):
        lo_i, hi_i = 0, len(points)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            if load(points[mid]) <= room:
                lo_i = mid + 1
            else:
                hi_i = mid
        if lo_i and points[lo_i - 1] > best:
            best = points[lo_i - 1]
    if best == -INF:
        # Even the floors do not fit (only through rounding upstream): stay at the floors.
        return low[0]
    slope = bisect_right(low, best) - bisect_right(high, best)
    if slope <= 0:
        return best
    return best + (room - load(best)) / slope

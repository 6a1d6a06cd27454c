"""One bottom-up pass of the fair-share solver: a water level per slot of the tree.

A slot is a node and a kind of connector (three-phase, or single-phase on grid L1/L2/L3).
Every connector starts at its floor and follows a rising level up to its ceiling; a slot's
level is where the first constraint it loads fills. Nodes are solved bottom-up: a node needs
only the floors and ceilings of its subtree's connectors, already capped by the levels of the
nodes below it, kept as sorted lists, so that the load of a phase as a function of the level
is evaluated with bisection and prefix sums. Three-phase connectors couple the phases of a
node: the first phase to fill freezes them, and the other phases are then solved for their
single-phase connectors alone. A node whose full demand fits costs a few additions. Levels
are then pushed down: a connector follows the lowest level on its path.

A later pass may reuse an earlier one for every subtree whose inputs did not change
(``dirty`` marks the nodes to solve again).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from amphub.domain.balancing.index import GroupIndex

INF = math.inf
_EMPTY: list[float] = []
"""Shared stand-in for a slot without connectors (never mutated: replaced on first use)."""
SCAN_BELOW = 48
"""Lists shorter than this are solved by a linear scan, longer ones by bisection."""

_Lists = tuple[list[float], list[float], list[float], list[float]]


class NodeOutput(NamedTuple):
    """What a solved node passes to its parent, per kind: capped floors and ceilings, the
    sum of the floors, and the room between floors and ceilings."""

    lows: _Lists
    highs: _Lists
    const: tuple[float, float, float, float]
    spare: tuple[float, float, float, float]


class Pass(NamedTuple):
    levels: list[float]
    """Per slot, pushed down: the level the slot's connectors follow."""
    level_by: list[int]
    """Per slot: the constraint that set ``levels`` (-1: none)."""
    own: list[float]
    """Per slot, before the push-down: the level set at the slot's own node."""
    own_by: list[int]
    outputs: list[NodeOutput | None]
    flagged: list[int]
    """Nodes that filled a phase assuming their three-phase connectors would rise higher
    than an ancestor then let them: that phase has room again."""
    gain: float
    """An upper bound of the room so freed (amperes summed over connectors)."""


def solve_levels(
    index: GroupIndex,
    members: Sequence[int],
    floors: Sequence[float],
    ceilings: Sequence[float],
    room: Sequence[float],
    previous: Pass | None = None,
    dirty: Sequence[bool] | None = None,
) -> Pass:
    """Levels for ``members`` (floors and ceilings indexed by connector) within ``room``.
    With ``previous`` and ``dirty``, only the dirty nodes are solved again; the others must
    have the same members, floors and ceilings as in ``previous``."""
    n_nodes = index.node_count
    n_slots = 4 * n_nodes
    lows: list[list[float]] = [_EMPTY] * n_slots
    highs: list[list[float]] = [_EMPTY] * n_slots
    const = [0.0] * n_slots
    spare = [0.0] * n_slots
    slot = index.slot
    for i in members:
        s = slot[i]
        if dirty is not None and not dirty[s >> 2]:
            continue
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
    if previous is None or dirty is None:
        own = [INF] * n_slots
        own_by = [-1] * n_slots
        outputs: list[NodeOutput | None] = [None] * n_nodes
    else:
        own = list(previous.own)
        own_by = list(previous.own_by)
        outputs = list(previous.outputs)
    parent = index.parent
    for n in range(n_nodes - 1, -1, -1):
        base = 4 * n
        up = parent[n]
        if dirty is None or dirty[n]:
            own[base : base + 4] = (INF, INF, INF, INF)
            own_by[base : base + 4] = (-1, -1, -1, -1)
            full0 = const[base] + spare[base]
            j = 3 * n
            binding = [
                p for p in (1, 2, 3) if full0 + const[base + p] + spare[base + p] > room[j + p - 1]
            ]
            if binding:
                solve_node(n, binding, lows, highs, const, spare, room, own, own_by)
            out = NodeOutput(
                (lows[base], lows[base + 1], lows[base + 2], lows[base + 3]),
                (highs[base], highs[base + 1], highs[base + 2], highs[base + 3]),
                (const[base], const[base + 1], const[base + 2], const[base + 3]),
                (spare[base], spare[base + 1], spare[base + 2], spare[base + 3]),
            )
            outputs[n] = out
        elif up < 0 or (dirty is not None and not dirty[up]):
            continue
        else:
            reused = outputs[n]
            assert reused is not None
            out = reused
        if up < 0:
            continue
        target = 4 * up
        for k in range(4):
            child = out.lows[k]
            if child is _EMPTY:
                continue
            if lows[target + k] is _EMPTY:
                lows[target + k] = list(child)
                highs[target + k] = list(out.highs[k])
            else:
                lows[target + k].extend(child)
                highs[target + k].extend(out.highs[k])
            const[target + k] += out.const[k]
            spare[target + k] += out.spare[k]
    return _pushed_down(index, own, own_by, outputs)


def _pushed_down(
    index: GroupIndex, own: list[float], own_by: list[int], outputs: list[NodeOutput | None]
) -> Pass:
    levels = list(own)
    level_by = list(own_by)
    parent = index.parent
    flagged: list[int] = []
    gain = 0.0
    for n in range(1, index.node_count):
        base = 4 * n
        above = 4 * parent[n]
        for k in range(4):
            if levels[above + k] < levels[base + k]:
                levels[base + k] = levels[above + k]
                level_by[base + k] = level_by[above + k]
        own_tri = own[base]
        if levels[base] < own_tri and (
            level_by[base + 1] // 3 == n
            or level_by[base + 2] // 3 == n
            or level_by[base + 3] // 3 == n
        ):
            out = outputs[n]
            assert out is not None
            flagged.append(n)
            tri_highs = out.highs[0]
            top = max(tri_highs) if tri_highs else 0.0
            gain += (min(own_tri, top) - levels[base]) * len(tri_highs)
    return Pass(levels, level_by, own, own_by, outputs, flagged, gain)


def solve_node(
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
    if m < SCAN_BELOW:
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

"""``waterfill.fill`` and ``allocate._share`` over arrays (same passes, same floats).

Every pass reuses the subtrees whose inputs did not change since the most similar earlier
pass: the same pass of the previous cycle (usually only the meter, i.e. the root, moved) or
the previous pass of this cycle (a pinning pass changes a few subtrees). The scalar code
reuses unchanged subtrees within a cycle in the same way; reuse is exact.
"""

from __future__ import annotations

import numpy as np

from amphub.domain.balancing.vectorized.arrays import (
    BoolArray,
    FloatArray,
    IndexArrays,
    IntArray,
    constraint_loads,
)
from amphub.domain.balancing.vectorized.levels import (
    Changes,
    Pass,
    Solved,
    changed_nodes,
    solve,
)
from amphub.domain.balancing.waterfill import PINNING_PASSES, REFINING_PASSES, ROOM_EPSILON_A

PassKey = tuple[int, int]
"""(priority tier, pass number) of one ``solve`` within a cycle."""


class Passes:
    """The passes of the previous cycle, and those of this one as they are solved."""

    def __init__(self, arrays: IndexArrays, previous: dict[PassKey, Solved]) -> None:
        self.arrays = arrays
        self.previous = previous
        self.current: dict[PassKey, Solved] = {}
        self._last: Solved | None = None

    def solve(
        self,
        key: PassKey,
        member: BoolArray,
        floors: FloatArray,
        ceilings: FloatArray,
        room: FloatArray,
    ) -> Pass:
        best: tuple[int, Solved, Changes] | None = None
        for ref in (self.previous.get(key), self._last):
            if ref is None or (best is not None and ref is best[1]):
                continue
            changes = changed_nodes(self.arrays, ref, member, floors, ceilings, room)
            count = int(changes.dirty.sum())
            if best is None or count < best[0]:
                best = (count, ref, changes)
        if best is None:
            solved = solve(self.arrays, member, floors, ceilings, room)
        else:
            solved = solve(self.arrays, member, floors, ceilings, room, best[1], best[2])
        self.current[key] = solved
        self._last = solved
        return solved.result


def share(
    arrays: IndexArrays,
    running: IntArray,
    ceiling_a: FloatArray,
    room: FloatArray,
    resolution_a: float,
    passes: Passes,
) -> tuple[FloatArray, IntArray]:
    """Fair shares, one priority at a time from the highest (``allocate._share``)."""
    floors = np.zeros(arrays.connector_count)
    floors[running] = arrays.min_a[running]
    priority = arrays.priority[running]
    levels = np.unique(priority)[::-1]
    if levels.size <= 1:
        return fill(arrays, running, floors, ceiling_a, room, resolution_a, passes, -1)
    shares = floors
    stopped = np.full(arrays.connector_count, -1, dtype=np.int64)
    for level in levels:
        tier = running[priority == level]
        others = running[priority != level]
        tier_room = room - constraint_loads(arrays, others, shares[others])
        shares, tier_stopped = fill(
            arrays, tier, shares, ceiling_a, tier_room, resolution_a, passes, int(level)
        )
        stopped[tier] = tier_stopped[tier]
    return shares, stopped


def fill(
    arrays: IndexArrays,
    members: IntArray,
    floors: FloatArray,
    ceilings: FloatArray,
    room: FloatArray,
    min_gain_a: float,
    passes: Passes,
    tier: int,
) -> tuple[FloatArray, IntArray]:
    """``waterfill.fill`` for ``members`` (ascending connector numbers)."""
    n = arrays.connector_count
    shares = floors.copy()
    stopped = np.full(n, -1, dtype=np.int64)
    tops = ceilings.copy()
    pinned_by = np.full(n, -1, dtype=np.int64)
    member = np.zeros(n, dtype=np.bool_)
    member[members] = True
    result = passes.solve((tier, 0), member, shares, tops, room)
    for number in range(1, PINNING_PASSES):
        if result.gain <= min_gain_a:
            break
        if not _pin(arrays, member, shares, tops, result, pinned_by):
            break
        result = passes.solve((tier, number), member, shares, tops, room)

    slot = arrays.slot[members]
    level = result.levels.reshape(-1)[slot]
    top = tops[members]
    current = shares[members]
    below = level < top
    shares[members] = np.where(below, np.where(level > current, level, current), top)
    stopped[members] = np.where(
        below,
        result.level_by.reshape(-1)[slot],
        np.where(top < ceilings[members], pinned_by[members], -1),
    )

    gain = result.gain
    for number in range(PINNING_PASSES, PINNING_PASSES + REFINING_PASSES):
        if gain <= min_gain_a:
            break
        free, free_room = _free_to_rise(arrays, members, shares, ceilings, room)
        if not free.size:
            break
        free_member = np.zeros(n, dtype=np.bool_)
        free_member[free] = True
        refined = passes.solve((tier, number), free_member, shares, ceilings, free_room)
        gain = refined.gain
        slot = arrays.slot[free]
        level = refined.levels.reshape(-1)[slot]
        top = ceilings[free]
        current = shares[free]
        at_top = level >= top
        rises = ~at_top & (level > current)
        shares[free] = np.where(at_top, top, np.where(rises, level, current))
        stopped[free] = np.where(
            at_top, -1, np.where(rises, refined.level_by.reshape(-1)[slot], stopped[free])
        )
    return shares, stopped


def _pin(
    arrays: IndexArrays,
    member: BoolArray,
    floors: FloatArray,
    tops: FloatArray,
    result: Pass,
    pinned_by: IntArray,
) -> bool:
    """``waterfill._pin``: lower ``tops`` in place; whether anything moved."""
    levels = result.levels.reshape(-1)
    level_by = result.level_by.reshape(-1)
    moved = False
    for a in result.flagged:
        candidates = arrays.by_kind[arrays.sub_start[a, 0] : arrays.sub_stop[a, 0]]
        connectors = candidates[member[candidates]]
        slot = arrays.slot[connectors]
        by = level_by[slot]
        node = by // 3
        outside = ~((a <= node) & (node < arrays.subtree_end[a]))
        connectors, slot, by = connectors[outside], slot[outside], by[outside]
        level = np.maximum(levels[slot], floors[connectors])
        lower = level < tops[connectors]
        if lower.any():
            tops[connectors[lower]] = level[lower]
            pinned_by[connectors[lower]] = by[lower]
            moved = True
    return moved


def _free_to_rise(
    arrays: IndexArrays,
    members: IntArray,
    shares: FloatArray,
    ceilings: FloatArray,
    room: FloatArray,
) -> tuple[IntArray, FloatArray]:
    """``waterfill._free_to_rise``."""
    loads = constraint_loads(arrays, members, shares[members])
    blocked_phase = (room - loads <= ROOM_EPSILON_A).reshape(-1, 3)
    for nodes, parents in reversed(arrays.depths[:-1]):
        blocked_phase[nodes] |= blocked_phase[parents]
    blocked = np.empty((arrays.node_count, 4), dtype=np.bool_)
    blocked[:, 0] = blocked_phase.any(axis=1)
    blocked[:, 1:] = blocked_phase
    rising = ~blocked.reshape(-1)[arrays.slot[members]] & (shares[members] < ceilings[members])
    free = members[rising]
    if not free.size:
        return free, np.zeros(0)
    pinned = loads - constraint_loads(arrays, free, shares[free])
    return free, room - pinned

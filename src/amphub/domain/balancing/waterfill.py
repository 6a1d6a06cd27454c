"""Max–min fair shares on a fuse tree with three phases (progressive filling).

Every running connector starts at its floor (its minimum) and a common water level rises;
a connector follows the level up to its ceiling. When one phase of a node is full, the
connectors loading it stop rising; the others go on. ``levels.solve_levels`` computes this
bottom-up in one pass.

One pass can be wrong in one way: a node fills a phase assuming its three-phase connectors
rise to the node's own level, and an ancestor then freezes them lower; the node's
single-phase connectors on that phase were held back for nothing. ``fill`` then pins those
three-phase connectors where the ancestor froze them and solves again, only the subtrees
that changed (a few times at most). Whatever is left (rare) goes to a refining pass that
lets connectors with room on their whole path rise into it. Every pass keeps the invariant.
"""

from __future__ import annotations

from collections.abc import Sequence

from amphub.domain.balancing.index import GroupIndex, constraint_loads
from amphub.domain.balancing.levels import Pass, solve_levels

PINNING_PASSES = 4
REFINING_PASSES = 3
ROOM_EPSILON_A = 1e-6


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
    The members' floors must fit ``room`` on every constraint. Corrections whose total
    possible gain is at most ``min_gain_a`` are skipped.
    """
    shares = list(floors)
    stopped = [-1] * len(floors)
    tops = list(ceilings)
    pinned_by: dict[int, int] = {}
    result = solve_levels(index, members, shares, tops, room)
    for _ in range(PINNING_PASSES - 1):
        if result.gain <= min_gain_a:
            break
        dirty = _pin(index, members, shares, tops, result, pinned_by)
        if dirty is None:
            break
        result = solve_levels(index, members, shares, tops, room, result, dirty)

    slot = index.slot
    levels, level_by = result.levels, result.level_by
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

    gain = result.gain
    for _ in range(REFINING_PASSES):
        if gain <= min_gain_a:
            break
        free, free_room = _free_to_rise(index, members, shares, ceilings, room)
        if not free:
            break
        refined = solve_levels(index, free, shares, ceilings, free_room)
        gain = refined.gain
        for i in free:
            s = slot[i]
            level = refined.levels[s]
            top = ceilings[i]
            if level >= top:
                shares[i] = top
                stopped[i] = -1
            elif level > shares[i]:
                shares[i] = level
                stopped[i] = refined.level_by[s]
    return shares, stopped


def _pin(
    index: GroupIndex,
    members: Sequence[int],
    floors: Sequence[float],
    tops: list[float],
    result: Pass,
    pinned_by: dict[int, int],
) -> list[bool] | None:
    """Pin the three-phase connectors below each flagged node at the level an ancestor
    froze them at (lowering ``tops``); the nodes to solve again, or None if nothing moved."""
    is_member = [False] * len(tops)
    for i in members:
        is_member[i] = True
    slot = index.slot
    kind = index.kind
    parent = index.parent
    node_of = index.node_of
    subtree_end = index.subtree_end
    levels, level_by = result.levels, result.level_by
    dirty = [False] * index.node_count
    moved = False
    for a in result.flagged:
        end = subtree_end[a]
        for i in index.members[3 * a]:
            if kind[i] or not is_member[i]:
                continue
            s = slot[i]
            if a <= level_by[s] // 3 < end:
                continue  # frozen inside the flagged node's own subtree
            level = max(levels[s], floors[i])
            if level >= tops[i]:
                continue
            tops[i] = level
            pinned_by[i] = level_by[s]
            moved = True
            n = node_of[i]
            while n >= 0 and not dirty[n]:
                dirty[n] = True
                n = parent[n]
    return dirty if moved else None


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
        f1 = room[j] - loads[j] <= ROOM_EPSILON_A
        f2 = room[j + 1] - loads[j + 1] <= ROOM_EPSILON_A
        f3 = room[j + 2] - loads[j + 2] <= ROOM_EPSILON_A
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

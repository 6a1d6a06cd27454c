"""``levels.solve_levels`` for large groups: every node of one depth solved at once.

Same algorithm and same floats as the scalar pass (read ``levels.py`` first): nodes are
solved bottom-up, a node's slots see its subtree's floors and ceilings capped by the levels
set below, and a slot's level is where the first constraint it loads fills. What differs is
the bookkeeping:

- Instead of sorted lists handed from child to parent, every connector carries its floor
  and ceiling as capped so far (``low_k``/``high_k``, in ``by_kind`` order, so that a
  subtree's connectors of one kind are one run). Capping a sorted list at a level is an
  elementwise minimum, so both views hold the same numbers.
- All binding nodes of a depth are solved together: their lists are gathered and sorted per
  (node, kind) segment, and ``_level`` runs as array operations over all instances. The
  scan's running load ``load + slope * (point - at)`` is a left fold of increments, which
  ``np.cumsum`` along a row reproduces bit for bit; the bisection probes the same points in
  the same order.
- ``_load``'s ``sum(low[:k])`` is ``np.bincount`` of the sorted segment with the rest masked
  to 0.0 (adding 0.0 changes nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from amphub.domain.balancing.levels import SCAN_BELOW, solve_node
from amphub.domain.balancing.vectorized.arrays import (
    BoolArray,
    FloatArray,
    IndexArrays,
    IntArray,
    slot_sums,
)

INF = math.inf
SCALAR_UP_TO = 4096
"""Binding nodes of one depth with at most this many connectors below them, together, are
solved by the scalar code, one by one."""
LARGE_NODE = 2048
"""Nodes with this many connectors below them are solved one by one, their sorted lists
kept for the next pass (numpy's cost per call is nothing next to theirs)."""


class Pass(NamedTuple):
    levels: FloatArray
    """(node, kind), pushed down: the level the slot's connectors follow."""
    level_by: IntArray
    """(node, kind): the constraint that set ``levels`` (-1: none)."""
    flagged: list[int]
    """As ``levels.Pass.flagged``."""
    gain: float


def ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """The concatenation of ``arange(start, start + length)`` for each pair."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    offsets = np.repeat(starts - (ends - lengths), lengths)
    found: IntArray = np.arange(total, dtype=np.int64) + offsets
    return found


def grouped(order: IntArray, group: IntArray) -> IntArray:
    """``order`` rearranged so that equal ``group`` values (small non-negative integers)
    come together, ascending, keeping ``order``'s order within each group."""
    key = group[order]
    small = key.size == 0 or int(key.max()) < 1 << 16
    regrouped: IntArray = order[
        np.argsort(key.astype(np.uint16 if small else np.int64), kind="stable")
    ]
    return regrouped


@dataclass(frozen=True, slots=True, eq=False)
class Solved:
    """A pass with what it was computed from, so that the next pass can reuse every
    subtree whose inputs did not change (the next cycle's, or the next pinning pass)."""

    result: Pass
    member: BoolArray
    floors: FloatArray
    ceilings: FloatArray
    room: FloatArray
    own: FloatArray
    own_by: IntArray
    tri_top: FloatArray
    const: FloatArray
    spare: FloatArray
    after_depth: tuple[tuple[FloatArray, FloatArray] | None, ...]
    """Per entry of ``IndexArrays.depths``: every connector's capped floor and ceiling
    (``by_kind`` order) once that depth was solved (valid in that depth's subtrees; not
    kept for the root's depth)."""
    prepared: dict[int, Large]
    """Large nodes' sorted lists and breakpoint loads, reusable while the lists are the
    same (typically the root, when only the meter moved)."""


class Changes(NamedTuple):
    dirty: BoolArray
    """Nodes whose subtree has any input (member, floor, ceiling, room) changed."""
    lists: BoolArray
    """Nodes whose lists changed: an own connector, or a dirty child."""


def changed_nodes(
    arrays: IndexArrays,
    ref: Solved,
    member: BoolArray,
    floors: FloatArray,
    ceilings: FloatArray,
    room: FloatArray,
) -> Changes:
    """Where the inputs differ from ``ref``'s."""
    differs = (member != ref.member) | (
        member & ((floors != ref.floors) | (ceilings != ref.ceilings))
    )
    lists = np.zeros(arrays.node_count, dtype=np.bool_)
    lists[arrays.node_of[differs]] = True
    dirty = lists | (room != ref.room).reshape(-1, 3).any(axis=1)
    for nodes, parents in arrays.depths[:-1]:
        above = parents[dirty[nodes]]
        dirty[above] = True
        lists[above] = True
    return Changes(dirty, lists)


def solve(
    arrays: IndexArrays,
    member: BoolArray,
    floors: FloatArray,
    ceilings: FloatArray,
    room: FloatArray,
    ref: Solved | None = None,
    changes: Changes | None = None,
) -> Solved:
    """Levels for the connectors where ``member`` is set, within ``room`` (per constraint).
    Subtrees whose inputs are the same as in ``ref`` take ``ref``'s results: a node's
    result depends only on its subtree's members, floors, ceilings and rooms. ``changes``:
    ``changed_nodes`` against ``ref``, if known."""
    n_nodes = arrays.node_count
    if ref is not None and changes is None:
        changes = changed_nodes(arrays, ref, member, floors, ceilings, room)
    if ref is None or changes is None:
        dirty = np.ones(n_nodes, dtype=np.bool_)
        same_lists = np.zeros(n_nodes, dtype=np.bool_)
    else:
        dirty = changes.dirty
        same_lists = ~changes.lists
    if ref is not None and not dirty[0]:
        return ref
    prepared: dict[int, Large] = {}
    if ref is not None:
        prepared = {n: p for n, p in ref.prepared.items() if same_lists[n]}
    members = np.flatnonzero(member)
    low = floors[members]
    const = slot_sums(arrays, members, low)
    spare = slot_sums(arrays, members, ceilings[members] - low)
    by_kind = arrays.by_kind
    state = _State(
        arrays,
        member[by_kind],
        floors[by_kind],
        ceilings[by_kind],
        const,
        spare,
        room.reshape(n_nodes, 3),
    )
    clean = ~dirty
    if ref is not None:
        state.own[clean] = ref.own[clean]
        state.own_by[clean] = ref.own_by[clean]
        state.tri_top[clean] = ref.tri_top[clean]
    after_depth: list[tuple[FloatArray, FloatArray] | None] = []
    # Clean subtrees' capped lists are copied from the reference only when something reads
    # them: a batched solve or a large node's first look above them, or a snapshot.
    pending: list[tuple[int, IntArray]] = []

    def restore() -> None:
        if not pending:
            return
        assert ref is not None
        for depth, kept in pending:
            positions = (
                arrays.below_depth[depth]
                if kept.size == arrays.depths[depth][0].size
                else ranges(
                    arrays.sub_start[kept].reshape(-1),
                    (arrays.sub_stop[kept] - arrays.sub_start[kept]).reshape(-1),
                )
            )
            low_after, high_after = ref.after_depth[depth]  # type: ignore[misc]
            state.low_k[positions] = low_after[positions]
            state.high_k[positions] = high_after[positions]
        pending.clear()

    for depth, (nodes, parents) in enumerate(arrays.depths):
        is_dirty = dirty[nodes]
        if ref is not None and not is_dirty.all():
            kept = nodes[~is_dirty]
            const[kept] = ref.const[kept]
            spare[kept] = ref.spare[kept]
            pending.append((depth, kept))
            nodes_solved = nodes[is_dirty]
        else:
            nodes_solved = nodes
        if nodes_solved.size:
            c = const[nodes_solved]
            s = spare[nodes_solved]
            full0 = c[:, 0] + s[:, 0]
            binding = (full0[:, None] + c[:, 1:]) + s[:, 1:] > state.room[nodes_solved]
            rows = np.flatnonzero(binding.any(axis=1))[::-1]  # ascending node numbers
            large = state.count[nodes_solved[rows]].sum(axis=1) >= LARGE_NODE
            if not large.all():
                restore()
                small = rows[~large]
                if state.count[nodes_solved[small]].sum() <= SCALAR_UP_TO:
                    _solve_scalar(state, nodes_solved[small], binding[small])
                else:
                    _solve_nodes(state, nodes_solved[small], binding[small])
            for row in rows[large].tolist():
                node = int(nodes_solved[row])
                known = prepared.get(node)
                if known is None:
                    restore()
                    known = prepared[node] = Large(state, node)
                phases = (np.flatnonzero(binding[row]) + 1).tolist()
                known.solve(state, node, phases)
        if parents[0] < 0:
            after_depth.append(None)  # the root: read again only if it is clean, and then
            # the whole pass is the reference's
        elif nodes_solved.size or ref is None:
            restore()
            after_depth.append((state.low_k.copy(), state.high_k.copy()))
        else:
            after_depth.append(ref.after_depth[depth])
        if parents[0] >= 0:
            np.add.at(const, parents, const[nodes])
            np.add.at(spare, parents, spare[nodes])
    return Solved(
        result=_pushed_down(arrays, state),
        member=member,
        floors=floors.copy(),
        ceilings=ceilings.copy(),
        room=room,
        own=state.own,
        own_by=state.own_by,
        tri_top=state.tri_top,
        const=const,
        spare=spare,
        after_depth=tuple(after_depth),
        prepared=prepared,
    )


class _State:
    """What one pass works on; updated depth by depth."""

    def __init__(
        self,
        arrays: IndexArrays,
        in_kind: BoolArray,
        low_k: FloatArray,
        high_k: FloatArray,
        const: FloatArray,
        spare: FloatArray,
        room: FloatArray,
    ) -> None:
        n_nodes = arrays.node_count
        self.arrays = arrays
        self.in_kind = in_kind
        self.low_k = low_k
        self.high_k = high_k
        self.const = const
        self.spare = spare
        self.room = room
        counted = np.zeros(in_kind.size + 1, dtype=np.int64)
        np.cumsum(in_kind, out=counted[1:])
        self.count: IntArray = counted[arrays.sub_stop] - counted[arrays.sub_start]
        self.own = np.full((n_nodes, 4), INF)
        self.own_by = np.full((n_nodes, 4), -1, dtype=np.int64)
        self.tri_top = np.zeros(n_nodes)


class _Gathered:
    """The members of some nodes' subtrees, per (row, kind) segment ``4 * row + kind``, in
    ``by_kind`` order: positions, capped floors and ceilings, where each segment starts."""

    def __init__(self, state: _State, nodes: IntArray) -> None:
        arrays = state.arrays
        self.count = state.count[nodes].reshape(-1)
        starts = arrays.sub_start[nodes].reshape(-1)
        lengths = arrays.sub_stop[nodes].reshape(-1) - starts
        position = ranges(starts, lengths)
        segment = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
        keep = state.in_kind[position]
        self.position = position[keep]
        self.segment = segment[keep]
        self.low = state.low_k[self.position]
        self.high = state.high_k[self.position]
        self.start = np.zeros(self.count.size + 1, dtype=np.int64)
        np.cumsum(self.count, out=self.start[1:])


class _Lists(_Gathered):
    """The subtree lists of some nodes (one row each), in two arrangements of one sort:

    - per (row, kind) segment ``4 * row + kind``: the members' capped floors
      (``sorted_low``) and ceilings (``sorted_high``), each sorted;
    - per row: all of them together, sorted by value (``values``), each tagged with its
      kind and whether it is a floor. Any instance of ``levels._level`` (a kind, or
      three-phase and one single-phase kind merged) is a subsequence of its row: already
      merged and sorted, lows before or after equal highs (no result depends on which).
    """

    def __init__(self, state: _State, nodes: IntArray) -> None:
        super().__init__(state, nodes)
        values = np.concatenate((self.low, self.high))
        segments = np.concatenate((self.segment, self.segment))
        by_value = np.argsort(values)
        by_row = grouped(by_value, segments // 4)
        self.values = values[by_row]
        self.is_low = by_row < self.low.size
        self.kind = segments[by_row] % 4
        self.row_start = np.zeros(nodes.size + 1, dtype=np.int64)
        np.cumsum(2 * self.count.reshape(-1, 4).sum(axis=1), out=self.row_start[1:])
        by_segment = grouped(by_value, segments)
        segment_values = values[by_segment]
        segment_is_low = by_segment < self.low.size
        self.sorted_low = segment_values[segment_is_low]
        self.sorted_high = segment_values[~segment_is_low]

    def load(self, segments: IntArray, const: FloatArray, level: FloatArray) -> FloatArray:
        """``levels._load`` of each segment at its level (levels finite)."""
        lengths = self.count[segments]
        elements = ranges(self.start[segments], lengths)
        owner = np.repeat(np.arange(segments.size, dtype=np.int64), lengths)
        cut = level[owner]
        low = self.sorted_low[elements]
        high = self.sorted_high[elements]
        below_low = low < cut
        below_high = high < cut
        width = segments.size
        k_low = np.bincount(owner, below_low, minlength=width)
        k_high = np.bincount(owner, below_high, minlength=width)
        sum_low = np.bincount(owner, np.where(below_low, low, 0.0), minlength=width)
        sum_high = np.bincount(owner, np.where(below_high, high, 0.0), minlength=width)
        loads: FloatArray = ((const + (k_low - k_high) * level) - sum_low) + sum_high
        return loads

    def levels(
        self,
        first: IntArray,
        second: IntArray,
        const: FloatArray,
        room: FloatArray,
    ) -> FloatArray:
        """``levels._level`` of instances made of segment ``first`` and, where ``second``
        is not -1, segment ``second`` merged in."""
        lengths = self.count[first] + np.where(second >= 0, self.count[np.maximum(second, 0)], 0)
        values, is_low = self._instances(first, second)
        return instance_levels(values, is_low, lengths, const, room)

    def _instances(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        """The sorted breakpoints of each instance, instances one after the other."""
        rows = first // 4
        sizes = self.row_start[rows + 1] - self.row_start[rows]
        position = ranges(self.row_start[rows], sizes)
        owner = np.repeat(np.arange(first.size, dtype=np.int64), sizes)
        kind = self.kind[position]
        take = (kind == (first % 4)[owner]) | (kind == np.where(second >= 0, second % 4, -1)[owner])
        position = position[take]
        return self.values[position], self.is_low[position]


def _solve_scalar(state: _State, nodes: IntArray, binding: BoolArray) -> None:
    """A few nodes (a pinning pass, or a cycle where little changed): the scalar
    ``levels.solve_node`` itself, on Python lists of the nodes' capped floors and ceilings
    (numpy's cost per call would outweigh the work)."""
    arrays = state.arrays
    n_slots = 4 * arrays.node_count
    lists = _Gathered(state, nodes)
    lows: list[list[float]] = [[]] * n_slots
    highs: list[list[float]] = [[]] * n_slots
    const = state.const.reshape(-1).tolist()
    spare = state.spare.reshape(-1).tolist()
    room = state.room.reshape(-1).tolist()
    theta = [INF] * n_slots
    theta_by = [-1] * n_slots
    low_values = lists.low.tolist()
    high_values = lists.high.tolist()
    bounds = lists.start.tolist()
    for row, (node, phases) in enumerate(zip(nodes.tolist(), binding.tolist(), strict=True)):
        base = 4 * node
        for kind in range(4):
            segment = 4 * row + kind
            part = slice(bounds[segment], bounds[segment + 1])
            lows[base + kind] = low_values[part]
            highs[base + kind] = high_values[part]
        binding_phases = [p for p in (1, 2, 3) if phases[p - 1]]
        solve_node(node, binding_phases, lows, highs, const, spare, room, theta, theta_by)
        for kind in range(4):
            s = base + kind
            state.spare[node, kind] = spare[s]
            if theta_by[s] < 0:
                continue
            level = theta[s]
            state.own[node, kind] = level
            state.own_by[node, kind] = theta_by[s]
            segment = 4 * row + kind
            positions = lists.position[bounds[segment] : bounds[segment + 1]]
            state.low_k[positions] = np.minimum(state.low_k[positions], level)
            state.high_k[positions] = np.minimum(state.high_k[positions], level)
        tri = highs[base]
        state.tri_top[node] = max(tri) if tri else 0.0


class Large:
    """One large node solved with the scalar code's control flow (``levels.solve_node``)
    over its sorted lists as arrays: per kind, sorted floors and ceilings with their prefix
    sums, so that a load is two binary searches, and an instance's breakpoints a merge of
    sorted runs. Kept while the node's lists stay the same (only its room moved)."""

    def __init__(self, state: _State, node: int) -> None:
        arrays = state.arrays
        self.positions: list[IntArray] = []
        self.raw_low: list[FloatArray] = []
        self.raw_high: list[FloatArray] = []
        self.low: list[FloatArray] = []
        self.high: list[FloatArray] = []
        self.sum_low: list[FloatArray] = []
        self.sum_high: list[FloatArray] = []
        for kind in range(4):
            span = np.arange(arrays.sub_start[node, kind], arrays.sub_stop[node, kind])
            positions = span[state.in_kind[span]]
            raw_low = state.low_k[positions]
            raw_high = state.high_k[positions]
            low = np.sort(raw_low)
            high = np.sort(raw_high)
            self.positions.append(positions)
            self.raw_low.append(raw_low)
            self.raw_high.append(raw_high)
            self.low.append(low)
            self.high.append(high)
            self.sum_low.append(_with_zero(np.cumsum(low)))
            self.sum_high.append(_with_zero(np.cumsum(high)))
        self.count = [low.size for low in self.low]
        self.instances: dict[tuple[int, int, float], Breakpoints] = {}

    def load(self, kind: int, const: float, level: float) -> float:
        """``levels._load``."""
        k_low = int(np.searchsorted(self.low[kind], level, side="left"))
        k_high = int(np.searchsorted(self.high[kind], level, side="left"))
        return ((const + (k_low - k_high) * level) - float(self.sum_low[kind][k_low])) + float(
            self.sum_high[kind][k_high]
        )

    def level(self, kind: int, other: int, const: float, room: float) -> float:
        """``levels._level`` of ``kind``'s lists, with ``other``'s merged in (-1: none)."""
        found = self.instances.get((kind, other, const))
        if found is None:
            parts = [kind] if other < 0 else [kind, other]
            lows = [self.low[k] for k in parts]
            values = np.concatenate(lows + [self.high[k] for k in parts])
            order = np.argsort(values, kind="stable")  # sorted runs: a merge
            is_low = order < sum(low.size for low in lows)
            found = self.instances[(kind, other, const)] = Breakpoints(values[order], is_low, const)
        return found.level(room)

    def solve(self, state: _State, node: int, binding: list[int]) -> None:
        """``levels.solve_node`` of ``node`` for its ``binding`` phases."""
        c = state.const[node].tolist()
        spare = state.spare[node].tolist()
        room = state.room[node].tolist()
        count = self.count
        j = 3 * node - 1  # + phase = constraint
        if not count[0]:
            for p in binding:
                self._set(state, node, p, self.level(p, -1, c[p], room[p - 1]), j + p)
            return
        first, first_phase = INF, 0
        for p in binding:
            if not count[p]:
                if first < INF and self.load(0, c[0], first) <= room[p - 1]:
                    continue
                level = self.level(0, -1, c[0], room[p - 1])
            else:
                if (
                    first < INF
                    and self.load(0, c[0], first) + self.load(p, c[p], first) <= room[p - 1]
                ):
                    continue
                level = self.level(0, p, c[0] + c[p], room[p - 1])
            if level < first:
                first, first_phase = level, p
        if first == INF:
            state.tri_top[node] = float(self.high[0][-1])
            return
        tri_load = self.load(0, c[0], first)
        for p in (1, 2, 3):
            if not count[p]:
                if p == first_phase:
                    state.own[node, p] = first
                    state.own_by[node, p] = j + p
                continue
            if p == first_phase:
                level = first
            else:
                left = room[p - 1] - tri_load
                if c[p] + spare[p] <= left:
                    continue
                level = self.level(p, -1, c[p], left)
            self._set(state, node, p, level, j + p)
        self._set(state, node, 0, first, j + first_phase)

    def _set(self, state: _State, node: int, kind: int, level: float, constraint: int) -> None:
        """``levels._set``: the level, the lists capped there, the spare of the capped
        sorted lists (summed in order)."""
        if kind == 0:
            state.tri_top[node] = min(float(self.high[0][-1]), level)
        if level == INF:
            return
        state.own[node, kind] = level
        state.own_by[node, kind] = constraint
        low = np.minimum(self.low[kind], level)
        high = np.minimum(self.high[kind], level)
        state.spare[node, kind] = float(np.cumsum(high)[-1]) - float(np.cumsum(low)[-1])
        positions = self.positions[kind]
        state.low_k[positions] = np.minimum(self.raw_low[kind], level)
        state.high_k[positions] = np.minimum(self.raw_high[kind], level)


def _with_zero(sums: FloatArray) -> FloatArray:
    out = np.zeros(sums.size + 1)
    out[1:] = sums
    return out


class Breakpoints:
    """``levels._level`` of one (long) instance, prepared for any room: the sorted
    breakpoints with the running counts and prefix sums that give the load at any of them.
    Loads are computed where the bisection probes, and kept: the next cycle's room is
    usually close, and probes mostly the same breakpoints."""

    def __init__(self, points: FloatArray, is_low: BoolArray, const: float) -> None:
        self.const = const
        self.points = points
        lows = points[is_low]
        m = lows.size
        self.m = m
        self.first_low = float(lows[0]) if m else INF
        if m and m < SCAN_BELOW:
            step = np.where(is_low, 1.0, -1.0)
            self.slope_before = np.cumsum(step) - step
            increments = np.empty(2 * m)
            increments[0] = const
            increments[1:] = self.slope_before[1:] * (points[1:] - points[:-1])
            self.reached = np.cumsum(increments)
            return
        self.lows_through = np.cumsum(is_low)
        self.sum_low = np.zeros(m + 1)
        np.cumsum(lows, out=self.sum_low[1:])
        self.sum_high = np.zeros(m + 1)
        np.cumsum(points[~is_low], out=self.sum_high[1:])
        self._loads: dict[int, float] = {}

    def _load(self, t: int) -> float:
        """``levels._level``'s load at breakpoint ``t``: ``const + (k_low - k_high) * at
        - sum_low[k_low] + sum_high[k_high]``, k the ``bisect_left`` counts."""
        load = self._loads.get(t)
        if load is None:
            at = float(self.points[t])
            first = int(np.searchsorted(self.points, at, side="left"))
            k_low = int(self.lows_through[first - 1]) if first else 0
            k_high = first - k_low
            load = self._loads[t] = (
                (self.const + (k_low - k_high) * at) - float(self.sum_low[k_low])
            ) + float(self.sum_high[k_high])
        return load

    def level(self, room: float) -> float:
        m = self.m
        if not m:
            return INF
        if self.const > room:
            return self.first_low
        if m < SCAN_BELOW:
            over = np.flatnonzero(self.reached > room)
            if not over.size:
                return INF
            t = int(over[0])
            return float(self.points[t - 1] + (room - self.reached[t - 1]) / self.slope_before[t])
        lo, hi = 0, 2 * m
        best_at, best_load = 0, self.const  # points[0] is the first floor
        while lo < hi:
            mid = (lo + hi) // 2
            at_load = self._load(mid)
            if at_load <= room:
                best_at, best_load = mid, at_load
                lo = mid + 1
            else:
                hi = mid
        if lo == 2 * m:
            return INF
        best = float(self.points[best_at])
        through = int(np.searchsorted(self.points, best, side="right"))
        lows = int(self.lows_through[through - 1])
        slope = lows - (through - lows)
        return best + (room - best_load) / slope if slope > 0 else best


def _solve_nodes(state: _State, nodes: IntArray, binding: BoolArray) -> None:
    """``levels.solve_node`` for every node in ``nodes`` (one depth, ascending)."""
    seg = _Lists(state, nodes)
    count = seg.count.reshape(-1, 4)
    c = state.const[nodes]
    spare = state.spare[nodes]
    room = state.room[nodes]
    has_tri = count[:, 0] > 0
    n_rows = nodes.size
    sets: list[tuple[IntArray, FloatArray, IntArray]] = []

    rows, phase_index = np.nonzero(binding)
    phases = phase_index + 1
    tri = has_tri[rows]
    mono = count[rows, phases] > 0
    first_seg = np.where(tri, 4 * rows, 4 * rows + phases)
    second_seg = np.where(tri & mono, 4 * rows + phases, -1)
    const_1 = np.where(
        tri, np.where(mono, c[rows, 0] + c[rows, phases], c[rows, 0]), c[rows, phases]
    )
    level_1 = seg.levels(first_seg, second_seg, const_1, room[rows, phase_index])

    # No three-phase connectors: the phases are independent.
    alone = ~tri & (level_1 < INF)
    if alone.any():
        r = rows[alone]
        sets.append((4 * r + phases[alone], level_1[alone], 3 * nodes[r] + phase_index[alone]))

    # Three-phase connectors: the first phase to fill freezes them.
    by_phase = np.full((n_rows, 3), INF)
    by_phase[rows, phase_index] = level_1
    first = np.full(n_rows, INF)
    first_phase = np.zeros(n_rows, dtype=np.int64)
    for p in (1, 2, 3):
        active = has_tri & binding[:, p - 1]
        if not active.any():
            continue
        check = np.flatnonzero(active & (first < INF))
        skip = np.zeros(n_rows, dtype=np.bool_)
        if check.size:
            at = first[check]
            total = seg.load(4 * check, c[check, 0], at)
            with_mono = count[check, p] > 0
            if with_mono.any():
                mono_load = seg.load(
                    4 * check[with_mono] + p, c[check[with_mono], p], at[with_mono]
                )
                total[with_mono] = total[with_mono] + mono_load
            skip[check] = total <= room[check, p - 1]
        better = active & ~skip & (by_phase[:, p - 1] < first)
        first[better] = by_phase[better, p - 1]
        first_phase[better] = p

    live = np.flatnonzero(has_tri & (first < INF))
    if live.size:
        at = first[live]
        chosen = first_phase[live]
        tri_load = seg.load(4 * live, c[live, 0], at)
        for p in (1, 2, 3):
            with_mono = count[live, p] > 0
            is_first = chosen == p
            empty_first = live[~with_mono & is_first]
            state.own[nodes[empty_first], p] = first[empty_first]
            state.own_by[nodes[empty_first], p] = 3 * nodes[empty_first] + p - 1
            fills = live[with_mono & is_first]
            sets.append((4 * fills + p, first[fills], 3 * nodes[fills] + p - 1))
            others = with_mono & ~is_first
            left = room[live, p - 1] - tri_load
            need = others & ~(c[live, p] + spare[live, p] <= left)
            if need.any():
                r = live[need]
                level = seg.levels(4 * r + p, np.full(r.size, -1), c[r, p], left[need])
                finite = level < INF
                r = r[finite]
                sets.append((4 * r + p, level[finite], 3 * nodes[r] + p - 1))
        sets.append((4 * live, at, 3 * nodes[live] + chosen - 1))

    _apply(state, nodes, seg, sets, np.flatnonzero(has_tri))


def _apply(
    state: _State,
    nodes: IntArray,
    seg: _Lists,
    sets: list[tuple[IntArray, FloatArray, IntArray]],
    with_tri: IntArray,
) -> None:
    """``levels._set`` for every (segment, level, constraint): the slot's level, its lists
    capped at the level, and its spare recomputed from the capped sorted lists."""
    if sets:
        segments = np.concatenate([s for s, _, _ in sets])
        levels = np.concatenate([v for _, v, _ in sets])
        constraints = np.concatenate([j for _, _, j in sets])
    else:
        segments = np.zeros(0, dtype=np.int64)
        levels = np.zeros(0)
        constraints = np.zeros(0, dtype=np.int64)
    owner = nodes[segments // 4]
    kind = segments % 4
    state.own[owner, kind] = levels
    state.own_by[owner, kind] = constraints
    cap = np.full(seg.count.size, INF)
    cap[segments] = levels
    element_cap = cap[seg.segment]
    capped_high = np.minimum(seg.sorted_high, element_cap)
    if segments.size:
        capped_low = np.minimum(seg.sorted_low, element_cap)
        width = seg.count.size
        spare = np.bincount(seg.segment, capped_high, minlength=width) - np.bincount(
            seg.segment, capped_low, minlength=width
        )
        state.spare[owner, kind] = spare[segments]
        state.low_k[seg.position] = np.minimum(seg.low, element_cap)
        state.high_k[seg.position] = np.minimum(seg.high, element_cap)
    if with_tri.size:
        last = seg.start[4 * with_tri + 1] - 1
        state.tri_top[nodes[with_tri]] = capped_high[last]


def _pushed_down(arrays: IndexArrays, state: _State) -> Pass:
    levels = state.own.copy()
    level_by = state.own_by.copy()
    for nodes, parents in reversed(arrays.depths[:-1]):
        above = levels[parents]
        lower = above < levels[nodes]
        levels[nodes] = np.where(lower, above, levels[nodes])
        level_by[nodes] = np.where(lower, level_by[parents], level_by[nodes])
    own_tri = state.own[:, 0]
    here = (level_by[:, 1:] // 3 == np.arange(arrays.node_count)[:, None]).any(axis=1)
    flag = (levels[:, 0] < own_tri) & here
    flag[0] = False
    flagged = np.flatnonzero(flag).tolist()
    gain = 0.0
    for n in flagged:
        top = float(state.tri_top[n])
        gain += (min(float(own_tri[n]), top) - float(levels[n, 0])) * int(state.count[n, 0])
    return Pass(levels, level_by, flagged, gain)


def instance_levels(
    points: FloatArray, is_low: BoolArray, lengths: IntArray, const: FloatArray, room: FloatArray
) -> FloatArray:
    """``levels._level`` of many instances: instance i owns the next ``2 * lengths[i]``
    breakpoints, sorted, ``is_low`` telling floors from ceilings."""
    count = lengths.size
    found = np.full(count, INF)
    start = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(2 * lengths, out=start[1:])
    low_start = np.cumsum(lengths) - lengths
    lows = points[is_low]
    some = lengths > 0
    first_low = lows[np.minimum(low_start, max(lows.size - 1, 0))] if lows.size else found
    at_floor = some & (const > room)
    found[at_floor] = first_low[at_floor]
    rest = some & ~at_floor
    for chosen, solver in (
        (rest & (lengths < SCAN_BELOW), _scan),
        (rest & (lengths >= SCAN_BELOW), _bisect),
    ):
        picked = np.flatnonzero(chosen)
        if picked.size:
            elements = ranges(start[picked], 2 * lengths[picked])
            found[picked] = solver(
                points[elements], is_low[elements], lengths[picked], const[picked], room[picked]
            )
    return found


def _scan(
    points: FloatArray, is_low: BoolArray, lengths: IntArray, const: FloatArray, room: FloatArray
) -> FloatArray:
    """``levels._scan``: walk the merged breakpoints. The running load is a left fold of
    the increments ``slope * (point - at)``: ``np.cumsum`` along a row, from ``const``."""
    count = lengths.size
    width = 2 * int(lengths.max())
    row = np.repeat(np.arange(count, dtype=np.int64), 2 * lengths)
    column = np.arange(points.size, dtype=np.int64) - 2 * (np.cumsum(lengths) - lengths)[row]
    grid = np.zeros((count, width))
    steps = np.zeros((count, width))
    grid[row, column] = points
    steps[row, column] = np.where(is_low, 1.0, -1.0)
    valid = np.arange(width)[None, :] < 2 * lengths[:, None]
    slope_before = np.cumsum(steps, axis=1) - steps
    increments = np.empty((count, width))
    increments[:, 0] = const
    increments[:, 1:] = np.where(
        valid[:, 1:], slope_before[:, 1:] * (grid[:, 1:] - grid[:, :-1]), 0.0
    )
    reached = np.cumsum(increments, axis=1)
    over = (reached > room[:, None]) & valid
    stops = over.any(axis=1)
    found = np.full(count, INF)
    if stops.any():
        r = np.flatnonzero(stops)
        t = over[r].argmax(axis=1)
        found[r] = grid[r, t - 1] + (room[r] - reached[r, t - 1]) / slope_before[r, t]
    return found


def _bisect(
    points: FloatArray, is_low: BoolArray, lengths: IntArray, const: FloatArray, room: FloatArray
) -> FloatArray:
    """``levels._level`` for long lists: bisection over the sorted breakpoints, the load at
    each from prefix sums. The loads of all breakpoints are computed at once (the same
    expression); the bisection then probes the same ones the scalar code probes."""
    count = lengths.size
    start = np.cumsum(lengths) - lengths
    owner = np.repeat(np.arange(count, dtype=np.int64), 2 * lengths)
    size = points.size
    sum_low = _prefix_sums(points[is_low], lengths)
    sum_high = _prefix_sums(points[~is_low], lengths)
    lows_before: IntArray = np.cumsum(is_low) - is_low
    first_of_value = np.ones(size, dtype=np.bool_)
    first_of_value[1:] = (points[1:] != points[:-1]) | (owner[1:] != owner[:-1])
    run_start = np.maximum.accumulate(np.where(first_of_value, np.arange(size), 0))
    point_start = 2 * start
    k_low: IntArray = lows_before[run_start] - lows_before[point_start][owner]
    k_high = (run_start - point_start[owner]) - k_low
    base = start[owner] + owner  # each prefix-sum run has one more entry
    load = ((const[owner] + (k_low - k_high) * points) - sum_low[base + k_low]) + sum_high[
        base + k_high
    ]
    lo = np.zeros(count, dtype=np.int64)
    hi = 2 * lengths
    best_at = point_start.copy()  # points[0] of each instance is its first floor
    best_load = const.copy()
    while True:
        active = np.flatnonzero(lo < hi)
        if not active.size:
            break
        mid = (lo[active] + hi[active]) // 2
        probe = point_start[active] + mid
        fits = load[probe] <= room[active]
        up = active[fits]
        best_at[up] = probe[fits]
        best_load[up] = load[probe[fits]]
        lo[up] = mid[fits] + 1
        hi[active[~fits]] = mid[~fits]
    best = points[best_at]
    at_most = points <= best[owner]
    slope = np.bincount(owner, at_most & is_low, minlength=count) - np.bincount(
        owner, at_most & ~is_low, minlength=count
    )
    found = np.where(slope > 0, best + (room - best_load) / np.where(slope > 0, slope, 1), best)
    found[lo == 2 * lengths] = INF
    result: FloatArray = found
    return result


def _prefix_sums(values: FloatArray, lengths: IntArray) -> FloatArray:
    """Per run of ``values``: ``[0.0, v0, v0 + v1, ...]`` (``accumulate(initial=0.0)``),
    runs concatenated; each a left fold."""
    count = lengths.size
    width = int(lengths.max()) + 1
    start = np.cumsum(lengths) - lengths
    grid = np.zeros((count, width))
    owner = np.repeat(np.arange(count, dtype=np.int64), lengths)
    column = np.arange(values.size, dtype=np.int64) - start[owner] + 1
    grid[owner, column] = values
    sums = np.cumsum(grid, axis=1)
    keep = np.arange(width)[None, :] <= lengths[:, None]
    flat: FloatArray = sums[keep]
    return flat

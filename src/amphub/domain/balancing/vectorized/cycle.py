"""``allocate`` for large groups: the scalar allocator's steps over numpy arrays.

Each step mirrors its scalar counterpart (``ceilings``, ``rotation``, ``waterfill``,
``allocate``): same comparisons, same floats, same tie-breaks, so that both decide the same
(``tests/unit/balancing/test_vectorized.py`` runs both on random groups). What is new:

- times are compared as integer microseconds since the epoch (exact, as the datetimes are);
- the previous cycle's memory comes back as arrays (``Carried``, kept inside the
  ``BalancerMemory`` this function returns) instead of 10,000 mapping look-ups;
- decisions, memories and the mappings handed out are copied from the previous cycle and
  only the connectors whose values changed are rebuilt.

The few steps that are sequential by nature (the admission order of a crowded constraint,
the small cuts kept under the threshold) run in Python over the connectors concerned only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress
from operator import attrgetter, is_
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from amphub.domain.balancing.available import available_and_room
from amphub.domain.balancing.decision import (
    FORGOTTEN,
    NO_VEHICLE,
    Allocation,
    AvailableCurrents,
    BalancerMemory,
    Binding,
    ConnectorDecision,
    ConnectorMemory,
)
from amphub.domain.balancing.index import GroupIndex
from amphub.domain.balancing.model import (
    BalancingGroup,
    BalancingInput,
    ConnectorKey,
    ConnectorLive,
    VehicleState,
)
from amphub.domain.balancing.rotation import admit_in_turn
from amphub.domain.balancing.settings import BalancerSettings
from amphub.domain.balancing.vectorized.arrays import (
    BoolArray,
    FloatArray,
    IndexArrays,
    IntArray,
    constraint_loads,
)
from amphub.domain.balancing.vectorized.fill import Passes, PassKey, share
from amphub.domain.balancing.vectorized.levels import Solved, ranges
from amphub.domain.units import PHASES

Int8Array = npt.NDArray[np.int8]
BINDINGS: tuple[Binding, ...] = tuple(Binding)
CODE = {binding: code for code, binding in enumerate(BINDINGS)}
NO_TIME = int(np.iinfo(np.int64).min)
"""A time that is None."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_STATE = {VehicleState.IDLE: 0, VehicleState.CHARGING: 1, VehicleState.SUSPENDED_EV: 2}
_CHARGING = 1
_SUSPENDED = 2
_FIT_EPSILON_A = 1e-9
_HOLD_EPSILON_A = 1e-9
_FROM_NOW = 1
_FROM_BASE = 2
"""Where a remembered time comes from: 0 none, now, or the connector's previous memory."""

_T = TypeVar("_T")
_state_of = attrgetter("state")
_since_of = attrgetter("state_since")
_l1_of = attrgetter("measured.l1_a")
_l2_of = attrgetter("measured.l2_a")
_l3_of = attrgetter("measured.l3_a")


def micros(moment: datetime | None) -> int:
    """Microseconds since the epoch, exactly (``NO_TIME`` for None)."""
    if moment is None:
        return NO_TIME
    delta = moment - (_EPOCH if moment.tzinfo is not None else _NAIVE_EPOCH)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True, eq=False)
class Carried:
    """A cycle's result as arrays, for the next cycle of the same group (same index)."""

    index: GroupIndex
    limit_a: FloatArray
    switched_us: IntArray
    increased_us: IntArray
    under_us: IntArray
    lending_us: IntArray
    binding: IntArray
    """Code of each decision's binding (-1: unknown, so never equal)."""
    constraint: IntArray
    details: dict[int, str]
    """The non-empty decision details, by connector number."""
    decisions: list[ConnectorDecision]
    memories: list[ConnectorMemory]
    limits_by_key: dict[ConnectorKey, float] | None
    decisions_by_key: dict[ConnectorKey, ConnectorDecision] | None
    memories_by_key: dict[ConnectorKey, ConnectorMemory] | None
    passes: dict[PassKey, Solved]
    """The water-level passes of the cycle, for the next one to reuse unchanged subtrees."""
    world: _World | None
    """What the snapshot said, for the next cycle to read only what changed."""


def allocate_vectorized(
    group: BalancingGroup,
    snapshot: BalancingInput,
    memory: BalancerMemory,
    now: datetime,
    settings: BalancerSettings,
) -> Allocation:
    """``allocate.allocate``, computed over arrays (the same result)."""
    index = group.index
    arrays = group.arrays
    available, room_list = available_and_room(group, snapshot, now)
    room = np.array(room_list)
    carried = memory.carried
    before = carried if carried is not None and carried.index is index else _carried(index, memory)
    world = _World(index, arrays, snapshot, before.world)
    start = _ceilings(arrays, world, before, now, settings)
    running, pause_binding, pause_constraint = _select_running(
        index, arrays, world, start, before, room, room_list, now, settings
    )
    passes = Passes(arrays, before.passes)
    shares, stopped = share(arrays, running, start.ceiling_a, room, settings.resolution_a, passes)
    limits = _rounded(arrays, running, shares, settings.resolution_a)
    held = _hold_small_changes(
        index, arrays, running, limits, start, before, room_list, settings.change_threshold_a
    )
    binding = start.decided.copy()
    constraint = np.full(arrays.connector_count, -1, dtype=np.int64)
    paused = pause_binding >= 0
    binding[paused] = pause_binding[paused]
    constraint[paused] = pause_constraint[paused]
    stop = stopped[running]
    group_limit = CODE[Binding.FAIL_SAFE if available.fail_safe else Binding.GROUP_LIMIT]
    binding[running] = np.where(
        held[running],
        CODE[Binding.BELOW_THRESHOLD],
        np.where(
            stop >= 0,
            np.where(stop < 3, group_limit, CODE[Binding.GROUP_LIMIT]),
            start.ceiling_by[running],
        ),
    )
    constraint[running] = np.where(held[running] | (stop < 0), -1, stop)
    details = {
        i: reason
        for i, reason in world.cap_reasons.items()
        if binding[i] == CODE[Binding.EXTERNAL_CAP]
    }
    return _result(
        index, before, start, limits, binding, constraint, details, available, now, passes, world
    )


class _World:
    """What the snapshot says about each connector, in index order. Read again only for
    the connectors whose ``ConnectorLive`` is not the very object of the previous cycle
    (the controller keeps the object while nothing about the connector changes)."""

    def __init__(
        self,
        index: GroupIndex,
        arrays: IndexArrays,
        snapshot: BalancingInput,
        previous: _World | None,
    ) -> None:
        n = arrays.connector_count
        lives: list[ConnectorLive | None] = list(map(snapshot.connectors.get, index.keys))
        self.lives = lives
        self.kind = arrays.kind
        if previous is None:
            fresh = np.arange(n, dtype=np.int64)
            self.state = np.zeros(n, dtype=np.int8)
            self.l1_a = np.zeros(n)
            self.since_us = np.full(n, NO_TIME, dtype=np.int64)
        else:
            kept = np.fromiter(map(is_, lives, previous.lives), dtype=np.bool_, count=n)
            fresh = np.flatnonzero(~kept)
            self.state = previous.state.copy()
            self.l1_a = previous.l1_a.copy()
            self.since_us = previous.since_us.copy()
        if fresh.size:
            changed = [lives[i] for i in fresh.tolist()]
            present_list = [live is not None for live in changed]
            present = np.fromiter(present_list, dtype=np.bool_, count=fresh.size)
            found: list[ConnectorLive] = list(compress(changed, present_list))  # type: ignore[arg-type]
            count = len(found)
            at = fresh[present]
            self.state[fresh] = 0
            self.state[at] = np.fromiter(
                map(_STATE.__getitem__, map(_state_of, found)), dtype=np.int8, count=count
            )
            self.l1_a[fresh] = 0.0
            self.l1_a[at] = np.fromiter(map(_l1_of, found), dtype=np.float64, count=count)
            self.since_us[fresh] = NO_TIME
            self.since_us[at] = np.fromiter(
                map(micros, map(_since_of, found)), dtype=np.int64, count=count
            )
        self.cap_a = np.zeros(n)
        self.has_cap = np.zeros(n, dtype=np.bool_)
        self.cap_reasons: dict[int, str] = {}
        position = index.position
        for key, cap in snapshot.caps.items():
            i = position.get(key)
            if i is None:
                continue
            self.cap_a[i] = cap.cap_a
            self.has_cap[i] = True
            self.cap_reasons[i] = cap.reason

    def draw(self, connectors: IntArray) -> FloatArray:
        """What each of ``connectors`` (all present) draws: the charger's L1 for a
        single-phase one, the highest of its phases for a three-phase one."""
        draw = self.l1_a[connectors]
        three = np.flatnonzero(self.kind[connectors] == 0)
        if three.size:
            lives = self.lives
            found = [lives[i] for i in connectors[three].tolist()]
            l2 = np.fromiter(map(_l2_of, found), dtype=np.float64, count=len(found))
            l3 = np.fromiter(map(_l3_of, found), dtype=np.float64, count=len(found))
            draw[three] = np.maximum(np.maximum(draw[three], l2), l3)
        return draw


def _carried(index: GroupIndex, memory: BalancerMemory) -> Carried:
    """``Carried`` read from the mappings (a memory made by hand or by the scalar path)."""
    keys = index.keys
    decisions = [memory.decisions.get(key, NO_VEHICLE) for key in keys]
    memories = [memory.connectors.get(key, FORGOTTEN) for key in keys]
    limit_a = np.array([memory.limit_a(key) for key in keys], dtype=np.float64)

    def times(name: str) -> IntArray:
        return np.array([micros(getattr(m, name)) for m in memories], dtype=np.int64)

    n = len(keys)
    return Carried(
        index=index,
        limit_a=limit_a.reshape(n),
        switched_us=times("switched_at").reshape(n),
        increased_us=times("increased_at").reshape(n),
        under_us=times("under_draw_since").reshape(n),
        lending_us=times("lending_since").reshape(n),
        binding=np.full(n, -1, dtype=np.int64),
        constraint=np.full(n, -1, dtype=np.int64),
        details={},
        decisions=decisions,
        memories=memories,
        limits_by_key=None,
        decisions_by_key=None,
        memories_by_key=None,
        passes={},
        world=None,
    )


@dataclass(frozen=True, slots=True)
class _Start:
    """``ceilings.Ceilings`` as arrays, with where the remembered times come from."""

    wants: Int8Array
    ceiling_a: FloatArray
    ceiling_by: IntArray
    decided: IntArray
    """Binding code of a connector decided before sharing (no vehicle, capped to 0), else -1."""
    under_us: IntArray
    under_from: Int8Array
    lending_us: IntArray
    lending_from: Int8Array


def _ceilings(
    arrays: IndexArrays,
    world: _World,
    before: Carried,
    now: datetime,
    settings: BalancerSettings,
) -> _Start:
    """``ceilings.ceilings``."""
    n = arrays.connector_count
    previous = before.limit_a
    low = arrays.min_a
    now_us = micros(now)
    decided = np.full(n, -1, dtype=np.int64)
    idle = world.state == 0
    decided[idle] = CODE[Binding.NO_VEHICLE]
    capped_off = ~idle & world.has_cap & (world.cap_a < low)
    decided[capped_off] = CODE[Binding.EXTERNAL_CAP]
    active = decided < 0

    top = arrays.max_a.copy()
    by = np.full(n, CODE[Binding.CONNECTOR_MAX], dtype=np.int64)
    capped = active & world.has_cap & (world.cap_a < top)
    top[capped] = world.cap_a[capped]
    by[capped] = CODE[Binding.EXTERNAL_CAP]

    suspended = active & (world.state == _SUSPENDED)
    charging = active & (world.state == _CHARGING)
    wants = np.where(suspended, 2, np.where(charging, 1, 0)).astype(np.int8)
    lowered = suspended & (low < top)
    top[lowered] = low[lowered]
    by[lowered] = CODE[Binding.EV_SUSPENDED]

    # Lending.
    under_us = np.full(n, NO_TIME, dtype=np.int64)
    under_from = np.zeros(n, dtype=np.int8)
    lending_us = np.full(n, NO_TIME, dtype=np.int64)
    lending_from = np.zeros(n, dtype=np.int8)
    # A three-phase car draws at least its L1: only those below on L1 may draw less.
    below_limit = previous - settings.underdraw_tolerance_a
    maybe = np.flatnonzero(charging & (previous > 0.0) & (world.l1_a < below_limit))
    draw = np.zeros(n)
    draw[maybe] = world.draw(maybe)
    under = maybe[draw[maybe] < below_limit[maybe]]
    if under.size:
        lend_start = now - settings.lend_after
        lend_start_us = micros(lend_start)
        base_since = before.under_us[under]
        had_since = base_since != NO_TIME
        since_us = np.where(had_since, base_since, now_us)
        since_from = np.where(had_since, _FROM_BASE, _FROM_NOW).astype(np.int8)
        long_enough = (since_us <= lend_start_us) & (world.since_us[under] <= lend_start_us)
        base_lent = before.lending_us[under]
        had_lent = base_lent != NO_TIME
        lent_us = np.where(had_lent, base_lent, now_us)
        probe = long_enough & (lent_us <= micros(now - settings.probe_interval))
        since_us[probe] = now_us
        since_from[probe] = _FROM_NOW
        lends = long_enough & ~probe
        lender = under[lends]
        lending_us[lender] = lent_us[lends]
        lending_from[lender] = np.where(had_lent[lends], _FROM_BASE, _FROM_NOW)
        keep = np.maximum(low[lender], draw[lender] + settings.lend_margin_a)
        lowers = keep < top[lender]
        top[lender[lowers]] = keep[lowers]
        by[lender[lowers]] = CODE[Binding.EV_DRAW]
        under_us[under] = since_us
        under_from[under] = since_from

    # Damping.
    step = settings.max_increase_step_a
    raised = before.increased_us
    recently = (raised != NO_TIME) & (raised > micros(now - settings.increase_interval))
    damped = np.where(previous > 0.0, np.where(recently, previous, previous + step), step)
    damped = np.where(damped < low, low, damped)
    slower = active & (damped < top)
    top[slower] = damped[slower]
    by[slower] = CODE[Binding.DAMPED_INCREASE]

    return _Start(
        wants=wants,
        ceiling_a=np.where(active, top, 0.0),
        ceiling_by=np.where(active, by, CODE[Binding.CONNECTOR_MAX]),
        decided=decided,
        under_us=under_us,
        under_from=under_from,
        lending_us=lending_us,
        lending_from=lending_from,
    )


def _select_running(
    index: GroupIndex,
    arrays: IndexArrays,
    world: _World,
    start: _Start,
    before: Carried,
    room: FloatArray,
    room_list: list[float],
    now: datetime,
    settings: BalancerSettings,
) -> tuple[IntArray, IntArray, IntArray]:
    """``rotation.select_running``: the running connectors (ascending), and per connector
    the code of its pause binding (-1: not paused) and the constraint it did not fit on."""
    n = arrays.connector_count
    previous = before.limit_a
    switched = before.switched_us
    pause_binding = np.full(n, -1, dtype=np.int64)
    pause_constraint = np.full(n, -1, dtype=np.int64)
    wants = start.wants > 0
    resting = (
        wants
        & (previous == 0.0)
        & (switched != NO_TIME)
        & (switched > micros(now - settings.min_off_time))
    )
    pause_binding[resting] = CODE[Binding.PAUSED_MIN_OFF_TIME]
    candidate = wants & ~resting
    candidates = np.flatnonzero(candidate)
    demand = constraint_loads(arrays, candidates, arrays.min_a[candidates])
    crowded = demand > room + _FIT_EPSILON_A
    if not crowded.any():
        return candidates, pause_binding, pause_constraint

    # Only cars loading a crowded constraint compete; the others all fit whatever happens.
    contested = _loading(arrays, np.flatnonzero(crowded)) & candidate
    competing = np.flatnonzero(contested)
    previous_list = dict(zip(competing.tolist(), previous[competing].tolist(), strict=True))
    on_start = now - settings.min_on_time
    order = sorted(
        previous_list, key=_turn_key(index, world, start, before, previous_list, on_start)
    )
    left = {j: room_list[j] for j in np.flatnonzero(crowded).tolist()}
    admitted, turns = admit_in_turn(order, index, left, previous_list, before.memories, on_start)
    for i, (binding, blocked) in turns.items():
        pause_binding[i] = CODE[binding]
        pause_constraint[i] = blocked
    running = candidate & ~contested
    running[admitted] = True
    return np.flatnonzero(running), pause_binding, pause_constraint


def _loading(arrays: IndexArrays, constraints: IntArray) -> BoolArray:
    """Per connector: whether it loads any of ``constraints`` (its node's subtree, three-phase
    or single-phase on that phase)."""
    nodes = constraints // 3
    kinds = np.stack((np.zeros_like(nodes), constraints % 3 + 1), axis=1)
    starts = arrays.sub_start[nodes[:, None], kinds].reshape(-1)
    stops = arrays.sub_stop[nodes[:, None], kinds].reshape(-1)
    loading = np.zeros(arrays.connector_count, dtype=np.bool_)
    loading[arrays.by_kind[ranges(starts, stops - starts)]] = True
    return loading


def _turn_key(
    index: GroupIndex,
    world: _World,
    start: _Start,
    before: Carried,
    previous: dict[int, float],
    on_start: datetime,
) -> Callable[[int], tuple[bool, int, int, float, int]]:
    """``rotation._turn_key``."""
    memories = before.memories
    wants = start.wants
    lives = world.lives
    priority = index.priority

    def key(i: int) -> tuple[bool, int, int, float, int]:
        switched = memories[i].switched_at
        if previous[i] > 0.0:
            if switched is not None and switched > on_start:
                group, moment = 0, -switched.timestamp()
            else:
                group = 2
                moment = math.inf if switched is None else -switched.timestamp()
        else:
            live = lives[i]
            assert live is not None
            since = switched or live.session_start or live.state_since
            group, moment = 1, since.timestamp()
        return (bool(wants[i] == _SUSPENDED), -priority[i], group, moment, i)

    return key


def _rounded(
    arrays: IndexArrays, running: IntArray, shares: FloatArray, resolution_a: float
) -> FloatArray:
    """``allocate._rounded``."""
    limits = np.zeros(arrays.connector_count)
    steps = 1.0 / resolution_a
    share_a = shares[running]
    stepped = np.trunc(share_a * steps + 1e-9) / steps
    stepped = np.where(stepped > share_a, share_a, stepped)
    low = arrays.min_a[running]
    limits[running] = np.where(stepped > low, stepped, low)
    return limits


def _hold_small_changes(
    index: GroupIndex,
    arrays: IndexArrays,
    running: IntArray,
    limits: FloatArray,
    start: _Start,
    before: Carried,
    room_list: list[float],
    threshold_a: float,
) -> BoolArray:
    """``allocate._hold_small_changes``: which connectors keep their previous limit
    (``limits`` updated in place)."""
    held = np.zeros(arrays.connector_count, dtype=np.bool_)
    previous = before.limit_a[running]
    limit = limits[running]
    small = (
        ~(previous < arrays.min_a[running])
        & (limit != previous)
        & ~(np.abs(limit - previous) >= threshold_a)
    )
    rises = small & ~(limit < previous)
    kept = running[rises]
    limits[kept] = previous[rises]
    held[kept] = True
    cuts = running[small & (limit < previous) & (previous <= start.ceiling_a[running])]
    if cuts.size:
        loads = constraint_loads(arrays, running, limits[running]).tolist()
        paths = index.paths
        previous_all = before.limit_a
        for i in cuts.tolist():
            previous_a = float(previous_all[i])
            extra = previous_a - float(limits[i])
            path = paths[i]
            if all(loads[j] + extra <= room_list[j] + _HOLD_EPSILON_A for j in path):
                for j in path:
                    loads[j] += extra
                limits[i] = previous_a
                held[i] = True
    return held


def _result(
    index: GroupIndex,
    before: Carried,
    start: _Start,
    limits: FloatArray,
    binding: IntArray,
    constraint: IntArray,
    details: dict[int, str],
    available: AvailableCurrents,
    now: datetime,
    passes: Passes,
    world: _World,
) -> Allocation:
    """Decisions and memories, rebuilt only where their values changed; the mappings
    copied from the previous cycle's and updated."""
    keys = index.keys
    node_ids = index.node_ids
    same = (
        (limits == before.limit_a) & (binding == before.binding) & (constraint == before.constraint)
    )
    for i in details.keys() | before.details.keys():
        if details.get(i, "") != before.details.get(i, ""):
            same[i] = False
    decisions = list(before.decisions)
    changed_decisions = np.flatnonzero(~same).tolist()
    no_vehicle = CODE[Binding.NO_VEHICLE]
    for i in changed_decisions:
        code = int(binding[i])
        j = int(constraint[i])
        limit_a = float(limits[i])
        if code == no_vehicle:
            decisions[i] = NO_VEHICLE
        elif j < 0:
            decisions[i] = ConnectorDecision(limit_a, BINDINGS[code], detail=details.get(i, ""))
        else:
            decisions[i] = ConnectorDecision(
                limit_a, BINDINGS[code], node_ids[j // 3], PHASES[j % 3], details.get(i, "")
            )

    idle = start.decided == no_vehicle
    previous = before.limit_a
    now_us = micros(now)
    switched = (previous > 0.0) != (limits > 0.0)
    increased = limits > previous
    switched_us = np.where(switched, now_us, before.switched_us)
    increased_us = np.where(increased, now_us, before.increased_us)
    switched_us[idle] = NO_TIME
    increased_us[idle] = NO_TIME
    changed = (
        (switched_us != before.switched_us)
        | (increased_us != before.increased_us)
        | (start.under_us != before.under_us)
        | (start.lending_us != before.lending_us)
    )
    memories = list(before.memories)
    changed_memories = np.flatnonzero(changed).tolist()
    for i in changed_memories:
        if idle[i]:
            memories[i] = FORGOTTEN
            continue
        base = memories[i]
        memories[i] = ConnectorMemory(
            now if switched[i] else base.switched_at,
            now if increased[i] else base.increased_at,
            _time(start.under_from[i], now, base.under_draw_since),
            _time(start.lending_from[i], now, base.lending_since),
        )

    changed_limits = np.flatnonzero(limits != previous).tolist()
    limits_by_key = _updated(
        before.limits_by_key,
        keys,
        dict(zip(changed_limits, limits[changed_limits].tolist(), strict=True))
        if before.limits_by_key is not None
        else limits.tolist(),
        changed_limits,
    )
    decisions_by_key = _updated(before.decisions_by_key, keys, decisions, changed_decisions)
    memories_by_key = _updated(before.memories_by_key, keys, memories, changed_memories)
    carried = Carried(
        index=index,
        limit_a=limits,
        switched_us=switched_us,
        increased_us=increased_us,
        under_us=start.under_us,
        lending_us=start.lending_us,
        binding=binding,
        constraint=constraint,
        details=details,
        decisions=decisions,
        memories=memories,
        limits_by_key=limits_by_key,
        decisions_by_key=decisions_by_key,
        memories_by_key=memories_by_key,
        passes=passes.current,
        world=world,
    )
    memory = BalancerMemory(connectors=memories_by_key, decisions=decisions_by_key)
    object.__setattr__(memory, "carried", carried)
    return Allocation(
        limits_a=limits_by_key, decisions=decisions_by_key, available=available, memory=memory
    )


def _time(source: int, now: datetime, base: datetime | None) -> datetime | None:
    if source == _FROM_NOW:
        return now
    if source == _FROM_BASE:
        return base
    return None


def _updated(
    previous: dict[ConnectorKey, _T] | None,
    keys: tuple[ConnectorKey, ...],
    values: Sequence[_T] | Mapping[int, _T],
    changed: list[int],
) -> dict[ConnectorKey, _T]:
    """The previous mapping with the changed entries replaced, or a new one (``values``:
    all of them, or at least the changed ones by connector number). The previous mapping
    itself when nothing changed: these mappings are values, shared, never mutated."""
    if previous is None:
        return dict(zip(keys, values, strict=True))  # type: ignore[arg-type]
    if not changed:
        return previous
    updated = previous.copy()
    for i in changed:
        updated[keys[i]] = values[i]
    return updated

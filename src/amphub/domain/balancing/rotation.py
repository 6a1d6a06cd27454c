"""Who runs when not every car can have its minimum: pausing, and taking turns.

When the minimums of all the cars that want current fit on every constraint, everyone runs.
Otherwise cars are admitted one by one, each only if its minimum still fits on every
constraint of its path, in this order:

1. cars that want current before cars whose EV declines it (they only use spare minimums);
2. higher priority first;
3. within a priority: cars that started less than ``min_on_time`` ago (they are protected
   from a pause unless the fuse forces it), then waiting cars whose ``min_off_time`` is over
   (longest waiting first), then cars that have run their minimum on-time (the most recently
   started first, so the longest-running car is the first to pause);
4. finally the tree order, so the choice is deterministic.

A car the balancer paused less than ``min_off_time`` ago is not a candidate at all: it stays
off even if room appears, so contactors and cars are not switched on and off in quick
succession. Together, waiting cars taking the place of cars that have run their minimum
on-time make the pause rotate: nobody waits for ever.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from amphub.domain.balancing.ceilings import EV_SUSPENDED, Ceilings
from amphub.domain.balancing.decision import Binding, ConnectorMemory
from amphub.domain.balancing.index import GroupIndex, constraint_loads
from amphub.domain.balancing.model import BalancingInput
from amphub.domain.balancing.settings import BalancerSettings

_FIT_EPSILON_A = 1e-9

_PROTECTED = 0
_WAITING = 1
_ROTATABLE = 2


@dataclass(frozen=True, slots=True)
class Pause:
    binding: Binding
    constraint: int
    """The constraint the car's minimum did not fit on; -1 for PAUSED_MIN_OFF_TIME."""


def select_running(
    index: GroupIndex,
    ceilings: Ceilings,
    snapshot: BalancingInput,
    room: Sequence[float],
    now: datetime,
    settings: BalancerSettings,
) -> tuple[list[int], dict[int, Pause]]:
    """The connectors that run (at least their minimum) and why the others pause."""
    previous_a = ceilings.previous_a
    memories = ceilings.memories
    off_start = now - settings.min_off_time
    candidates: list[int] = []
    paused: dict[int, Pause] = {}
    for i, wants in enumerate(ceilings.wants):
        if not wants:
            continue
        switched = memories[i].switched_at
        if previous_a[i] == 0.0 and switched is not None and switched > off_start:
            paused[i] = Pause(Binding.PAUSED_MIN_OFF_TIME, -1)
        else:
            candidates.append(i)

    min_a = index.min_a
    demand = constraint_loads(index, candidates, min_a)
    crowded = {
        j for j, (d, r) in enumerate(zip(demand, room, strict=True)) if d > r + _FIT_EPSILON_A
    }
    if not crowded:
        return candidates, paused

    # Only cars loading a crowded constraint compete; the others all fit whatever happens.
    contested: set[int] = set()
    for j in crowded:
        contested.update(index.members[j])
    running = [i for i in candidates if i not in contested]
    contested.intersection_update(candidates)
    order = sorted(contested, key=_turn_key(index, ceilings, snapshot, now, settings))
    left = {j: room[j] for j in crowded}
    admitted, turns = admit_in_turn(
        order, index, left, previous_a, memories, now - settings.min_on_time
    )
    running.extend(admitted)
    paused.update((i, Pause(binding, blocked)) for i, (binding, blocked) in turns.items())
    running.sort()
    return running, paused


def admit_in_turn(
    order: Sequence[int],
    index: GroupIndex,
    left: dict[int, float],
    previous_a: Mapping[int, float] | Sequence[float],
    memories: Sequence[ConnectorMemory],
    on_start: datetime,
) -> tuple[list[int], dict[int, tuple[Binding, int]]]:
    """Admit contested cars in ``order`` while their minimum fits every crowded constraint
    on their path (``left``: room per crowded constraint, used up as cars are admitted).
    Returns the admitted cars and, for the others, why they pause and the constraint that
    blocked them: rotation when a waiting car got in and this one has run its minimum on
    time, no capacity otherwise. Shared by the scalar and the vectorised cycle."""
    paths = index.paths
    min_a = index.min_a
    admitted: list[int] = []
    turns: dict[int, int] = {}
    waiting_admitted = False
    for i in order:
        need = min_a[i]
        path = [j for j in paths[i] if j in left]
        blocked = next((j for j in path if left[j] + _FIT_EPSILON_A < need), -1)
        if blocked >= 0:
            turns[i] = blocked
            continue
        for j in path:
            left[j] -= need
        admitted.append(i)
        if previous_a[i] == 0.0:
            waiting_admitted = True
    pauses: dict[int, tuple[Binding, int]] = {}
    for i, blocked in turns.items():
        switched = memories[i].switched_at
        rotated = (
            waiting_admitted and previous_a[i] > 0.0 and (switched is None or switched <= on_start)
        )
        binding = Binding.PAUSED_FOR_ROTATION if rotated else Binding.PAUSED_NO_CAPACITY
        pauses[i] = (binding, blocked)
    return admitted, pauses


def _turn_key(
    index: GroupIndex,
    ceilings: Ceilings,
    snapshot: BalancingInput,
    now: datetime,
    settings: BalancerSettings,
) -> Callable[[int], tuple[bool, int, int, float, int]]:
    """The admission order of the module docstring, as a sort key."""
    previous_a = ceilings.previous_a
    memories = ceilings.memories
    wants = ceilings.wants
    lives = snapshot.connectors
    keys = index.keys
    priority = index.priority
    on_start = now - settings.min_on_time

    def key(i: int) -> tuple[bool, int, int, float, int]:
        switched = memories[i].switched_at
        if previous_a[i] > 0.0:
            if switched is not None and switched > on_start:
                group, moment = _PROTECTED, -switched.timestamp()
            else:
                group = _ROTATABLE
                moment = math.inf if switched is None else -switched.timestamp()
        else:
            live = lives[keys[i]]
            since = switched or live.session_start or live.state_since
            group, moment = _WAITING, since.timestamp()
        return (wants[i] == EV_SUSPENDED, -priority[i], group, moment, i)

    return key

"""Which limits to send now, so that what the chargers *run on* never breaks the invariant.

The allocator's limits are intentions. A charger runs on the last limit it acknowledged,
and one whose answer is pending, rejected or timed out may be running on either its old or
its new limit. So each charger counts at its *worst case*: the higher of the limit it
acknowledged and the one last attempted. Then:

- decreases (a target below the worst case) go out at once;
- increases wait until no decrease is outstanding anywhere in the group (every charger at or
  below its target), and then go out only while the worst case of every charger, with the
  increases counted at their new limits, fits every node's available current;
- a charger with a call in flight gets nothing new until it answers (OCPP-J allows one
  outstanding call per direction); a failed one is retried after ``retry_after``.

A charger that keeps rejecting a decrease therefore holds every increase in its group back:
the controller should notice (``held``) and act.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from amphub.domain.balancing.index import constraint_loads
from amphub.domain.balancing.invariant import TOLERANCE_A, flat_room
from amphub.domain.balancing.model import BalancingGroup, ConnectorKey
from amphub.domain.units import Phase, PhaseCurrents

_SAME_A = 1e-9


class DeliveryStatus(StrEnum):
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_FLIGHT = "IN_FLIGHT"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where one connector's limit stands with its charger."""

    acknowledged_a: float
    """The limit the charger last accepted. Before any: what it runs on without amphub
    (its standing fail-safe profile, or its maximum)."""
    attempted_a: float | None = None
    """The last limit sent that the charger has not acknowledged (None when acknowledged)."""
    status: DeliveryStatus = DeliveryStatus.ACKNOWLEDGED
    attempted_at: datetime | None = None

    @property
    def worst_case_a(self) -> float:
        """The highest limit the charger may be running on."""
        if self.attempted_a is None or self.status is DeliveryStatus.ACKNOWLEDGED:
            return self.acknowledged_a
        return max(self.acknowledged_a, self.attempted_a)


class HoldReason(StrEnum):
    IN_FLIGHT = "IN_FLIGHT"
    """The charger has not answered the last call yet."""
    RETRY_LATER = "RETRY_LATER"
    """The last attempt failed less than ``retry_after`` ago."""
    DECREASES_OUTSTANDING = "DECREASES_OUTSTANDING"
    """An increase waits for every decrease in the group to be acknowledged."""
    WOULD_EXCEED = "WOULD_EXCEED"
    """An increase would break the invariant at ``node_id`` on ``phase`` (worst case)."""


@dataclass(frozen=True, slots=True)
class Hold:
    reason: HoldReason
    node_id: str | None = None
    phase: Phase | None = None


@dataclass(frozen=True, slots=True)
class DispatchPlan:
    """What to send now and what waits. Decreases or increases, never both: while a
    decrease is outstanding no increase may go."""

    decreases: tuple[tuple[ConnectorKey, float], ...]
    increases: tuple[tuple[ConnectorKey, float], ...]
    held: Mapping[ConnectorKey, Hold]

    @property
    def sends(self) -> tuple[tuple[ConnectorKey, float], ...]:
        """Everything to send now, in order."""
        return self.decreases + self.increases


def worst_case_limits(
    group: BalancingGroup, deliveries: Mapping[ConnectorKey, Delivery]
) -> dict[ConnectorKey, float]:
    """Per connector, the highest limit its charger may be running on. A connector with no
    delivery record counts at its maximum: amphub cannot know better."""
    return {
        config.key: _delivery(deliveries, config.key, config.max_a).worst_case_a
        for config in group.index.configs
    }


def plan_dispatch(
    group: BalancingGroup,
    intended_a: Mapping[ConnectorKey, float],
    deliveries: Mapping[ConnectorKey, Delivery],
    available_a: Mapping[str, PhaseCurrents],
    now: datetime,
    retry_after: timedelta = timedelta(seconds=30),
) -> DispatchPlan:
    """Decide what to send now (see the module docstring).

    ``intended_a``: the allocation's limits (connectors absent keep what they have);
    ``available_a``: per node id, the latest available currents (``Allocation.available``).
    """
    index = group.index
    worst = [0.0] * len(index.keys)
    decreases: list[tuple[ConnectorKey, float]] = []
    increases: list[tuple[int, float]] = []
    held: dict[ConnectorKey, Hold] = {}
    outstanding = False
    retry_start = now - retry_after
    for i, config in enumerate(index.configs):
        key = config.key
        delivery = _delivery(deliveries, key, config.max_a)
        worst[i] = delivery.worst_case_a
        target = intended_a.get(key)
        if target is None:
            continue
        if target < worst[i] - _SAME_A:
            outstanding = True
        status = delivery.status
        if status is DeliveryStatus.ACKNOWLEDGED:
            if abs(target - delivery.acknowledged_a) <= _SAME_A:
                continue
        elif status is DeliveryStatus.IN_FLIGHT:
            if delivery.attempted_a is None or abs(target - delivery.attempted_a) > _SAME_A:
                held[key] = Hold(HoldReason.IN_FLIGHT)
            continue
        elif delivery.attempted_at is not None and delivery.attempted_at > retry_start:
            held[key] = Hold(HoldReason.RETRY_LATER)
            continue
        if target < worst[i] - _SAME_A:
            decreases.append((key, target))
        else:
            increases.append((i, target))

    if outstanding:
        for i, _ in increases:
            held[index.keys[i]] = Hold(HoldReason.DECREASES_OUTSTANDING)
        return DispatchPlan(tuple(decreases), (), held)

    loads = constraint_loads(index, range(len(worst)), worst)
    room = flat_room(group, available_a)
    paths = index.paths
    sends: list[tuple[ConnectorKey, float]] = []
    for i, target in increases:
        extra = target - worst[i]
        blocked = next((j for j in paths[i] if loads[j] + extra > room[j] + TOLERANCE_A), -1)
        if blocked >= 0:
            held[index.keys[i]] = Hold(
                HoldReason.WOULD_EXCEED, index.node_ids[blocked // 3], Phase(blocked % 3 + 1)
            )
            continue
        for j in paths[i]:
            loads[j] += extra
        sends.append((index.keys[i], target))
    return DispatchPlan((), tuple(sends), held)


def _delivery(
    deliveries: Mapping[ConnectorKey, Delivery], key: ConnectorKey, max_a: float
) -> Delivery:
    delivery = deliveries.get(key)
    return Delivery(max_a) if delivery is None else delivery

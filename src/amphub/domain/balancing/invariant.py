"""The hard rules, checkable on any set of limits: for tests, the controller and the simulator.

On every phase of every node, the limits of the connectors below it add up to at most the
node's available current: a three-phase connector counts its limit on all three grid
phases, a single-phase one only on the grid phase its charger L1 is wired to. And each
limit is 0 or within the connector's [min, max].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from amphub.domain.balancing.index import constraint_loads
from amphub.domain.balancing.model import BalancingGroup, ConnectorKey
from amphub.domain.errors import InvalidValue
from amphub.domain.units import Phase, PhaseCurrents

TOLERANCE_A = 1e-6
"""Floating-point slack of the checks: a micro-ampere is not a current anyone can draw."""


@dataclass(frozen=True, slots=True)
class Violation:
    node_id: str
    phase: Phase
    load_a: float
    available_a: float


def flat_limits(group: BalancingGroup, limits_a: Mapping[ConnectorKey, float]) -> list[float]:
    """Limits in index order; connectors absent from ``limits_a`` count as 0."""
    position = group.index.position
    flat = [0.0] * len(group.index.keys)
    for key, limit in limits_a.items():
        i = position.get(key)
        if i is None:
            raise InvalidValue("limits_a", f"connector {key} is not in the group")
        flat[i] = limit
    return flat


def flat_room(group: BalancingGroup, available_a: Mapping[str, PhaseCurrents]) -> list[float]:
    """Available current per constraint (node, phase) in index order."""
    room: list[float] = []
    for node_id in group.index.node_ids:
        room.extend(available_a[node_id].as_tuple())
    return room


def loads_by_node(
    group: BalancingGroup, limits_a: Mapping[ConnectorKey, float]
) -> dict[str, PhaseCurrents]:
    """What the limits add up to on every node, per grid phase."""
    index = group.index
    loads = constraint_loads(index, range(len(index.keys)), flat_limits(group, limits_a))
    return {
        node_id: PhaseCurrents(*loads[3 * n : 3 * n + 3])
        for n, node_id in enumerate(index.node_ids)
    }


def check_invariant(
    group: BalancingGroup,
    available_a: Mapping[str, PhaseCurrents],
    limits_a: Mapping[ConnectorKey, float],
    tolerance_a: float = TOLERANCE_A,
) -> tuple[Violation, ...]:
    """Every (node, phase) whose limits add up to more than its available current."""
    index = group.index
    loads = constraint_loads(index, range(len(index.keys)), flat_limits(group, limits_a))
    room = flat_room(group, available_a)
    return tuple(
        Violation(index.node_ids[j // 3], Phase(j % 3 + 1), load, room[j])
        for j, load in enumerate(loads)
        if load > room[j] + tolerance_a
    )


def out_of_range(
    group: BalancingGroup,
    limits_a: Mapping[ConnectorKey, float],
    tolerance_a: float = TOLERANCE_A,
) -> tuple[ConnectorKey, ...]:
    """Connectors whose limit is neither 0 nor within [min, max]."""
    bad: list[ConnectorKey] = []
    for config in group.index.configs:
        limit = limits_a.get(config.key, 0.0)
        if limit == 0.0:
            continue
        if not config.min_a - tolerance_a <= limit <= config.max_a + tolerance_a:
            bad.append(config.key)
    return tuple(bad)

"""Small builders for balancing tests: a group, cars, a meter, and a clock that cycles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from amphub.domain.balancing import (
    Allocation,
    BalancerMemory,
    BalancerSettings,
    BalancingGroup,
    BalancingInput,
    ConnectorConfig,
    ConnectorKey,
    ConnectorLive,
    ExternalCap,
    GroupNode,
    GroupSettings,
    MeterSnapshot,
    Placement,
    VehicleState,
    allocate,
    check_invariant,
    out_of_range,
)
from amphub.domain.units import PhaseCurrents, PhaseRotation

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LONG_AGO = T0 - timedelta(hours=2)


def key(n: int, connector: int = 1) -> ConnectorKey:
    return ConnectorKey(f"cp{n}", connector)


def three_phase(
    n: int, max_a: float = 32.0, *, priority: int = 0, min_a: float = 6.0
) -> ConnectorConfig:
    return ConnectorConfig(key(n), max_a, 3, min_a=min_a, priority=priority)


def one_phase(
    n: int,
    max_a: float = 32.0,
    rotation: PhaseRotation = PhaseRotation.L1L2L3,
    *,
    priority: int = 0,
    min_a: float = 6.0,
) -> ConnectorConfig:
    return ConnectorConfig(key(n), max_a, 1, rotation, min_a=min_a, priority=priority)


def node(
    node_id: str,
    limit_a: float | PhaseCurrents,
    *connectors: ConnectorConfig,
    children: tuple[GroupNode, ...] = (),
) -> GroupNode:
    limit = limit_a if isinstance(limit_a, PhaseCurrents) else PhaseCurrents.uniform(limit_a)
    return GroupNode(node_id, limit, tuple(connectors), children)


def group(
    root: GroupNode,
    placement: Placement = Placement.BUILDING_ONLY,
    buffer_a: float = 0.0,
    fail_safe_a: float = 10.0,
    meter_timeout: timedelta = timedelta(seconds=60),
) -> BalancingGroup:
    return BalancingGroup(root, GroupSettings(placement, buffer_a, fail_safe_a, meter_timeout))


def charging(draw_a: float = 0.0, since: datetime = LONG_AGO) -> ConnectorLive:
    """A car that has been charging for long, drawing ``draw_a`` on each charger phase."""
    return ConnectorLive(VehicleState.CHARGING, since, PhaseCurrents.uniform(draw_a), since)


def suspended(since: datetime = LONG_AGO) -> ConnectorLive:
    return ConnectorLive(VehicleState.SUSPENDED_EV, since, PhaseCurrents.zero(), since)


@dataclass
class Site:
    """A group driven cycle after cycle, as the controller would: memory carried along,
    every allocation checked against the hard rules."""

    group: BalancingGroup
    settings: BalancerSettings = field(default_factory=BalancerSettings)
    now: datetime = T0
    meter_a: PhaseCurrents | None = field(default_factory=PhaseCurrents.zero)
    meter_at: datetime | None = None
    cars: dict[ConnectorKey, ConnectorLive] = field(default_factory=dict)
    caps: dict[ConnectorKey, ExternalCap] = field(default_factory=dict)
    memory: BalancerMemory = field(default_factory=BalancerMemory)
    last: Allocation | None = None

    def cycle(self, after: timedelta = timedelta(0)) -> Allocation:
        self.now += after
        meter = None
        if self.meter_a is not None:
            meter = MeterSnapshot(self.meter_a, self.meter_at or self.now)
        snapshot = BalancingInput(meter, dict(self.cars), dict(self.caps))
        allocation = allocate(self.group, snapshot, self.memory, self.now, self.settings)
        assert check_invariant(self.group, allocation.available.per_node, allocation.limits_a) == ()
        assert out_of_range(self.group, allocation.limits_a) == ()
        self.memory = allocation.memory
        self.last = allocation
        return allocation

    def run(self, duration: timedelta, every: timedelta = timedelta(seconds=5)) -> Allocation:
        """Cycle every ``every`` for ``duration``; returns the last allocation."""
        allocation = self.cycle()
        end = self.now + duration
        while self.now < end:
            allocation = self.cycle(every)
        return allocation

    def limits(self) -> Mapping[ConnectorKey, float]:
        assert self.last is not None
        return self.last.limits_a

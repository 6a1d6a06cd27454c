"""Hypothesis strategies: random fuse trees, connectors, meters and cycles."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import strategies as st

from amphub.domain.balancing import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    ConnectorLive,
    ExternalCap,
    GroupNode,
    GroupSettings,
    Placement,
    VehicleState,
)
from amphub.domain.units import PhaseCurrents, PhaseRotation
from tests.unit.balancing.builders import T0

amps = st.one_of(st.integers(0, 80).map(float), st.floats(0.0, 80.0))


@st.composite
def phase_currents(draw: st.DrawFn, low: float, high: float) -> PhaseCurrents:
    value = st.floats(low, high, allow_nan=False)
    return PhaseCurrents(draw(value), draw(value), draw(value))


@st.composite
def connector_configs(draw: st.DrawFn, n: int, priorities: int = 3) -> ConnectorConfig:
    min_a = draw(st.sampled_from([6.0, 6.0, 6.0, 8.0, 10.0, 1.5]))
    return ConnectorConfig(
        key=ConnectorKey(f"cp{n}", draw(st.integers(1, 2))),
        max_a=min_a + draw(st.sampled_from([0.0, 4.0, 10.0, 26.0]) | st.floats(0.0, 40.0)),
        phases=draw(st.sampled_from([1, 3])),
        rotation=draw(st.sampled_from(list(PhaseRotation))),
        min_a=min_a,
        priority=draw(st.integers(0, priorities - 1)),
    )


@st.composite
def groups(draw: st.DrawFn, priorities: int = 3, max_depth: int = 3) -> BalancingGroup:
    counter = itertools.count()

    def make(depth: int) -> GroupNode:
        n = next(counter)
        connectors = tuple(
            draw(connector_configs(100 * n + c, priorities)) for c in range(draw(st.integers(0, 4)))
        )
        breadth = draw(st.integers(0, 2)) if depth < max_depth else 0
        children = tuple(make(depth + 1) for _ in range(breadth))
        limit = PhaseCurrents(draw(amps), draw(amps), draw(amps))
        return GroupNode(f"n{n}", limit, connectors, children)

    settings = GroupSettings(
        placement=draw(st.sampled_from(list(Placement))),
        dynamic_buffer_a=draw(st.sampled_from([0.0, 2.0, 5.5])),
        fail_safe_a=draw(amps),
        meter_timeout=timedelta(seconds=60),
    )
    return BalancingGroup(make(0), settings)


@dataclass(frozen=True)
class Cycle:
    """One cycle of the world: how long after the previous, meter and cars."""

    after: timedelta
    meter_a: PhaseCurrents | None
    meter_age: timedelta
    cars: dict[ConnectorKey, ConnectorLive]
    caps: dict[ConnectorKey, ExternalCap]
    reserved: dict[ConnectorKey, float]


@st.composite
def cycles(draw: st.DrawFn, group: BalancingGroup, count: int) -> list[Cycle]:
    out: list[Cycle] = []
    now = T0
    states = st.sampled_from(
        [VehicleState.CHARGING, VehicleState.CHARGING, VehicleState.SUSPENDED_EV, VehicleState.IDLE]
    )
    for _ in range(count):
        after = timedelta(seconds=draw(st.sampled_from([0, 1, 5, 11, 31, 65, 190, 301])))
        now += after
        cars: dict[ConnectorKey, ConnectorLive] = {}
        caps: dict[ConnectorKey, ExternalCap] = {}
        reserved: dict[ConnectorKey, float] = {}
        for config in group.connectors:
            state = draw(states)
            since = now - timedelta(seconds=draw(st.sampled_from([0, 20, 40, 400])))
            measured = draw(phase_currents(-2.0, 40.0))
            cars[config.key] = ConnectorLive(state, since, measured, since)
            roll = draw(st.integers(0, 7))
            if roll == 0:
                caps[config.key] = ExternalCap(draw(st.floats(0.0, 40.0)), "test")
            elif roll == 1:  # its charger is offline: reserved at what it may draw, not steered
                reserved[config.key] = draw(st.floats(0.0, 20.0))
                caps[config.key] = ExternalCap(0.0, "offline")
        meter = draw(st.none() | phase_currents(-100.0, 150.0))
        age = timedelta(seconds=draw(st.sampled_from([0, 10, 59, 61, 300])))
        out.append(Cycle(after, meter, age, cars, caps, reserved))
    return out

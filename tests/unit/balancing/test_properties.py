"""Properties of the allocator on random fuse trees, cars, meters and histories."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amphub.domain.balancing import (
    PAUSED,
    BalancerMemory,
    BalancerSettings,
    BalancingGroup,
    BalancingInput,
    Binding,
    MeterSnapshot,
    VehicleState,
    allocate,
    check_invariant,
    out_of_range,
)
from amphub.domain.balancing.index import constraint_loads
from amphub.domain.balancing.invariant import flat_limits, flat_room
from tests.unit.balancing.builders import T0
from tests.unit.balancing.strategies import cycles, groups

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.data(), group=groups())
def test_every_cycle_keeps_the_invariant_and_the_ranges(
    data: st.DataObject, group: BalancingGroup
) -> None:
    memory = BalancerMemory()
    now = T0
    timeout = group.settings.meter_timeout
    for cycle in data.draw(cycles(group, data.draw(st.integers(1, 6)))):
        now += cycle.after
        meter = (
            None if cycle.meter_a is None else MeterSnapshot(cycle.meter_a, now - cycle.meter_age)
        )
        snapshot = BalancingInput(meter, cycle.cars, cycle.caps, cycle.reserved)
        allocation = allocate(group, snapshot, memory, now)
        memory = allocation.memory

        per_node = allocation.available.per_node
        assert check_invariant(group, per_node, allocation.limits_a) == ()
        assert out_of_range(group, allocation.limits_a) == ()
        root = per_node[group.root.node_id]
        assert root.min_a() >= 0.0 and root.max_a() <= group.root.limit.max_a()
        for phase_total, fuse in zip(root, group.root.limit, strict=True):
            assert phase_total <= fuse
        assert allocation.fail_safe == (meter is None or cycle.meter_age > timeout)
        if allocation.fail_safe:
            assert root.max_a() <= group.settings.fail_safe_a
        for config in group.connectors:
            limit = allocation.limits_a[config.key]
            decision = allocation.decisions[config.key]
            assert decision.limit_a == limit
            if cycle.cars[config.key].state is VehicleState.IDLE:
                assert (limit, decision.binding) == (0.0, Binding.NO_VEHICLE)
            cap = cycle.caps.get(config.key)
            if cap is not None:
                assert limit <= cap.cap_a
            if decision.binding in PAUSED:
                assert limit == 0.0


UNDAMPED = BalancerSettings(max_increase_step_a=1000.0, change_threshold_a=0.0, resolution_a=1e-9)


@FAST
@given(data=st.data(), group=groups(priorities=1))
def test_shares_are_max_min_fair_and_waste_nothing(
    data: st.DataObject, group: BalancingGroup
) -> None:
    """Without damping, threshold or rounding, every running car is at its ceiling or has a
    bottleneck: a full constraint on its path where no car above its minimum gets more."""
    (cycle,) = data.draw(cycles(group, 1))
    cars = {
        key: live
        if live.state is VehicleState.CHARGING
        else live.__class__(
            VehicleState.CHARGING, live.state_since, live.measured, live.session_start
        )
        for key, live in cycle.cars.items()
    }
    meter = None if cycle.meter_a is None else MeterSnapshot(cycle.meter_a, T0)
    allocation = allocate(
        group, BalancingInput(meter, cars, cycle.caps), BalancerMemory(), T0, UNDAMPED
    )
    index = group.index
    limits = flat_limits(group, allocation.limits_a)
    room = flat_room(group, allocation.available.per_node)
    loads = constraint_loads(index, range(len(limits)), limits)
    tight = [r - load <= 1e-4 for r, load in zip(room, loads, strict=True)]
    for i, config in enumerate(index.configs):
        limit = limits[i]
        if limit == 0.0:
            continue
        cap = cycle.caps.get(config.key)
        ceiling = min(config.max_a, cap.cap_a if cap is not None else config.max_a)
        if limit >= ceiling - 1e-5:
            continue
        assert any(
            tight[j]
            and all(
                limits[k] <= limit + 1e-5 or limits[k] <= index.min_a[k] + 1e-5
                for k in index.members[j]
            )
            for j in index.paths[i]
        ), f"{config.key} at {limit} A has no bottleneck"


@settings(FAST, max_examples=60)
@given(group=groups(), data=st.data())
def test_allocation_is_deterministic(group: BalancingGroup, data: st.DataObject) -> None:
    (cycle,) = data.draw(cycles(group, 1))
    snapshot = BalancingInput(None, cycle.cars, cycle.caps)
    first = allocate(group, snapshot, BalancerMemory(), T0 + timedelta(hours=1))
    second = allocate(group, snapshot, BalancerMemory(), T0 + timedelta(hours=1))
    assert first == second

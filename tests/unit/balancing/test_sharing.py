"""Table tests: available current, fair shares, priorities, sub-groups, placement, fail-safe."""

from __future__ import annotations

from datetime import timedelta

import pytest

from amphub.domain.balancing import (
    BalancingInput,
    Binding,
    ExternalCap,
    MeterSnapshot,
    Placement,
    available_currents,
    loads_by_node,
)
from amphub.domain.balancing.model import ConnectorLive, VehicleState
from amphub.domain.units import Phase, PhaseCurrents, PhaseRotation
from tests.unit.balancing.builders import (
    LONG_AGO,
    T0,
    Site,
    charging,
    group,
    key,
    node,
    one_phase,
    three_phase,
)

SETTLE = timedelta(minutes=2)


def settled(site: Site) -> dict[int, float]:
    site.run(SETTLE)
    return {int(k.charge_point_id[2:]): v for k, v in site.limits().items()}


@pytest.mark.parametrize(
    ("root_a", "maxima", "expected"),
    [
        (30.0, (32, 32, 32), (10.0, 10.0, 10.0)),
        (40.0, (8, 32, 32), (8.0, 16.0, 16.0)),
        (100.0, (16, 20, 32), (16.0, 20.0, 32.0)),
        (31.0, (32, 32, 32), (10.3, 10.3, 10.3)),
    ],
)
def test_three_phase_cars_share_max_min_fairly(
    root_a: float, maxima: tuple[float, ...], expected: tuple[float, ...]
) -> None:
    site = Site(group(node("root", root_a, *(three_phase(n, m) for n, m in enumerate(maxima)))))
    site.cars = {key(n): charging(m) for n, m in enumerate(maxima)}
    assert tuple(settled(site).values()) == pytest.approx(expected)


def test_a_full_phase_binds_only_the_connectors_on_it() -> None:
    # L1 carries three single-phase cars and the three-phase car: 32 / 4 = 8 each.
    # L2 carries the three-phase car (8) and one single-phase car, which gets the rest.
    site = Site(
        group(
            node(
                "root",
                32.0,
                three_phase(0),
                one_phase(1),
                one_phase(2),
                one_phase(3),
                one_phase(4, rotation=PhaseRotation.L2L3L1),
            )
        )
    )
    site.cars = {key(n): charging(32.0) for n in range(5)}
    assert settled(site) == pytest.approx({0: 8.0, 1: 8.0, 2: 8.0, 3: 8.0, 4: 24.0})
    assert site.last is not None
    decision = site.last.decisions[key(0)]
    assert (decision.binding, decision.node_id, decision.phase) == (
        Binding.GROUP_LIMIT,
        "root",
        Phase.L1,
    )
    decision = site.last.decisions[key(4)]
    assert (decision.binding, decision.node_id, decision.phase) == (
        Binding.GROUP_LIMIT,
        "root",
        Phase.L2,
    )


@pytest.mark.parametrize(
    ("rotation", "grid_phase"),
    [
        (PhaseRotation.L1L2L3, Phase.L1),
        (PhaseRotation.L1L3L2, Phase.L1),
        (PhaseRotation.L2L1L3, Phase.L2),
        (PhaseRotation.L2L3L1, Phase.L2),
        (PhaseRotation.L3L1L2, Phase.L3),
        (PhaseRotation.L3L2L1, Phase.L3),
    ],
)
def test_a_single_phase_connector_loads_the_grid_phase_of_its_charger_l1(
    rotation: PhaseRotation, grid_phase: Phase
) -> None:
    site = Site(
        group(node("root", PhaseCurrents(20.0, 30.0, 40.0), one_phase(1, rotation=rotation)))
    )
    site.cars = {key(1): charging(32.0)}
    limit = settled(site)[1]
    assert limit == {Phase.L1: 20.0, Phase.L2: 30.0, Phase.L3: 32.0}[grid_phase]
    loads = loads_by_node(site.group, site.limits())["root"]
    assert loads.on(grid_phase) == limit
    assert sum(loads) == limit


def test_higher_priority_takes_the_surplus_after_every_minimum() -> None:
    site = Site(
        group(node("root", 30.0, three_phase(1, priority=1), three_phase(2), three_phase(3)))
    )
    site.cars = {key(n): charging(32.0) for n in (1, 2, 3)}
    assert settled(site) == pytest.approx({1: 18.0, 2: 6.0, 3: 6.0})


def test_higher_priority_runs_first_when_minimums_do_not_fit() -> None:
    site = Site(group(node("root", 14.0, three_phase(1), three_phase(2, priority=2))))
    site.cars = {key(n): charging(32.0) for n in (1, 2)}
    limits = settled(site)
    assert limits == pytest.approx({1: 6.0, 2: 8.0})
    site.group = group(node("root", 11.0, three_phase(1), three_phase(2, priority=2)))
    site.cars = {key(n): charging(32.0) for n in (1, 2)}
    limits = settled(site)
    assert limits[2] == pytest.approx(11.0) and limits[1] == 0.0


def test_a_sub_group_bounds_its_subtree_at_any_depth() -> None:
    deep = node("cable", 10.0, three_phase(4), three_phase(5))
    panel = node("panel", 25.0, three_phase(2), three_phase(3), children=(deep,))
    site = Site(group(node("root", 100.0, three_phase(1), children=(panel,))))
    site.cars = {key(n): charging(32.0) for n in range(1, 6)}
    limits = settled(site)
    # cable: two minimums (12 A) do not fit in 10 A -> one car pauses; the panel's 25 A
    # are then shared by three cars (8.33 A, rounded down); the root's rest goes to car 1.
    assert sorted([limits[4], limits[5]]) == [0.0, pytest.approx(8.3)]
    assert limits[2] == limits[3] == pytest.approx(8.3)
    assert limits[1] == pytest.approx(32.0)
    loads = loads_by_node(site.group, site.limits())
    assert loads["cable"].max_a() <= 10.0
    assert loads["panel"].max_a() <= 25.0


def test_a_node_filled_on_one_phase_lets_its_single_phase_cars_use_room_left_by_an_ancestor() -> (
    None
):
    # The root's L2 freezes the three-phase car at 6 A; the sub-group's L1 then has room
    # that its single-phase L1 car takes (up to the sub-group's 20 A).
    sub = node("sub", 20.0, three_phase(1), one_phase(2))
    site = Site(group(node("root", PhaseCurrents(63.0, 6.0, 63.0), children=(sub,))))
    site.cars = {key(n): charging(32.0) for n in (1, 2)}
    assert settled(site) == pytest.approx({1: 6.0, 2: 14.0})


def test_available_is_total_minus_building_minus_buffer() -> None:
    g = group(node("root", PhaseCurrents(40.0, 40.0, 40.0)), buffer_a=3.0)
    snapshot = BalancingInput(MeterSnapshot(PhaseCurrents(10.0, 0.0, 45.0), T0), {})
    available = available_currents(g, snapshot, T0)
    assert available.per_node["root"] == PhaseCurrents(27.0, 37.0, 0.0)
    assert not available.fail_safe
    assert available.building_load == PhaseCurrents(10.0, 0.0, 45.0)


def test_export_never_buys_headroom_beyond_the_fuse() -> None:
    g = group(node("root", 40.0), buffer_a=2.0)
    snapshot = BalancingInput(MeterSnapshot(PhaseCurrents(-30.0, -5.0, 1.0), T0), {})
    assert available_currents(g, snapshot, T0).per_node["root"] == PhaseCurrents(38.0, 38.0, 37.0)


def test_including_charge_points_subtracts_what_the_chargers_measure_on_grid_phases() -> None:
    # A single-phase charger wired L2L3L1 measures 10 A on its L1, which is grid L2.
    g = group(
        node("root", 40.0, three_phase(1), one_phase(2, rotation=PhaseRotation.L2L3L1)),
        placement=Placement.INCLUDING_CHARGE_POINTS,
    )
    cars = {
        key(1): charging(8.0),
        key(2): ConnectorLive(
            VehicleState.CHARGING, LONG_AGO, PhaseCurrents(10.0, 0.0, 0.0), LONG_AGO
        ),
    }
    snapshot = BalancingInput(MeterSnapshot(PhaseCurrents(20.0, 30.0, 8.0), T0), cars)
    available = available_currents(g, snapshot, T0)
    assert available.building_load == PhaseCurrents(12.0, 12.0, 0.0)
    assert available.per_node["root"] == PhaseCurrents(28.0, 28.0, 40.0)


def test_including_charge_points_clamps_bogus_charger_readings() -> None:
    g = group(node("root", 40.0, three_phase(1, 16.0)), placement=Placement.INCLUDING_CHARGE_POINTS)
    cars = {key(1): charging(500.0)}
    snapshot = BalancingInput(MeterSnapshot(PhaseCurrents(30.0, 30.0, 30.0), T0), cars)
    # The charger can hide at most its own maximum (16 A) of the building's load.
    assert available_currents(g, snapshot, T0).per_node["root"] == PhaseCurrents.uniform(26.0)


@pytest.mark.parametrize("meter_age", [timedelta(seconds=61), None])
def test_a_silent_or_missing_meter_puts_the_group_on_fail_safe_amps(
    meter_age: timedelta | None,
) -> None:
    site = Site(
        group(node("root", 63.0, three_phase(1), three_phase(2)), fail_safe_a=16.0),
    )
    site.cars = {key(n): charging(32.0) for n in (1, 2)}
    site.run(SETTLE)
    assert site.limits() == {key(1): 31.5, key(2): 31.5}
    if meter_age is None:
        site.meter_a = None
    else:
        site.meter_at = site.now + timedelta(seconds=5) - meter_age
    allocation = site.cycle(timedelta(seconds=5))
    assert allocation.fail_safe
    assert allocation.available.per_node["root"] == PhaseCurrents.uniform(16.0)
    assert allocation.limits_a == {key(1): 8.0, key(2): 8.0}
    assert allocation.decisions[key(1)].binding is Binding.FAIL_SAFE


def test_fail_safe_amps_never_exceed_the_fuse() -> None:
    site = Site(group(node("root", 10.0, three_phase(1)), fail_safe_a=40.0))
    site.meter_a = None
    site.cars = {key(1): charging(32.0)}
    allocation = site.run(SETTLE)
    assert allocation.available.per_node["root"] == PhaseCurrents.uniform(10.0)
    assert allocation.limits_a[key(1)] == 10.0


def test_a_meter_reading_within_the_timeout_is_used() -> None:
    site = Site(group(node("root", 40.0, three_phase(1)), fail_safe_a=6.0))
    site.cars = {key(1): charging(32.0)}
    site.meter_a = PhaseCurrents.uniform(10.0)
    site.meter_at = T0 - timedelta(seconds=59)
    assert not site.cycle().fail_safe


@pytest.mark.parametrize(
    ("cap_a", "limit", "binding"),
    [
        (10.0, 10.0, Binding.EXTERNAL_CAP),
        (0.0, 0.0, Binding.EXTERNAL_CAP),
        (4.0, 0.0, Binding.EXTERNAL_CAP),
        (50.0, 32.0, Binding.CONNECTOR_MAX),
    ],
)
def test_an_external_cap_bounds_the_connector(cap_a: float, limit: float, binding: Binding) -> None:
    site = Site(group(node("root", 100.0, three_phase(1))))
    site.cars = {key(1): charging(32.0)}
    site.caps = {key(1): ExternalCap(cap_a, "price plan")}
    allocation = site.run(SETTLE)
    decision = allocation.decisions[key(1)]
    assert (decision.limit_a, decision.binding) == (limit, binding)
    if binding is Binding.EXTERNAL_CAP:
        assert decision.detail == "price plan"


def test_a_connector_without_a_vehicle_gets_nothing() -> None:
    site = Site(group(node("root", 100.0, three_phase(1), three_phase(2))))
    site.cars = {key(1): charging(32.0)}
    allocation = site.run(SETTLE)
    assert allocation.limits_a[key(2)] == 0.0
    assert allocation.decisions[key(2)].binding is Binding.NO_VEHICLE


def test_reserved_current_of_an_unsteerable_connector_comes_off_every_node_above_it() -> None:
    sub = node("sub", 32.0, three_phase(1), one_phase(2, rotation=PhaseRotation.L3L1L2))
    g = group(node("root", 40.0, three_phase(3), children=(sub,)))
    snapshot = BalancingInput(
        MeterSnapshot(PhaseCurrents.zero(), T0), {}, reserved={key(2): 10.0, key(1): 0.0}
    )
    available = available_currents(g, snapshot, T0).per_node
    # The single-phase connector sits on grid L3 (its charger L1 is wired to L3).
    assert available["sub"] == PhaseCurrents(32.0, 32.0, 22.0)
    assert available["root"] == PhaseCurrents(40.0, 40.0, 30.0)

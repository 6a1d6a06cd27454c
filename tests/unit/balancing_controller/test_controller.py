"""The group controller against a fake fleet: from a meter step to limits the chargers hold,
fail-safe on meter silence, standing profiles first, offline and rejecting chargers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from amphub.application.balancing.config import LoadedGroup, balancing_group, connector_key
from amphub.application.balancing.controller import ControllerSettings, GroupController
from amphub.application.charging.live import LiveChargerState
from amphub.application.metering import LiveMeterState, LiveReading
from amphub.application.site_equipment import StoredGroup
from amphub.domain.balancing.decision import Binding
from amphub.domain.balancing.model import ExternalCap, Placement
from amphub.domain.charging import ConnectorStatus
from amphub.domain.charging import MeterReading as ChargerReading
from amphub.domain.group_config import GroupLayout, GroupSettingsSpec, PowerDistribution
from amphub.domain.metering import MeterReading
from amphub.domain.smart_charging import ChargingProfilePurpose
from amphub.domain.tenancy import ChargePoint, ChargePointSpec, ConnectorSpec
from amphub.domain.units import PhaseCurrents, PhaseRotation
from tests.support.waiting import eventually
from tests.unit.balancing_controller.fakes import FakeClock, FakeFleet, MemoryRecorder

METER = 5
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def charge_point(
    cp_id: int, phases: int = 3, rotation: PhaseRotation = PhaseRotation.L1L2L3
) -> ChargePoint:
    spec = ChargePointSpec(
        f"CP{cp_id}", f"SN{cp_id}", (ConnectorSpec(1, phases, rotation, 6.0, 32.0),)
    )
    return ChargePoint(cp_id, 1, 1, 1, spec, T0)


def loaded(
    charge_points: list[ChargePoint],
    *,
    total_a: float = 63.0,
    fail_safe_a: float = 20.0,
    buffer_a: float = 3.0,
    placement: Placement = Placement.BUILDING_ONLY,
    local: bool = False,
) -> LoadedGroup:
    settings = GroupSettingsSpec(
        name="G", total_a=total_a, meter_id=METER, placement=placement,
        dynamic_buffer_a=buffer_a, fail_safe_a=fail_safe_a, meter_timeout_s=30,
        power_distribution=PowerDistribution.LOCAL if local else PowerDistribution.CLOUD,
        master_charge_point_id=charge_points[0].id if local else None,
    )  # fmt: skip
    stored = StoredGroup(
        7, 1, 1, 1, "LBG-TEST-TEST", settings, GroupLayout(tuple(cp.id for cp in charge_points)), T0
    )
    by_id = {cp.id: cp for cp in charge_points}
    return LoadedGroup(stored, by_id, balancing_group(stored, by_id))


class Site:
    def __init__(self, group: LoadedGroup) -> None:
        self.clock = FakeClock(T0)
        self.fleet = FakeFleet(self.clock)
        self.meters = LiveMeterState(self.clock.now)
        self.chargers = LiveChargerState()
        self.recorder = MemoryRecorder()
        self.group = group
        self.last_building: tuple[float, float, float] | None = None
        self.controller = GroupController(
            group, self.meters, self.chargers, self.fleet, self.recorder, self.clock,
            ControllerSettings(),
        )  # fmt: skip

    def connect(self, cp_id: int, status: ConnectorStatus = ConnectorStatus.CHARGING) -> None:
        self.chargers.mark_connected(cp_id, f"CP{cp_id}", "1.6", self.clock.now(), [(1, 3)])
        self.chargers.set_status(cp_id, 1, status, self.clock.now())
        self.controller.charger_connected(cp_id)

    def draw(self, cp_id: int, current_a: float) -> None:
        self.chargers.apply_reading(
            cp_id, 1, ChargerReading(self.clock.now(), current_a=PhaseCurrents.uniform(current_a))
        )

    def building(self, l1: float, l2: float, l3: float) -> None:
        self.last_building = (l1, l2, l3)
        self.meters.publish(
            LiveReading(
                METER,
                1,
                MeterReading(self.clock.now(), PhaseCurrents(l1, l2, l3)),
                self.clock.now(),
            )
        )

    def held(self, cp_id: int) -> float | None:
        return self.fleet.limit_in_force(cp_id, 1)

    async def settle(self, cycles: int = 8, seconds: float = 11.0) -> None:
        """Let time pass: each car draws what its charger allows, the balancer ramps up."""
        for _ in range(cycles):
            self.clock.advance(seconds)
            for cp_id in self.group.charge_points:
                point = self.chargers.charge_point(cp_id)
                if point is not None and point.connected:
                    self.draw(cp_id, self.held(cp_id) or 0.0)
            if self.last_building is not None:
                self.building(*self.last_building)
            await self.controller.cycle()


async def test_a_building_step_lowers_limits_within_one_cycle() -> None:
    site = Site(loaded([charge_point(1), charge_point(2)]))
    site.connect(1)
    site.connect(2)
    site.building(10, 10, 10)
    await site.controller.cycle()
    assert site.held(1) == site.held(2) == 6.0  # a start goes to the minimum, then ramps
    await site.settle()
    assert site.held(1) == site.held(2) == 25.0  # (63 - 10 - 3) / 2
    site.clock.advance(1)
    site.building(40, 20, 20)  # a kettle, an oven and a heat pump on L1
    view = await site.controller.cycle()
    assert site.held(1) == site.held(2) == 10.0  # (63 - 40 - 3) / 2, at once
    assert view.allocation.decisions[connector_key(1, 1)].binding is Binding.GROUP_LIMIT


async def test_meter_silence_falls_back_to_fail_safe_amps() -> None:
    site = Site(loaded([charge_point(1), charge_point(2)], fail_safe_a=20.0))
    site.connect(1)
    site.connect(2)
    site.building(5, 5, 5)
    await site.controller.cycle()
    site.clock.advance(31)
    view = await site.controller.cycle()
    assert view.allocation.fail_safe
    assert site.held(1) == site.held(2) == 10.0
    assert {d.binding for d in view.allocation.decisions.values()} == {Binding.FAIL_SAFE}


async def test_standing_profiles_first_and_they_respect_fail_safe_amps() -> None:
    site = Site(loaded([charge_point(n) for n in (1, 2, 3)], fail_safe_a=20.0))
    for n in (1, 2, 3):
        site.connect(n)
    site.building(0, 0, 0)
    await site.controller.cycle()
    first = site.fleet.sent[:3]
    assert all(
        profile.stack_level == 0 and profile.schedule.duration_s is None for _, _, profile in first
    )
    assert sum(profile.schedule.periods[0].limit for _, _, profile in first) <= 20.0
    # Absolute profiles carry a start (OCPP 2.0.1 K01.FR.40), the standing ones no end.
    assert all(profile.schedule.start_at == T0 for _, _, profile in first)
    assert all(
        profile.purpose is ChargingProfilePurpose.TX_DEFAULT for _, _, profile in site.fleet.sent
    )
    # amphub disappears: once the dynamic profiles lapse, the standing ones are what is left
    site.clock.advance(5 * 60 + 1)
    assert sum(site.held(n) or 0.0 for n in (1, 2, 3)) <= 20.0


async def test_dynamic_profiles_are_renewed_before_they_lapse() -> None:
    site = Site(loaded([charge_point(1)]))
    site.connect(1)
    site.building(5, 5, 5)
    await site.controller.cycle()
    await site.settle(cycles=30, seconds=30)  # 15 min: three lapse times
    assert site.held(1) == 32.0
    renewals = [
        p
        for cp, _, p in site.fleet.sent
        if p.stack_level == 1 and p.schedule.periods[0].limit == 32.0
    ]
    assert len(renewals) >= 5


async def test_an_offline_charger_keeps_its_worst_case_and_blocks_no_one() -> None:
    site = Site(loaded([charge_point(1), charge_point(2)], total_a=40.0, buffer_a=0.0))
    site.connect(1)
    site.connect(2)
    site.building(0, 0, 0)
    await site.controller.cycle()
    await site.settle()
    assert site.held(1) == site.held(2) == 20.0
    site.chargers.mark_disconnected(2)
    site.controller.charger_disconnected(2)
    site.fleet.offline.add(2)
    await site.settle()
    view = site.controller.view
    assert view is not None
    # charger 2 may still run on 20 A: charger 1 must not be raised into its room
    assert view.delivered_a[connector_key(2, 1)] == 20.0
    assert site.held(1) == 20.0
    site.building(10, 10, 10)  # and charger 1 still goes down when it must
    await site.settle(cycles=1)
    assert site.held(1) == 10.0


async def test_a_rejected_decrease_is_counted_high_and_holds_increases() -> None:
    site = Site(loaded([charge_point(1), charge_point(2)], total_a=40.0, buffer_a=0.0))
    site.connect(1)
    site.connect(2)
    site.building(0, 0, 0)
    await site.controller.cycle()
    await site.settle()
    assert site.held(1) == site.held(2) == 20.0
    site.fleet.rejecting.add(1)
    site.clock.advance(1)
    site.building(20, 20, 20)
    view = await site.controller.cycle()
    assert site.held(1) == 20.0  # it refused to go down
    assert site.held(2) == 10.0
    assert view.delivered_a[connector_key(1, 1)] == 20.0
    # the building load drops; nobody may go up while charger 1's decrease is outstanding
    site.building(15, 15, 15)
    await site.settle(cycles=3)
    assert site.held(2) == 10.0
    site.fleet.rejecting.clear()
    await site.settle()
    assert site.held(1) == site.held(2) == 12.5


async def test_reconnection_reapplies_limits_before_anything_else() -> None:
    site = Site(loaded([charge_point(1), charge_point(2)], total_a=40.0, buffer_a=0.0))
    site.connect(1)
    site.connect(2)
    site.building(10, 10, 10)
    await site.controller.cycle()
    await site.settle()
    for key in [k for k in site.fleet.profiles if k[0] == 1]:
        del site.fleet.profiles[key]  # charger 1 rebooted and forgot its profiles
    sent_before = len(site.fleet.sent)
    site.clock.advance(2)
    site.connect(1)
    await site.controller.cycle()
    again = [(cp, p.stack_level) for cp, _, p in site.fleet.sent[sent_before:] if cp == 1]
    assert again[:2] == [(1, 0), (1, 1)]  # standing, then dynamic
    assert site.held(1) == 15.0


async def test_locally_managed_sends_only_to_the_master() -> None:
    site = Site(loaded([charge_point(1), charge_point(2)], local=True, fail_safe_a=16.0))
    site.connect(1)
    site.connect(2)
    site.building(20, 30, 25)
    await site.controller.cycle()
    assert {cp for cp, _, _ in site.fleet.sent} == {1}
    assert {connector for _, connector, _ in site.fleet.sent} == {0}
    assert site.fleet.purposes(1) == {ChargingProfilePurpose.CHARGER_MAX}
    assert site.fleet.limit_in_force(1, 0) == 30.0  # 63 - 30 (worst phase) - 3


@pytest.mark.parametrize("placement", list(Placement))
async def test_decisions_are_recorded(placement: Placement) -> None:
    site = Site(loaded([charge_point(1)], placement=placement))
    site.connect(1)
    site.draw(1, 16.0)
    site.building(30, 30, 30)
    await site.controller.cycle()
    record = site.recorder.records[-1]
    assert record.charging == PhaseCurrents.uniform(16.0)
    if placement is Placement.INCLUDING_CHARGE_POINTS:
        assert record.building_load == PhaseCurrents.uniform(14.0)
    else:
        assert record.building_load == PhaseCurrents.uniform(30.0)
    assert connector_key(1, 1) in record.decisions


class FixedCap:
    def __init__(self, caps: dict[int, float]) -> None:
        self._caps = caps

    def caps(self, group_id: int, keys, now):  # type: ignore[no-untyped-def]
        return {
            key: ExternalCap(self._caps[int(key.charge_point_id)], "schedule")
            for key in keys
            if int(key.charge_point_id) in self._caps
        }


async def test_cap_sources_limit_connectors_and_the_lowest_wins() -> None:
    group = loaded([charge_point(1), charge_point(2)])
    site = Site(group)
    site.controller = GroupController(
        group, site.meters, site.chargers, site.fleet, site.recorder, site.clock,
        ControllerSettings(), [FixedCap({1: 0.0}), FixedCap({1: 10.0, 2: 16.0})],
    )  # fmt: skip
    site.connect(1)
    site.connect(2)
    site.building(0, 0, 0)
    await site.settle()
    assert site.held(1) == 0.0
    assert site.held(2) == 16.0
    decision = site.controller.view.allocation.decisions[connector_key(1, 1)]  # type: ignore[union-attr]
    assert (decision.binding, decision.detail) == (Binding.EXTERNAL_CAP, "schedule")


async def test_meter_values_wake_the_controller_at_most_once_per_interval() -> None:
    group = loaded([charge_point(1)])
    site = Site(group)
    controller = GroupController(
        group, site.meters, site.chargers, site.fleet, site.recorder, site.clock,
        ControllerSettings(measurement_wake_interval=timedelta(seconds=0.2)),
    )  # fmt: skip
    controller._cycle_started = time.monotonic()  # a cycle has just run
    for _ in range(50):
        controller.wake_soon()
    assert not controller._wake.is_set()
    await eventually(controller._wake.is_set, 2)
    controller._wake.clear()
    controller._cycle_started = time.monotonic() - 1.0  # long ago: at once
    controller.wake_soon()
    assert controller._wake.is_set()


async def test_an_unchanged_connector_keeps_its_snapshot_object() -> None:
    """The vectorised allocator reads again only connectors whose object is new."""
    site = Site(loaded([charge_point(1), charge_point(2)]))
    site.connect(1)
    site.connect(2)
    site.building(10, 10, 10)
    await site.controller.cycle()
    first = site.controller._snapshot(site.clock.now()).connectors
    site.draw(2, 7.0)
    second = site.controller._snapshot(site.clock.now()).connectors
    assert second[connector_key(1, 1)] is first[connector_key(1, 1)]
    assert second[connector_key(2, 1)] is not first[connector_key(2, 1)]
    assert second[connector_key(2, 1)].measured == PhaseCurrents.uniform(7.0)

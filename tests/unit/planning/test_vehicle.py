"""What the planner learns of a car from its readings (amphub.domain.planning.vehicle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amphub.domain.planning.vehicle import LEARN_AFTER, SeenVehicle
from amphub.domain.units import PhaseCurrents

T0 = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


def readings(
    seen: SeenVehicle, measured: list[PhaseCurrents], offered_a: float | None, every_s: float = 5
) -> SeenVehicle:
    for n, current in enumerate(measured):
        seen = seen.observe(current, offered_a, T0 + timedelta(seconds=n * every_s))
    return seen


def test_a_car_taking_all_it_is_offered_is_planned_as_its_connector() -> None:
    seen = readings(SeenVehicle(), [PhaseCurrents.uniform(16.0)] * 10, offered_a=16.0)
    assert seen.max_a is None and seen.phases == 3
    assert seen.limits(3, 6.0, 16.0) == (3, 16.0)
    assert not seen.changes_plan(SeenVehicle())


def test_a_car_that_keeps_drawing_less_than_offered_is_planned_at_its_own_maximum() -> None:
    drawing = [PhaseCurrents(16.0, 0.0, 0.0)] * 7  # 30 s of readings every 5 s
    almost = readings(SeenVehicle(), drawing[:6], offered_a=32.0)
    assert almost.max_a is None and almost.limits(1, 6.0, 32.0) == (1, 32.0)
    seen = readings(SeenVehicle(), drawing, offered_a=32.0)
    assert seen.max_a == 16.0
    assert seen.limits(1, 6.0, 32.0) == (1, 16.0)
    assert seen.changes_plan(almost)


def test_a_car_ramping_up_is_learnt_at_the_highest_current_of_the_stretch() -> None:
    ramp = [PhaseCurrents.uniform(a) for a in (4.0, 9.0, 13.0, 13.0, 13.0, 12.5, 13.0)]
    seen = readings(SeenVehicle(), ramp, offered_a=16.0)
    assert seen.max_a == 13.0
    assert seen.observe(PhaseCurrents.uniform(8.0), 16.0, T0 + LEARN_AFTER * 2) is seen  # tapering
    rises = seen.observe(PhaseCurrents.uniform(14.5), 16.0, T0 + LEARN_AFTER * 2)
    assert rises.max_a == 14.5 and rises.changes_plan(seen)


def test_a_short_dip_or_a_pause_starts_the_stretch_again() -> None:
    dip = [PhaseCurrents.uniform(10.0)] * 4 + [PhaseCurrents.uniform(16.0)]
    dip += [PhaseCurrents.uniform(10.0)] * 4
    assert readings(SeenVehicle(), dip, offered_a=16.0).max_a is None
    paused = [PhaseCurrents.uniform(10.0)] * 4 + [PhaseCurrents.zero()]
    paused += [PhaseCurrents.uniform(10.0)] * 4
    assert readings(SeenVehicle(), paused, offered_a=16.0).max_a is None


def test_a_single_phase_car_on_a_three_phase_charger_is_planned_on_one_phase() -> None:
    seen = SeenVehicle().observe(PhaseCurrents(0.0, 10.0, 0.2), 10.0, T0)
    assert seen.phases == 1 and seen.max_a is None
    assert seen.limits(3, 6.0, 16.0) == (1, 16.0)
    assert seen.changes_plan(SeenVehicle())
    three = seen.observe(PhaseCurrents.uniform(10.0), 10.0, T0)  # once seen on three, three
    assert three.limits(3, 6.0, 16.0) == (3, 16.0) and three.changes_plan(seen)


def test_readings_without_charging_or_offer_teach_nothing_and_limits_stay_in_range() -> None:
    assert SeenVehicle().observe(PhaseCurrents(2.0, 0.0, 0.0), 32.0, T0) == SeenVehicle()
    unknown = readings(SeenVehicle(), [PhaseCurrents.uniform(10.0)] * 10, offered_a=None)
    assert unknown.max_a is None and unknown.phases == 3
    held = readings(SeenVehicle(), [PhaseCurrents.uniform(10.0)] * 10, offered_a=10.5)
    assert held.max_a is None  # within the tolerance of what it is offered: may take more
    slow = readings(SeenVehicle(), [PhaseCurrents.uniform(4.0)] * 10, offered_a=16.0)
    assert slow.max_a == 4.0 and slow.limits(3, 6.0, 16.0) == (3, 6.0)  # never below min

"""The car model: what it draws at an offer, its CC-CV taper, and when it stops."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub_sim.ev import PILOT_MIN_A, Ev, EvSpec

SPEC = EvSpec(battery_kwh=60, max_a=16, phases=3)


def test_an_offer_below_the_pilot_minimum_draws_nothing() -> None:
    car = Ev(SPEC, soc=0.5, energy_need_wh=10_000)
    assert car.draw_a(PILOT_MIN_A - 0.1) == 0.0
    assert car.draw_a(PILOT_MIN_A) == PILOT_MIN_A


def test_the_car_takes_the_lower_of_the_offer_and_its_maximum() -> None:
    car = Ev(SPEC, soc=0.5, energy_need_wh=10_000)
    assert car.draw_a(10.0) == 10.0
    assert car.draw_a(32.0) == 16.0


@pytest.mark.parametrize(
    ("soc", "acceptance"),
    [(0.5, 16.0), (0.8, 16.0), (0.9, 16.0 * (0.1 + 0.9 * 0.5)), (0.99, 16.0 * (0.1 + 0.9 * 0.05))],
)
def test_current_tapers_linearly_above_eighty_percent(soc: float, acceptance: float) -> None:
    car = Ev(SPEC, soc=soc, energy_need_wh=100_000)
    assert car.acceptance_a() == pytest.approx(acceptance)


def test_the_car_stops_when_it_has_what_it_needs() -> None:
    car = Ev(SPEC, soc=0.2, energy_need_wh=1_000)
    energy = car.charge(16.0, 3, 3600)  # 11 kWh offered for an hour
    assert energy == pytest.approx(1_000)
    assert not car.wants_current()
    assert car.draw_a(16.0) == 0.0


def test_a_full_battery_takes_nothing_more() -> None:
    car = Ev(SPEC, soc=0.999, energy_need_wh=50_000)
    car.charge(16.0, 3, 3600)
    assert car.soc == pytest.approx(1.0)
    assert not car.wants_current()


def test_energy_is_current_times_phases_times_voltage() -> None:
    car = Ev(SPEC, soc=0.1, energy_need_wh=50_000)
    assert car.charge(10.0, 3, 60) == pytest.approx(10 * 3 * 230 / 60)
    assert car.soc == pytest.approx(0.1 + 115 / 60_000)


def test_a_single_phase_car_uses_one_phase_of_a_three_phase_connector() -> None:
    car = Ev(EvSpec(40, 32, 1), soc=0.3, energy_need_wh=5_000)
    assert car.phases_on(3) == 1
    assert Ev(SPEC, soc=0.3, energy_need_wh=5_000).phases_on(1) == 1


def test_arriving_cars_start_low_enough_to_take_their_need() -> None:
    car = Ev.arriving(SPEC, 30_000)
    assert car.soc == pytest.approx(0.4)
    assert Ev.arriving(SPEC, 100_000).soc == pytest.approx(0.05)


@pytest.mark.parametrize(
    "bad",
    [{"battery_kwh": 0}, {"max_a": 5}, {"phases": 4}, {"taper_from_soc": 1.0}],
)
def test_impossible_cars_are_refused(bad: dict[str, float]) -> None:
    values = {"battery_kwh": 60.0, "max_a": 16.0, "phases": 3, **bad}
    with pytest.raises(ValueError, match="must"):
        EvSpec(**values)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.05, 0.95),
    st.floats(100, 80_000),
    st.lists(st.floats(0, 40), min_size=1, max_size=50),
)
def test_never_more_than_the_need_or_the_battery(
    soc: float, need_wh: float, offers: list[float]
) -> None:
    car = Ev(SPEC, soc=soc, energy_need_wh=need_wh)
    total = 0.0
    for offer in offers:
        total += car.charge(car.draw_a(offer), 3, 600)
    assert total <= need_wh + 1e-6
    assert total <= (1 - soc) * 60_000 + 1e-6
    assert car.soc <= 1.0

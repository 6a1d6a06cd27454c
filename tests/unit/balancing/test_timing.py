"""Table tests for the rules that play out over time: pausing and rotation, lending and
probing, damped increases, the change threshold."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from amphub.domain.balancing import (
    PAUSED,
    BalancerMemory,
    Binding,
    ConnectorDecision,
    ConnectorKey,
    ConnectorMemory,
    ExternalCap,
)
from amphub.domain.units import PhaseCurrents
from tests.unit.balancing.builders import (
    LONG_AGO,
    Site,
    charging,
    group,
    key,
    node,
    suspended,
    three_phase,
)

EVERY = timedelta(seconds=5)
FIVE_MINUTES = timedelta(minutes=5)


def history(
    site: Site, duration: timedelta, every: timedelta = EVERY
) -> list[dict[ConnectorKey, float]]:
    """Limits at every cycle for ``duration``."""
    out = [dict(site.cycle().limits_a)]
    end = site.now + duration
    while site.now < end:
        out.append(dict(site.cycle(every).limits_a))
    return out


def runs(limits: list[float]) -> list[tuple[bool, int]]:
    """(running?, length in cycles) of each on/off stretch."""
    stretches: list[tuple[bool, int]] = []
    for limit in limits:
        on = limit > 0
        if stretches and stretches[-1][0] == on:
            stretches[-1] = (on, stretches[-1][1] + 1)
        else:
            stretches.append((on, 1))
    return stretches


def test_when_minimums_do_not_fit_cars_take_turns_with_minimum_on_and_off_times() -> None:
    # 13 A for three three-phase cars with a 6 A minimum: two run, one waits.
    site = Site(group(node("root", 13.0, three_phase(1), three_phase(2), three_phase(3))))
    site.cars = {key(n): charging(32.0) for n in (1, 2, 3)}
    seen = history(site, timedelta(minutes=40))
    assert all(sum(1 for v in cycle.values() if v > 0) == 2 for cycle in seen)
    five_minutes = int(FIVE_MINUTES / EVERY)
    for n in (1, 2, 3):
        stretches = runs([cycle[key(n)] for cycle in seen])
        assert any(on for on, _ in stretches), f"car {n} starved"
        # Every stretch but the first and the last lasts at least five minutes.
        assert all(length >= five_minutes for _, length in stretches[1:-1]), stretches
        assert max(length for on, length in stretches if not on) <= 2 * five_minutes + 1


def test_the_longest_running_car_pauses_first_and_says_why() -> None:
    site = Site(group(node("root", 13.0, three_phase(1), three_phase(2))))
    site.cars = {key(1): charging(32.0, since=LONG_AGO)}
    site.run(timedelta(minutes=1))
    site.cars[key(2)] = charging(32.0, since=site.now)
    later = site.now + timedelta(minutes=2)
    site.cars[key(3)] = charging(32.0, since=later)
    site.group = group(node("root", 13.0, three_phase(1), three_phase(2), three_phase(3)))
    site.run(timedelta(minutes=2))
    # 1 and 2 run; 3 arrived last and waits for a free place.
    assert site.limits()[key(3)] == 0.0
    assert site.last is not None
    assert site.last.decisions[key(3)].binding is Binding.PAUSED_NO_CAPACITY
    assert site.last.decisions[key(3)].node_id == "root"
    while site.limits()[key(1)] > 0.0:
        site.cycle(EVERY)
    # Car 1 has run longest: it gives its place to car 3 (and stays off a while).
    assert site.limits()[key(3)] > 0.0
    assert site.limits()[key(2)] > 0.0
    assert site.last.decisions[key(1)].binding is Binding.PAUSED_FOR_ROTATION
    assert site.cycle(EVERY).decisions[key(1)].binding is Binding.PAUSED_MIN_OFF_TIME


def test_a_paused_car_stays_off_for_the_minimum_off_time_even_if_room_appears() -> None:
    site = Site(group(node("root", 40.0, three_phase(1), three_phase(2))))
    site.cars = {key(n): charging(32.0) for n in (1, 2)}
    site.run(timedelta(minutes=6))
    site.meter_a = PhaseCurrents.uniform(30.0)  # only 10 A left: one car must pause
    allocation = site.cycle(EVERY)
    paused = [k for k, v in allocation.limits_a.items() if v == 0.0]
    assert len(paused) == 1
    site.meter_a = PhaseCurrents.zero()
    allocation = site.cycle(EVERY)
    assert allocation.limits_a[paused[0]] == 0.0
    assert allocation.decisions[paused[0]].binding is Binding.PAUSED_MIN_OFF_TIME
    site.run(FIVE_MINUTES - 3 * EVERY)
    assert site.limits()[paused[0]] == 0.0
    site.run(3 * EVERY)
    assert site.limits()[paused[0]] > 0.0


def test_the_fuse_overrides_the_minimum_on_time() -> None:
    site = Site(group(node("root", 40.0, three_phase(1), three_phase(2))))
    site.cars = {key(n): charging(32.0) for n in (1, 2)}
    site.run(timedelta(seconds=30))
    site.meter_a = PhaseCurrents.uniform(30.0)
    allocation = site.cycle(EVERY)
    assert sorted(allocation.limits_a.values()) == [0.0, 10.0]
    assert {d.binding for d in allocation.decisions.values()} & PAUSED == {
        Binding.PAUSED_NO_CAPACITY
    }


def test_a_car_drawing_less_lends_the_rest_after_30_s_and_is_probed_back_up() -> None:
    site = Site(group(node("root", 40.0, three_phase(1), three_phase(2))))
    site.cars = {key(1): charging(32.0), key(2): charging(32.0)}
    site.run(timedelta(minutes=1))
    assert site.limits() == {key(1): 20.0, key(2): 20.0}
    site.cars[key(1)] = charging(4.0)  # car 1 now takes only 4 A
    start = site.now
    lent_at: datetime | None = None
    probes: list[datetime] = []
    previous = 20.0
    end = start + timedelta(minutes=8)
    while site.now < end:
        allocation = site.cycle(EVERY)
        limit = allocation.limits_a[key(1)]
        binding = allocation.decisions[key(1)].binding
        if binding is Binding.EV_DRAW and lent_at is None:
            lent_at = site.now
            assert limit == 6.0  # its draw plus 2 A, but never below its minimum
            assert allocation.limits_a[key(2)] > 20.0  # the other car takes the room
        if lent_at is not None and limit > previous:
            probes.append(site.now)
        previous = limit
    assert lent_at is not None
    assert timedelta(seconds=30) <= lent_at - start <= timedelta(seconds=40)
    assert probes, "the lending car was never probed"
    assert timedelta(minutes=3) <= probes[0] - lent_at <= timedelta(minutes=3, seconds=10)
    assert site.last is not None


def test_a_car_drawing_close_to_its_limit_stops_lending_at_once() -> None:
    site = Site(group(node("root", 40.0, three_phase(1), three_phase(2))))
    site.cars = {key(1): charging(4.0), key(2): charging(32.0)}
    site.run(timedelta(minutes=2))
    assert site.limits()[key(1)] == 6.0
    site.cars[key(1)] = charging(5.8)
    allocation = site.cycle(EVERY)
    assert allocation.decisions[key(1)].binding is not Binding.EV_DRAW
    assert allocation.limits_a[key(1)] > 6.0


def test_a_suspended_ev_keeps_its_minimum_only_if_it_is_spare() -> None:
    site = Site(group(node("root", 40.0, three_phase(1), three_phase(2))))
    site.cars = {key(1): suspended(), key(2): charging(32.0)}
    allocation = site.run(timedelta(minutes=1))
    assert allocation.limits_a == {key(1): 6.0, key(2): 32.0}
    assert allocation.decisions[key(1)].binding is Binding.EV_SUSPENDED
    site.group = group(node("root", 13.0, three_phase(1), three_phase(2), three_phase(3)))
    site.cars[key(3)] = charging(32.0)
    allocation = site.run(timedelta(minutes=1))
    assert allocation.limits_a[key(1)] == 0.0
    assert allocation.limits_a[key(2)] > 0.0 and allocation.limits_a[key(3)] > 0.0


def test_increases_are_stepped_and_spaced_decreases_are_immediate() -> None:
    site = Site(group(node("root", 100.0, three_phase(1))))
    site.cars = {key(1): charging(32.0)}
    seen = [lim[key(1)] for lim in history(site, timedelta(minutes=1), every=timedelta(seconds=2))]
    assert seen[0] == 6.0
    rises = [(i, b - a) for i, (a, b) in enumerate(itertools.pairwise(seen)) if b > a]
    assert all(step <= 6.0 for _, step in rises)
    assert all(j - i >= 5 for (i, _), (j, _) in itertools.pairwise(rises))  # >= 10 s
    assert seen[-1] == 32.0
    site.meter_a = PhaseCurrents.uniform(80.0)
    allocation = site.cycle(timedelta(seconds=1))
    assert allocation.limits_a[key(1)] == 20.0


def test_a_damped_increase_is_named_in_the_decision() -> None:
    site = Site(group(node("root", 100.0, three_phase(1))))
    site.cars = {key(1): charging(32.0)}
    site.cycle()
    allocation = site.cycle(timedelta(seconds=10))
    assert allocation.limits_a[key(1)] == 12.0
    assert allocation.decisions[key(1)].binding is Binding.DAMPED_INCREASE
    allocation = site.cycle(timedelta(seconds=5))
    assert allocation.limits_a[key(1)] == 12.0


@pytest.mark.parametrize(
    ("building_a", "expected", "held"),
    [
        (4.6, (13.3, 13.3, 13.3), 3),  # share 13.47: a 0.1 A rise is not made
        (5.25, (13.2, 13.2, 13.3), 1),  # share 13.25: one may keep 13.3 within 39.75 A
        (5.6, (13.1, 13.1, 13.1), 0),
        (3.5, (13.8, 13.8, 13.8), 0),  # share 13.83: a 0.5 A rise is made
    ],
)
def test_changes_below_the_threshold_are_not_made(
    building_a: float, expected: tuple[float, ...], held: int
) -> None:
    site = Site(group(node("root", 45.0, three_phase(1), three_phase(2), three_phase(3))))
    site.meter_a = PhaseCurrents.uniform(5.0)
    site.cars = {key(n): charging(32.0) for n in (1, 2, 3)}
    site.run(timedelta(minutes=2))
    assert set(site.limits().values()) == {13.3}
    site.meter_a = PhaseCurrents.uniform(building_a)
    allocation = site.cycle(timedelta(seconds=15))
    assert tuple(sorted(allocation.limits_a.values())) == expected
    bindings = [d.binding for d in allocation.decisions.values()]
    assert bindings.count(Binding.BELOW_THRESHOLD) == held


def _remembering(limits: dict[int, float]) -> BalancerMemory:
    return BalancerMemory(
        connectors={key(n): ConnectorMemory(LONG_AGO, LONG_AGO) for n in limits},
        decisions={key(n): ConnectorDecision(v, Binding.GROUP_LIMIT) for n, v in limits.items()},
    )


@pytest.mark.parametrize(("root_a", "kept"), [(40.0, True), (39.95, False)])
def test_a_small_decrease_keeps_the_previous_limit_only_while_it_fits(
    root_a: float, kept: bool
) -> None:
    site = Site(group(node("root", root_a, three_phase(1), three_phase(2), three_phase(3))))
    site.cars = {key(n): charging(32.0) for n in (1, 2, 3)}
    site.memory = _remembering({1: 13.4, 2: 13.3, 3: 13.3})
    allocation = site.cycle()
    assert allocation.limits_a[key(1)] == (13.4 if kept else 13.3)


def test_a_small_decrease_below_a_lowered_cap_is_made() -> None:
    site = Site(group(node("root", 100.0, three_phase(1))))
    site.cars = {key(1): charging(32.0)}
    site.caps = {key(1): ExternalCap(16.0, "schedule")}
    site.run(timedelta(minutes=1))
    site.caps = {key(1): ExternalCap(15.8, "schedule")}
    assert site.cycle(EVERY).limits_a[key(1)] == 15.8

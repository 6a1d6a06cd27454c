"""The simulated charger's hardware: following limits after its lag, what the car draws on
which grid phase, the states it reports, reboots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amphub.domain.units import PhaseCurrents, PhaseRotation
from amphub_sim.charger import EventKind, SimCharger, Status, _share
from amphub_sim.composite import Kind, Period, Profile, Purpose, Schedule
from amphub_sim.ev import Ev, EvSpec
from amphub_sim.scenario import ChargerConfig
from amphub_sim.sessions import PlannedSession

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CAR3 = EvSpec(60, 16, 3)
CAR1 = EvSpec(40, 32, 1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def charger(
    version: str = "1.6", phases: int = 3, max_a: float = 16.0, **extra: object
) -> SimCharger:
    config = ChargerConfig(
        identity="T-01",
        version=version,
        phases=phases,
        max_a=max_a,
        rotation=extra.pop("rotation", PhaseRotation.L1L2L3),  # type: ignore[arg-type]
        lag_s=extra.pop("lag_s", 2.0),
        **extra,  # type: ignore[arg-type]
    )
    return SimCharger(config)


def limit(pid: int, level: int, amps: float, duration_s: int | None = None) -> Profile:
    return Profile(
        pid,
        level,
        Purpose.TX_DEFAULT,
        Kind.ABSOLUTE,
        Schedule("A", (Period(0, amps),), duration_s, T0),
        1,
    )


def plugged(sim: SimCharger, car: EvSpec = CAR3, need_wh: float = 20_000) -> None:
    session = PlannedSession(1, "TAG", 0, 3600, need_wh, car)
    sim.plug_in(session, Ev.arriving(car, need_wh), T0)
    if sim.dialect.value == "1.6":
        sim.transaction_started(1, "7", T0)


def test_a_new_limit_takes_effect_after_the_lag() -> None:
    sim = charger(lag_s=2.0)
    sim.update_limits(T0)
    assert sim.connectors[1].offered_a == 0.0  # the hardware maximum arrives after the lag
    sim.update_limits(at(2))
    assert sim.connectors[1].offered_a == 16.0
    sim.profiles.add(limit(1, 1, 10.0), None, at(3))
    sim.update_limits(at(3))
    sim.update_limits(at(4.9))
    assert sim.connectors[1].offered_a == 16.0
    sim.update_limits(at(5))
    assert sim.connectors[1].offered_a == 10.0
    assert sim.connectors[1].limit_source == "TxDefaultProfile#1@1"


def test_a_lapsing_dynamic_limit_falls_back_to_the_standing_one() -> None:
    sim = charger(lag_s=0.0)
    sim.profiles.add(limit(1, 0, 6.0), None, T0)
    sim.profiles.add(limit(2, 1, 14.0, duration_s=60), None, T0)
    sim.update_limits(at(30))
    assert sim.connectors[1].offered_a == 14.0
    sim.update_limits(at(61))
    assert sim.connectors[1].offered_a == 6.0


def test_the_car_draws_its_share_on_the_rotated_grid_phases() -> None:
    sim = charger(phases=3, rotation=PhaseRotation.L2L3L1, lag_s=0.0)
    plugged(sim, CAR1)  # a single-phase car on a three-phase connector
    sim.profiles.add(limit(1, 1, 10.0), "7", T0)
    sim.update_limits(T0)
    sim.step(10, T0)
    connector = sim.connectors[1]
    assert (connector.draw_a, connector.phases_used) == (10.0, 1)
    assert connector.charger_currents() == PhaseCurrents(10.0, 0.0, 0.0)
    assert sim.grid_currents() == PhaseCurrents(0.0, 10.0, 0.0)  # charger L1 is grid L2
    assert connector.energy_wh == pytest.approx(10 * 230 * 10 / 3600)


def test_states_follow_the_offer_and_the_car() -> None:
    sim = charger(lag_s=0.0)
    plugged(sim, need_wh=100)
    sim.outbox.clear()
    sim.profiles.add(limit(1, 1, 0.0), "7", T0)
    sim.update_limits(T0)
    sim.step(1, T0)
    assert sim.connectors[1].status is Status.SUSPENDED_EVSE
    sim.profiles.add(limit(1, 1, 16.0), "7", T0)
    sim.update_limits(T0)
    sim.step(1, T0)
    assert sim.connectors[1].status is Status.CHARGING
    sim.step(3600, T0)  # the car gets its 100 Wh and stops
    assert sim.connectors[1].status is Status.SUSPENDED_EV
    assert [e.status for e in sim.outbox] == [
        Status.SUSPENDED_EVSE,
        Status.CHARGING,
        Status.SUSPENDED_EV,
    ]


def test_a_16_charger_does_not_charge_before_the_transaction_is_known() -> None:
    sim = charger(lag_s=0.0)
    sim.plug_in(PlannedSession(1, "TAG", 0, 60, 5000, CAR3), Ev.arriving(CAR3, 5000), T0)
    sim.update_limits(T0)
    sim.step(60, T0)
    assert sim.connectors[1].draw_a == 0.0
    assert sim.connectors[1].status is Status.PREPARING


def test_a_201_charger_names_its_own_transaction_at_plug_in() -> None:
    sim = charger("2.0.1")
    sim.plug_in(PlannedSession(1, "TAG", 0, 60, 5000, CAR3), Ev.arriving(CAR3, 5000), T0)
    event = sim.outbox[0]
    assert event.kind is EventKind.PLUGGED
    assert event.transaction_id == sim.connectors[1].transaction_id is not None


def test_unplugging_ends_the_transaction_and_its_tx_profiles() -> None:
    sim = charger(lag_s=0.0)
    plugged(sim)
    tx_profile = Profile(5, 2, Purpose.TX, Kind.RELATIVE, Schedule("A", (Period(0, 8.0),)), 1)
    sim.profiles.add(tx_profile, "7", T0)
    sim.unplug(1, at(60))
    assert sim.outbox[-1].kind is EventKind.UNPLUGGED
    assert sim.outbox[-1].transaction_id == "7"
    assert sim.profiles.profiles == ()
    assert sim.connectors[1].status is Status.AVAILABLE


@pytest.mark.parametrize("forget", [False, True])
def test_a_reboot_stops_the_transaction_and_may_forget_profiles(forget: bool) -> None:
    sim = charger(lag_s=0.0, forget_profiles_on_reboot=forget)
    plugged(sim)
    sim.profiles.add(limit(1, 0, 6.0), "7", T0)
    sim.reboot(at(10), "SoftReset")
    assert sim.outbox[-1].kind is EventKind.STOPPED
    assert sim.outbox[-1].reason == "SoftReset"
    assert bool(sim.profiles.profiles) is not forget
    sim.resume_after_boot(at(20))
    assert sim.outbox[-1].kind is EventKind.PLUGGED


def test_a_charger_maximum_is_shared_max_min_fair() -> None:
    assert _share({1: 16.0, 2: 16.0}, 20.0) == {1: 10.0, 2: 10.0}
    assert _share({1: 6.0, 2: 16.0}, 20.0) == {1: 6.0, 2: 14.0}
    assert _share({1: 6.0}, 0.0) == {1: 0.0}


def test_settling_skips_the_lag() -> None:
    sim = charger(lag_s=5.0)
    sim.profiles.add(limit(1, 1, 10.0), None, T0)
    sim.settle(T0)
    assert sim.connectors[1].offered_a == 10.0

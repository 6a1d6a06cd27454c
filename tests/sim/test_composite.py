"""The simulated charger's profile rules (OCPP 1.6 §3.13, 2.0.1 K01/K08), one rule per test,
and a property: the composite schedule agrees with the limit at every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub_sim.composite import (
    Dialect,
    Kind,
    Period,
    Profile,
    ProfileRefused,
    ProfileStore,
    Purpose,
    Schedule,
    Transaction,
    profile_limit_a,
)

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def profile(
    pid: int,
    level: int,
    limit: float,
    *,
    purpose: Purpose = Purpose.TX_DEFAULT,
    connector: int = 1,
    start: datetime | None = T0,
    duration_s: int | None = None,
    unit: str = "A",
    periods: tuple[Period, ...] | None = None,
    kind: Kind = Kind.ABSOLUTE,
    **extra: object,
) -> Profile:
    return Profile(
        profile_id=pid,
        stack_level=level,
        purpose=purpose,
        kind=kind,
        schedule=Schedule(unit, periods or (Period(0, limit),), duration_s, start),
        connector_id=connector,
        **extra,  # type: ignore[arg-type]
    )


def store(dialect: Dialect = Dialect.V16) -> ProfileStore:
    return ProfileStore(dialect, [1, 2], max_stack_level=5)


def test_highest_stack_level_in_force_wins() -> None:
    s = store()
    s.add(profile(1, 0, 10.0), None, T0)
    s.add(profile(2, 1, 16.0), None, T0)
    limit = s.limit_at(1, at(5))
    assert limit.tx_a == 16.0
    assert limit.source == "TxDefaultProfile#2@1"


def test_a_lapsed_schedule_falls_back_to_the_lower_level() -> None:
    s = store()
    s.add(profile(1, 0, 6.0, start=None), None, T0)
    s.add(profile(2, 1, 16.0, duration_s=60), None, T0)
    assert s.limit_at(1, at(59.9)).tx_a == 16.0
    assert s.limit_at(1, at(60)).tx_a == 6.0


def test_nothing_in_force_means_no_limit_from_profiles() -> None:
    s = store()
    s.add(profile(2, 1, 16.0, duration_s=60), None, T0)
    assert s.limit_at(1, at(120)).tx_a is None
    assert s.limit_at(1, at(-1)).tx_a is None  # not started yet


def test_connector_specific_default_shadows_connector_zero_at_the_same_level() -> None:
    s = store()
    s.add(profile(1, 1, 10.0, connector=0), None, T0)
    s.add(profile(2, 1, 20.0, connector=1), None, T0)
    assert s.limit_at(1, at(1)).tx_a == 20.0
    assert s.limit_at(2, at(1)).tx_a == 10.0  # connector 0 covers every connector


def test_a_higher_level_on_connector_zero_beats_the_connector_profile() -> None:
    s = store()
    s.add(profile(1, 2, 10.0, connector=0), None, T0)
    s.add(profile(2, 1, 20.0, connector=1), None, T0)
    assert s.limit_at(1, at(1)).tx_a == 10.0


def test_tx_profile_overrules_tx_default_for_its_transaction_only() -> None:
    s = store()
    tx = Transaction("42", T0)
    s.add(profile(1, 3, 10.0), None, T0)
    s.add(profile(2, 0, 25.0, purpose=Purpose.TX), "42", T0)
    assert s.limit_at(1, at(1), tx).tx_a == 25.0
    assert s.limit_at(1, at(1), Transaction("43", T0)).tx_a == 10.0
    s.end_transaction(1)
    assert s.limit_at(1, at(1), tx).tx_a == 10.0


def test_tx_profile_needs_a_running_transaction() -> None:
    with pytest.raises(ProfileRefused, match="transaction"):
        store().add(profile(1, 0, 10.0, purpose=Purpose.TX), None, T0)


def test_charger_maximum_is_reported_beside_the_connector_limit() -> None:
    s = store()
    s.add(profile(1, 0, 20.0), None, T0)
    s.add(profile(9, 0, 12.0, purpose=Purpose.CHARGER_MAX, connector=0), None, T0)
    limit = s.limit_at(1, at(1))
    assert (limit.tx_a, limit.charger_max_a) == (20.0, 12.0)


def test_charger_maximum_only_on_connector_zero() -> None:
    with pytest.raises(ProfileRefused, match="connector 0"):
        store().add(profile(9, 0, 12.0, purpose=Purpose.CHARGER_MAX, connector=1), None, T0)


def test_watts_become_amperes_per_phase_with_the_period_phases() -> None:
    three = profile(1, 0, 11040.0, unit="W")
    one = profile(2, 0, 0, unit="W", periods=(Period(0, 3680.0, 1),))
    assert profile_limit_a(three, at(1)) == pytest.approx(16.0)
    assert profile_limit_a(one, at(1)) == pytest.approx(16.0)


def test_periods_step_within_a_schedule() -> None:
    p = profile(1, 0, 0, periods=(Period(0, 6.0), Period(30, 10.0), Period(90, 16.0)))
    assert [profile_limit_a(p, at(s)) for s in (0, 29, 30, 89, 90, 5000)] == [
        6.0,
        6.0,
        10.0,
        10.0,
        16.0,
        16.0,
    ]


def test_relative_schedule_starts_with_the_transaction() -> None:
    p = profile(
        1, 0, 0, kind=Kind.RELATIVE, start=None, periods=(Period(0, 6.0), Period(600, 16.0))
    )
    tx = Transaction("1", at(1000))
    assert profile_limit_a(p, at(1500), tx) == 6.0
    assert profile_limit_a(p, at(1600), tx) == 16.0
    assert profile_limit_a(p, at(1600), None) == 6.0  # no transaction: about to start


def test_recurring_daily_schedule_repeats() -> None:
    p = profile(
        1, 0, 0, kind=Kind.RECURRING, recurrency="Daily", duration_s=3600, periods=(Period(0, 8.0),)
    )
    assert profile_limit_a(p, at(1800)) == 8.0
    assert profile_limit_a(p, at(7200)) is None
    assert profile_limit_a(p, at(86_400 + 1800)) == 8.0


def test_validity_window_bounds_a_profile() -> None:
    p = profile(1, 0, 8.0, valid_from=at(10), valid_to=at(20))
    assert [profile_limit_a(p, at(s)) for s in (9, 10, 19, 20)] == [None, 8.0, 8.0, None]


def test_same_id_replaces() -> None:
    s = store(Dialect.V201)
    s.add(profile(1, 1, 10.0), None, T0)
    s.add(profile(1, 1, 12.0), None, T0)
    assert len(s.profiles) == 1
    assert s.limit_at(1, at(1)).tx_a == 12.0


def test_same_purpose_and_level_replaces_in_16_and_is_refused_in_201() -> None:
    old = store(Dialect.V16)
    old.add(profile(1, 1, 10.0), None, T0)
    old.add(profile(2, 1, 12.0), None, T0)
    assert [p.profile_id for p in old.profiles] == [2]
    new = store(Dialect.V201)
    new.add(profile(1, 1, 10.0), None, T0)
    with pytest.raises(ProfileRefused, match="same purpose and stack level"):
        new.add(profile(2, 1, 12.0), None, T0)


def test_201_needs_a_start_for_absolute_schedules_and_none_for_relative() -> None:
    with pytest.raises(ProfileRefused, match="needs a start"):
        store(Dialect.V201).add(profile(1, 0, 6.0, start=None), None, T0)
    with pytest.raises(ProfileRefused, match="no start"):
        store(Dialect.V201).add(profile(1, 0, 6.0, kind=Kind.RELATIVE), None, T0)


def test_16_absolute_without_start_runs_from_receipt_or_the_transaction() -> None:
    s = store(Dialect.V16)
    s.add(profile(1, 0, 0, start=None, duration_s=60, periods=(Period(0, 7.0),)), None, at(100))
    assert s.limit_at(1, at(130)).tx_a == 7.0
    assert s.limit_at(1, at(170)).tx_a is None
    assert s.limit_at(1, at(170), Transaction("1", at(150))).tx_a == 7.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"stack_level": 6}, "stack level"),
        ({"connector_id": 7}, "no connector"),
        ({"schedule": Schedule("A", (Period(5, 6.0),))}, "start at 0"),
        ({"schedule": Schedule("A", (Period(0, 6.0), Period(0, 7.0)))}, "increase"),
    ],
)
def test_malformed_profiles_are_refused(change: dict[str, object], reason: str) -> None:
    from dataclasses import replace

    bad = replace(profile(1, 0, 6.0), **change)  # type: ignore[arg-type]
    with pytest.raises(ProfileRefused, match=reason):
        store().add(bad, None, T0)


def test_unsupported_rate_unit_is_refused() -> None:
    s = ProfileStore(Dialect.V16, [1], rate_units=frozenset({"A"}))
    with pytest.raises(ProfileRefused, match="rate unit"):
        s.add(profile(1, 0, 11000.0, unit="W"), None, T0)


def test_clear_by_criteria() -> None:
    s = store()
    s.add(profile(1, 0, 6.0), None, T0)
    s.add(profile(2, 1, 10.0), None, T0)
    s.add(profile(3, 1, 10.0, connector=2), None, T0)
    assert s.clear(connector_id=1, stack_level=1)
    assert sorted(p.profile_id for p in s.profiles) == [1, 3]
    assert not s.clear(profile_id=99)
    assert s.clear()
    assert s.profiles == ()


def test_composite_schedule_shows_the_lapse_and_the_fallback() -> None:
    s = store()
    s.add(profile(1, 0, 6.0, start=None), None, T0)
    s.add(profile(2, 1, 16.0, duration_s=300), None, T0)
    s.add(profile(9, 0, 13.0, purpose=Purpose.CHARGER_MAX, connector=0), None, T0)
    assert s.composite(1, at(100), 600, hardware_max_a=32.0) == [(0, 13.0), (200, 6.0)]
    assert s.composite(0, at(100), 600, hardware_max_a=32.0) == [(0, 13.0)]


def test_composite_without_profiles_is_the_hardware_maximum() -> None:
    assert store().composite(1, T0, 60, hardware_max_a=32.0) == [(0, 32.0)]


_levels = st.integers(0, 3)
_limits = st.sampled_from([0.0, 6.0, 8.0, 10.0, 16.0, 20.0])


@st.composite
def _profiles(draw: st.DrawFn) -> list[Profile]:
    found = []
    for pid in range(1, draw(st.integers(1, 6)) + 1):
        starts = sorted(set(draw(st.lists(st.integers(1, 500), max_size=3))))
        periods = (Period(0, draw(_limits)), *(Period(s, draw(_limits)) for s in starts))
        found.append(
            profile(
                pid,
                draw(_levels),
                0.0,
                connector=draw(st.sampled_from([0, 1])),
                start=at(draw(st.integers(-300, 300))),
                duration_s=draw(st.one_of(st.none(), st.integers(1, 900))),
                periods=periods,
                purpose=draw(st.sampled_from([Purpose.TX_DEFAULT, Purpose.CHARGER_MAX])),
            )
        )
    return found


@settings(max_examples=150, deadline=None)
@given(_profiles(), st.lists(st.integers(0, 1199), min_size=1, max_size=20))
def test_composite_agrees_with_the_limit_at_every_instant(
    profiles: list[Profile], probes: list[int]
) -> None:
    s = store()
    for p in profiles:
        if p.purpose is Purpose.CHARGER_MAX and p.connector_id != 0:
            continue
        s.add(p, None, T0)
    steps = s.composite(1, T0, 1200, hardware_max_a=32.0)
    assert steps[0][0] == 0
    for probe in probes:
        expected = 32.0
        limit = s.limit_at(1, at(probe))
        for bound in (limit.tx_a, limit.charger_max_a):
            if bound is not None:
                expected = min(expected, bound)
        shown = [value for offset, value in steps if offset <= probe][-1]
        assert shown == pytest.approx(expected)

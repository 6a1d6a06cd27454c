"""Charging profiles: validation, A↔W conversion, the charger's reported capabilities."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amphub.domain.errors import InvalidValue
from amphub.domain.smart_charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    RecurrencyKind,
    SchedulePeriod,
    SmartChargingCapabilities,
    convert_limit,
)

A = ChargingRateUnit.AMPERES
W = ChargingRateUnit.WATTS


def _profile(stack_level: int = 1, unit: ChargingRateUnit = A) -> ChargingProfile:
    return ChargingProfile(
        profile_id=7,
        stack_level=stack_level,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.ABSOLUTE,
        schedule=ChargingSchedule(unit, (SchedulePeriod(0, 16.0),)),
    )


def test_watts_and_amperes_convert_with_phases_and_voltage() -> None:
    assert convert_limit(16.0, A, W, 3) == pytest.approx(11_040.0)
    assert convert_limit(7_360.0, W, A, 1) == pytest.approx(32.0)
    assert convert_limit(16.0, A, A, 3) == 16.0
    with pytest.raises(InvalidValue):
        convert_limit(16.0, A, W, 0)


@given(
    st.floats(min_value=0, max_value=1000, allow_nan=False),
    st.sampled_from([1, 2, 3]),
    st.floats(min_value=100, max_value=400),
)
def test_conversion_round_trips(limit: float, phases: int, voltage: float) -> None:
    there = convert_limit(limit, A, W, phases, voltage)
    assert convert_limit(there, W, A, phases, voltage) == pytest.approx(limit, abs=1e-9)


def test_a_schedule_converts_per_period_phase_count() -> None:
    schedule = ChargingSchedule(
        A, (SchedulePeriod(0, 16.0), SchedulePeriod(600, 10.0, number_phases=1)), min_rate=6.0
    )
    in_watts = schedule.in_unit(W, default_phases=3)
    assert in_watts.rate_unit is W
    assert [p.limit for p in in_watts.periods] == pytest.approx([11_040.0, 2_300.0])
    assert in_watts.min_rate == pytest.approx(4_140.0)
    assert schedule.in_unit(A, 3) is schedule


@pytest.mark.parametrize(
    "periods",
    [(), (SchedulePeriod(5, 16.0),), (SchedulePeriod(0, 16.0), SchedulePeriod(0, 10.0))],
)
def test_bad_schedules_are_refused(periods: tuple[SchedulePeriod, ...]) -> None:
    with pytest.raises(InvalidValue):
        ChargingSchedule(A, periods)


def test_profile_rules() -> None:
    with pytest.raises(InvalidValue):
        SchedulePeriod(0, -1.0)
    with pytest.raises(InvalidValue, match="recurrency"):
        ChargingProfile(
            1,
            0,
            ChargingProfilePurpose.TX,
            ChargingProfileKind.RECURRING,
            ChargingSchedule(A, (SchedulePeriod(0, 6.0),)),
        )
    with pytest.raises(InvalidValue, match="transaction"):
        ChargingProfile(
            1,
            0,
            ChargingProfilePurpose.TX_DEFAULT,
            ChargingProfileKind.ABSOLUTE,
            ChargingSchedule(A, (SchedulePeriod(0, 6.0),)),
            transaction_ref="5",
        )
    with pytest.raises(InvalidValue, match="valid_from"):
        ChargingProfile(
            1,
            0,
            ChargingProfilePurpose.TX_DEFAULT,
            ChargingProfileKind.ABSOLUTE,
            ChargingSchedule(A, (SchedulePeriod(0, 6.0),)),
            valid_from=datetime(2026, 1, 1),
        )
    ChargingProfile(
        1,
        0,
        ChargingProfilePurpose.CHARGER_MAX,
        ChargingProfileKind.RECURRING,
        ChargingSchedule(A, (SchedulePeriod(0, 6.0),)),
        recurrency=RecurrencyKind.DAILY,
    )


@pytest.mark.parametrize(
    ("level", "units", "expected"),
    [
        ("3", "Current,Power", SmartChargingCapabilities(3, frozenset({A, W}))),
        (" 8 ", "Current", SmartChargingCapabilities(8, frozenset({A}))),
        ("5", "A,W", SmartChargingCapabilities(5, frozenset({A, W}))),
        ("x", "Power", SmartChargingCapabilities(None, frozenset({W}))),
        ("-1", None, SmartChargingCapabilities(None, frozenset())),
        (None, "", SmartChargingCapabilities(None, frozenset())),
    ],
)
def test_reported_capabilities_parse(
    level: str | None, units: str | None, expected: SmartChargingCapabilities
) -> None:
    assert SmartChargingCapabilities.from_reported(level, units) == expected


def test_capabilities_refuse_what_the_charger_cannot_take() -> None:
    capabilities = SmartChargingCapabilities(2, frozenset({W}))
    with pytest.raises(InvalidValue, match="stack_level"):
        capabilities.check(_profile(stack_level=3, unit=W))
    with pytest.raises(InvalidValue, match="rate_unit"):
        capabilities.check(_profile(stack_level=2, unit=A))
    capabilities.check(_profile(stack_level=2, unit=W))
    SmartChargingCapabilities().check(_profile(stack_level=99))
    assert capabilities.preferred_unit() is W
    assert SmartChargingCapabilities(2, frozenset({A, W})).preferred_unit() is A

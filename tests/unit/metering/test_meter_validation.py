"""Every plausibility rule for meter readings, table-driven."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.metering import (
    MeterReading,
    PhasePowers,
    PhaseVoltages,
    Rejection,
    RejectionReason,
    validate_reading,
)
from amphub.domain.units import PhaseCurrents

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
FUSE_A = 25.0


def reading(
    *,
    at: datetime = NOW,
    currents: tuple[float, float, float] = (10.0, -4.0, 0.5),
    voltages: tuple[float, float, float] | None = (230.0, 231.0, 229.5),
    power_w: float | None = 1500.0,
    powers: tuple[float, float, float] | None = (2300.0, -900.0, 100.0),
    import_wh: float | None = 1_000_000.0,
    export_wh: float | None = 5_000.0,
) -> MeterReading:
    return MeterReading(
        measured_at=at,
        currents_a=PhaseCurrents(*currents),
        voltages_v=None if voltages is None else PhaseVoltages(*voltages),
        power_w=power_w,
        power_w_per_phase=None if powers is None else PhasePowers(*powers),
        energy_import_wh=import_wh,
        energy_export_wh=export_wh,
    )


def check(
    candidate: MeterReading,
    *,
    last: MeterReading | None = None,
    recent: tuple[MeterReading, ...] = (),
    frozen_after_n: int | None = 30,
) -> Rejection | None:
    return validate_reading(
        candidate,
        main_fuse_a=FUSE_A,
        last_accepted=last,
        recent=recent,
        frozen_after_n=frozen_after_n,
        now=NOW,
    )


EARLIER = reading(at=NOW - timedelta(seconds=1))

# (case id, candidate, last accepted, expected field, expected reason)
CASES: list[tuple[str, MeterReading, MeterReading | None, str, RejectionReason]] = [
    (
        "nan current",
        reading(currents=(math.nan, 0, 0)),
        None,
        "currents_a.l1",
        RejectionReason.NOT_FINITE,
    ),
    (
        "inf current",
        reading(currents=(0, 0, -math.inf)),
        None,
        "currents_a.l3",
        RejectionReason.NOT_FINITE,
    ),
    (
        "nan voltage",
        reading(voltages=(230, math.nan, 230)),
        None,
        "voltages_v.l2",
        RejectionReason.NOT_FINITE,
    ),
    ("inf power", reading(power_w=math.inf), None, "power_w", RejectionReason.NOT_FINITE),
    (
        "nan phase power",
        reading(powers=(0, 0, math.nan)),
        None,
        "power_w_per_phase.l3",
        RejectionReason.NOT_FINITE,
    ),
    (
        "nan import",
        reading(import_wh=math.nan),
        None,
        "energy_import_wh",
        RejectionReason.NOT_FINITE,
    ),
    (
        "inf export",
        reading(export_wh=math.inf),
        None,
        "energy_export_wh",
        RejectionReason.NOT_FINITE,
    ),
    (
        "current above 2x fuse",
        reading(currents=(0, 50.01, 0)),
        None,
        "currents_a.l2",
        RejectionReason.CURRENT_OUT_OF_RANGE,
    ),
    (
        "export above 2x fuse",
        reading(currents=(0, 0, -50.5)),
        None,
        "currents_a.l3",
        RejectionReason.CURRENT_OUT_OF_RANGE,
    ),
    (
        "voltage above 300",
        reading(voltages=(230, 230, 300.1)),
        None,
        "voltages_v.l3",
        RejectionReason.VOLTAGE_OUT_OF_RANGE,
    ),
    (
        "negative voltage",
        reading(voltages=(-1, 230, 230)),
        None,
        "voltages_v.l1",
        RejectionReason.VOLTAGE_OUT_OF_RANGE,
    ),
    (
        "phase power beyond the fuse",
        reading(powers=(0, 15_000.1, 0)),
        None,
        "power_w_per_phase.l2",
        RejectionReason.POWER_OUT_OF_RANGE,
    ),
    (
        "total power beyond the fuse",
        reading(power_w=-45_000.1),
        None,
        "power_w",
        RejectionReason.POWER_OUT_OF_RANGE,
    ),
    (
        "negative import",
        reading(import_wh=-1),
        None,
        "energy_import_wh",
        RejectionReason.NEGATIVE_ENERGY,
    ),
    (
        "negative export",
        reading(export_wh=-0.1),
        None,
        "energy_export_wh",
        RejectionReason.NEGATIVE_ENERGY,
    ),
    (
        "more than 5 s ahead",
        reading(at=NOW + timedelta(seconds=5, milliseconds=1)),
        None,
        "measured_at",
        RejectionReason.IN_FUTURE,
    ),
    ("older than last", EARLIER, reading(), "measured_at", RejectionReason.OUT_OF_ORDER),
    ("duplicate", reading(), reading(), "measured_at", RejectionReason.DUPLICATE),
    (
        "same time, other values",
        reading(currents=(1, 2, 3)),
        reading(),
        "measured_at",
        RejectionReason.CONFLICT,
    ),
    (
        "import counter backwards",
        reading(import_wh=999_999.0),
        EARLIER,
        "energy_import_wh",
        RejectionReason.ENERGY_DECREASED,
    ),
    (
        "export counter backwards",
        reading(export_wh=4_999.0),
        EARLIER,
        "energy_export_wh",
        RejectionReason.ENERGY_DECREASED,
    ),
]


@pytest.mark.parametrize(
    ("candidate", "last", "field", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_rejects_with_field_and_reason(
    candidate: MeterReading, last: MeterReading | None, field: str, reason: RejectionReason
) -> None:
    rejection = check(candidate, last=last)
    assert rejection is not None
    assert (rejection.field, rejection.reason) == (field, reason)
    assert rejection.message


ACCEPTED: list[tuple[str, MeterReading, MeterReading | None]] = [
    ("plain", reading(), None),
    (
        "only currents",
        reading(voltages=None, power_w=None, powers=None, import_wh=None, export_wh=None),
        None,
    ),
    ("exactly 2x fuse", reading(currents=(50.0, -50.0, 0)), None),
    ("0 V is a lost phase", reading(voltages=(0, 230, 230)), None),
    ("300 V still plausible", reading(voltages=(300, 230, 230)), None),
    ("5 s ahead is tolerated", reading(at=NOW + timedelta(seconds=5)), None),
    ("newer than last", reading(), EARLIER),
    ("counters unchanged", reading(), replace(EARLIER, currents_a=PhaseCurrents(1, 1, 1))),
    ("counter appears", reading(), replace(EARLIER, energy_import_wh=None)),
    ("counter disappears", reading(import_wh=None), EARLIER),
    ("old but first", reading(at=NOW - timedelta(days=3)), None),
]


@pytest.mark.parametrize(
    ("candidate", "last"), [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED]
)
def test_plausible_readings_pass(candidate: MeterReading, last: MeterReading | None) -> None:
    assert check(candidate, last=last) is None


def test_first_failing_rule_wins_nan_before_range() -> None:
    rejection = check(reading(currents=(100.0, math.nan, 0)))
    assert rejection is not None
    assert rejection.reason is RejectionReason.NOT_FINITE


def _run(n: int) -> tuple[MeterReading, ...]:
    """``n`` accepted readings with identical values, one second apart, ending before NOW."""
    return tuple(reading(at=NOW - timedelta(seconds=n - i)) for i in range(n))


@pytest.mark.parametrize(
    ("n", "run_length", "frozen"),
    [
        (30, 28, False),  # the 29th identical reading is still accepted
        (30, 29, True),  # the 30th is refused
        (30, 100, True),  # and every one after
        (2, 1, True),
        (2, 0, False),
        (None, 1000, False),  # rule switched off
    ],
)
def test_frozen_after_n_identical_readings(n: int | None, run_length: int, frozen: bool) -> None:
    recent = _run(run_length)
    rejection = check(
        reading(), last=recent[-1] if recent else None, recent=recent, frozen_after_n=n
    )
    if frozen:
        assert rejection is not None
        assert (rejection.field, rejection.reason) == ("", RejectionReason.FROZEN)
    else:
        assert rejection is None


def test_one_changed_value_breaks_the_run() -> None:
    recent = _run(29)
    changed = (*recent[:-1], replace(recent[-1], energy_import_wh=1000001.0))
    assert check(reading(import_wh=1_000_001.0), last=changed[-1], recent=changed) is None
    recent_with_gap = (*recent[:10], replace(recent[10], power_w=1501.0), *recent[11:])
    assert check(reading(), last=recent[-1], recent=recent_with_gap) is None


def test_frozen_after_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        check(reading(), frozen_after_n=1)


def test_measured_at_is_normalised_to_utc_and_must_be_aware() -> None:
    cet = timezone(timedelta(hours=1))
    local = reading(at=datetime(2025, 3, 1, 13, 0, tzinfo=cet))
    assert local.measured_at == NOW
    assert local.measured_at.tzinfo is UTC
    with pytest.raises(InvalidValue) as raised:
        reading(at=datetime(2025, 3, 1, 12, 0))
    assert raised.value.field == "measured_at"

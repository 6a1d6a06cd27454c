"""Plausibility rules a reading must pass before anything else sees it (SPEC §3, issue 4).

A rejected reading is never passed to the balancer: bad meter data must lead to fail-safe
amps (through the meter falling INACTIVE), not to a wrong allocation.

The rules, in the order they are checked (the first that fails names the rejection):

1. every number is finite (no NaN, no ±inf);
2. |current| on each phase ≤ 2 × the main fuse (a fuse carries about 1.45 × its rating for
   an hour before it blows; twice the rating on a reading means a wiring or scaling error);
3. voltages within 0–300 V phase-to-neutral (230 V nominal, EN 50160 allows ±10 %; 0 V is a
   lost phase and is kept);
4. active power plausible: per phase ≤ 2 × fuse × 300 V, in total ≤ three times that;
5. energy counters not negative;
6. ``measured_at`` not more than 5 s ahead of the server's clock;
7. ``measured_at`` after the last accepted reading: earlier is *out of order*; equal with the
   same values is a *duplicate* (a retry); equal with other values is a *conflict*;
8. energy counters never go backwards against the last accepted reading;
9. not *frozen*: ``frozen_after_n`` consecutive readings with identical values (the reading
   that would make the N-th is refused; a stuck meter gateway repeats its last values with
   fresh timestamps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from amphub.domain.metering.readings import MeterReading

MAX_FUTURE_SKEW = timedelta(seconds=5)
"""How far a meter's clock may run ahead of ours before its readings are refused."""

FUSE_FACTOR = 2.0
"""A current above this multiple of the main fuse is not a measurement but an error."""

MIN_VOLTAGE_V = 0.0
MAX_VOLTAGE_V = 300.0

DEFAULT_FROZEN_AFTER_N = 30
"""Identical readings in a row that mark a meter as frozen: 30 s at the usual 1 Hz, the
same as the default meter timeout. A live meter's voltages and energy counters change
every second; a meter that reports only whole amps on an idle site may need more (or
``None`` to switch the rule off)."""


_PHASE_KEYS = ("l1", "l2", "l3")


class RejectionReason(StrEnum):
    """Why a reading was refused; a stable code for APIs, logs and counters."""

    NOT_FINITE = "not_finite"
    CURRENT_OUT_OF_RANGE = "current_out_of_range"
    VOLTAGE_OUT_OF_RANGE = "voltage_out_of_range"
    POWER_OUT_OF_RANGE = "power_out_of_range"
    NEGATIVE_ENERGY = "negative_energy"
    IN_FUTURE = "in_future"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    ENERGY_DECREASED = "energy_decreased"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused reading: the field at fault (``""`` for the reading as a whole), a code and
    a sentence for humans."""

    field: str
    reason: RejectionReason
    message: str


def validate_reading(
    reading: MeterReading,
    *,
    main_fuse_a: float,
    last_accepted: MeterReading | None,
    recent: Sequence[MeterReading],
    frozen_after_n: int | None,
    now: datetime,
) -> Rejection | None:
    """``None`` if the reading may be used, else the first rule it breaks.

    ``recent`` holds the latest accepted readings, oldest first (at least
    ``frozen_after_n - 1`` of them for the frozen rule to see a run); ``last_accepted`` is
    normally ``recent[-1]``.
    """
    return (
        _check_values(reading, main_fuse_a)
        or _check_time(reading, last_accepted, now)
        or _check_counters(reading, last_accepted)
        or _check_frozen(reading, recent, frozen_after_n)
    )


def _check_values(reading: MeterReading, main_fuse_a: float) -> Rejection | None:
    for field_name, value in reading.numeric_fields():
        if not math.isfinite(value):
            return Rejection(field_name, RejectionReason.NOT_FINITE, f"{value} is not a number")
    max_current_a = FUSE_FACTOR * main_fuse_a
    for key, value in zip(_PHASE_KEYS, reading.currents_a.as_tuple(), strict=True):
        if abs(value) > max_current_a:
            return Rejection(
                f"currents_a.{key}",
                RejectionReason.CURRENT_OUT_OF_RANGE,
                f"{value} A exceeds {FUSE_FACTOR:g} × the main fuse of {main_fuse_a:g} A",
            )
    if reading.voltages_v is not None:
        for key, value in zip(_PHASE_KEYS, reading.voltages_v.as_tuple(), strict=True):
            if not MIN_VOLTAGE_V <= value <= MAX_VOLTAGE_V:
                return Rejection(
                    f"voltages_v.{key}",
                    RejectionReason.VOLTAGE_OUT_OF_RANGE,
                    f"{value} V is outside {MIN_VOLTAGE_V:g}–{MAX_VOLTAGE_V:g} V",
                )
    max_phase_power_w = max_current_a * MAX_VOLTAGE_V
    if reading.power_w_per_phase is not None:
        for key, value in zip(_PHASE_KEYS, reading.power_w_per_phase.as_tuple(), strict=True):
            if abs(value) > max_phase_power_w:
                return Rejection(
                    f"power_w_per_phase.{key}",
                    RejectionReason.POWER_OUT_OF_RANGE,
                    f"{value} W is more than one phase can carry ({max_phase_power_w:g} W)",
                )
    max_total_power_w = 3 * max_phase_power_w
    if reading.power_w is not None and abs(reading.power_w) > max_total_power_w:
        return Rejection(
            "power_w",
            RejectionReason.POWER_OUT_OF_RANGE,
            f"{reading.power_w} W is more than three phases can carry ({max_total_power_w:g} W)",
        )
    for field_name, energy_wh in (
        ("energy_import_wh", reading.energy_import_wh),
        ("energy_export_wh", reading.energy_export_wh),
    ):
        if energy_wh is not None and energy_wh < 0:
            return Rejection(
                field_name,
                RejectionReason.NEGATIVE_ENERGY,
                f"{energy_wh} Wh: a counter is never negative",
            )
    return None


def _check_time(
    reading: MeterReading, last: MeterReading | None, now: datetime
) -> Rejection | None:
    if reading.measured_at > now + MAX_FUTURE_SKEW:
        ahead_s = (reading.measured_at - now).total_seconds()
        return Rejection(
            "measured_at",
            RejectionReason.IN_FUTURE,
            f"{ahead_s:.1f} s ahead of the server's clock (at most "
            f"{MAX_FUTURE_SKEW.total_seconds():g} s allowed); check the meter's clock (NTP)",
        )
    if last is None or reading.measured_at > last.measured_at:
        return None
    if reading.measured_at < last.measured_at:
        return Rejection(
            "measured_at",
            RejectionReason.OUT_OF_ORDER,
            f"older than the last accepted reading ({last.measured_at.isoformat()})",
        )
    if reading.values_key() == last.values_key():
        return Rejection(
            "measured_at", RejectionReason.DUPLICATE, "this reading was already accepted"
        )
    return Rejection(
        "measured_at",
        RejectionReason.CONFLICT,
        "same timestamp as the last accepted reading but different values",
    )


def _check_counters(reading: MeterReading, last: MeterReading | None) -> Rejection | None:
    if last is None:
        return None
    for field_name, value, previous in (
        ("energy_import_wh", reading.energy_import_wh, last.energy_import_wh),
        ("energy_export_wh", reading.energy_export_wh, last.energy_export_wh),
    ):
        if value is not None and previous is not None and value < previous:
            return Rejection(
                field_name,
                RejectionReason.ENERGY_DECREASED,
                f"{value} Wh is below the last accepted {previous} Wh; a counter only grows",
            )
    return None


def _check_frozen(
    reading: MeterReading, recent: Sequence[MeterReading], frozen_after_n: int | None
) -> Rejection | None:
    if frozen_after_n is None:
        return None
    if frozen_after_n < 2:
        raise ValueError("frozen_after_n must be at least 2")
    if len(recent) < frozen_after_n - 1:
        return None
    key = reading.values_key()
    run = range(len(recent) - (frozen_after_n - 1), len(recent))  # indices, not a slice: deques
    if all(recent[i].values_key() == key for i in run):
        return Rejection(
            "",
            RejectionReason.FROZEN,
            f"the same values {frozen_after_n} times in a row: the meter looks frozen",
        )
    return None

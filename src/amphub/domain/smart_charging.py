"""Charging profiles, version-neutral: what the balancer's dispatch sends to a charger.

A profile limits a connector (or the whole charger) over time. Chargers stack profiles by
``stack_level`` (higher wins within a purpose) and accept limits in amperes or watts
(``ChargingScheduleAllowedChargingRateUnit`` in 1.6, ``SmartChargingCtrlr.RateUnit`` in
2.0.1); they also cap the stack level (``ChargeProfileMaxStackLevel`` /
``SmartChargingCtrlr.ProfileStackLevel``). :class:`SmartChargingCapabilities` holds what a
charger said, and :meth:`SmartChargingCapabilities.check` refuses a profile it cannot take
before anything goes on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from amphub.domain.errors import InvalidValue
from amphub.domain.units import NOMINAL_VOLTAGE_V


class ChargingRateUnit(StrEnum):
    AMPERES = "A"
    WATTS = "W"


class ChargingProfilePurpose(StrEnum):
    CHARGER_MAX = "charger_max"
    """1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile: caps the whole charger."""
    TX_DEFAULT = "tx_default"
    """The standing default for new transactions (the fail-safe level)."""
    TX = "tx"
    """For one running transaction only."""


class ChargingProfileKind(StrEnum):
    ABSOLUTE = "absolute"
    RECURRING = "recurring"
    RELATIVE = "relative"


class RecurrencyKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """From ``start_s`` seconds after the schedule's start, at most ``limit`` (in the
    schedule's rate unit) on ``number_phases`` phases (None: the charger's default, 3)."""

    start_s: int
    limit: float
    number_phases: int | None = None

    def __post_init__(self) -> None:
        if self.start_s < 0:
            raise InvalidValue("start_s", "must not be negative")
        if not self.limit >= 0:
            raise InvalidValue("limit", "must be a non-negative number")
        if self.number_phases not in (None, 1, 2, 3):
            raise InvalidValue("number_phases", "must be 1, 2 or 3")


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    rate_unit: ChargingRateUnit
    periods: tuple[SchedulePeriod, ...]
    duration_s: int | None = None
    start_at: datetime | None = None
    min_rate: float | None = None

    def __post_init__(self) -> None:
        if not self.periods:
            raise InvalidValue("periods", "a schedule has at least one period")
        if self.periods[0].start_s != 0:
            raise InvalidValue("periods", "the first period starts at 0 s")
        starts = [period.start_s for period in self.periods]
        if starts != sorted(set(starts)):
            raise InvalidValue("periods", "periods start at strictly increasing offsets")
        if self.duration_s is not None and self.duration_s <= 0:
            raise InvalidValue("duration_s", "must be positive")
        if self.start_at is not None and self.start_at.tzinfo is None:
            raise InvalidValue("start_at", "must be timezone-aware")

    def in_unit(
        self,
        unit: ChargingRateUnit,
        default_phases: int,
        voltage_v: float = NOMINAL_VOLTAGE_V,
    ) -> ChargingSchedule:
        """The same schedule with its limits in ``unit``: W = A × phases × V per period,
        using the period's own phase count when it has one."""
        if unit is self.rate_unit:
            return self
        periods = tuple(
            replace(
                period,
                limit=convert_limit(
                    period.limit,
                    self.rate_unit,
                    unit,
                    period.number_phases or default_phases,
                    voltage_v,
                ),
            )
            for period in self.periods
        )
        min_rate = (
            None
            if self.min_rate is None
            else convert_limit(self.min_rate, self.rate_unit, unit, default_phases, voltage_v)
        )
        return replace(self, rate_unit=unit, periods=periods, min_rate=min_rate)


def convert_limit(
    limit: float,
    from_unit: ChargingRateUnit,
    to_unit: ChargingRateUnit,
    phases: int,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> float:
    """A per-phase current in A ↔ a total power in W on ``phases`` phases at ``voltage_v``."""
    if phases not in (1, 2, 3):
        raise InvalidValue("phases", "must be 1, 2 or 3")
    if from_unit is to_unit:
        return limit
    if from_unit is ChargingRateUnit.AMPERES:
        return limit * phases * voltage_v
    return limit / (phases * voltage_v)


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    profile_id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    schedule: ChargingSchedule
    recurrency: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_ref: str | None = None
    """For a TX profile: the charger's transaction id (1.6: our id as text)."""

    def __post_init__(self) -> None:
        if self.profile_id <= 0:
            raise InvalidValue("profile_id", "must be positive")
        if self.stack_level < 0:
            raise InvalidValue("stack_level", "must not be negative")
        if (self.kind is ChargingProfileKind.RECURRING) != (self.recurrency is not None):
            raise InvalidValue("recurrency", "is given exactly for recurring profiles")
        if self.transaction_ref is not None and self.purpose is not ChargingProfilePurpose.TX:
            raise InvalidValue("transaction_ref", "only a TX profile names a transaction")
        for name in ("valid_from", "valid_to"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise InvalidValue(name, "must be timezone-aware")


@dataclass(frozen=True, slots=True)
class SmartChargingCapabilities:
    """What a charger reported about its smart charging (read after boot)."""

    max_stack_level: int | None = None
    rate_units: frozenset[ChargingRateUnit] = frozenset()

    @classmethod
    def from_reported(
        cls, max_stack_level: str | None, rate_units: str | None
    ) -> SmartChargingCapabilities:
        """Parse the configuration values as chargers send them: the stack level as an
        integer, the units as a comma-separated list of ``Current``/``Power`` (1.6) or
        ``A``/``W`` (2.0.1). Unparseable values count as not reported."""
        level: int | None = None
        if max_stack_level is not None:
            try:
                level = int(max_stack_level.strip())
            except ValueError:
                level = None
            if level is not None and level < 0:
                level = None
        return cls(level, _parse_rate_units(rate_units or ""))

    def check(self, profile: ChargingProfile) -> None:
        """Refuse a profile this charger said it cannot take (an unknown capability is not
        a refusal: the charger will answer for itself)."""
        if self.max_stack_level is not None and profile.stack_level > self.max_stack_level:
            raise InvalidValue(
                "stack_level",
                f"{profile.stack_level} exceeds the charger's maximum {self.max_stack_level}",
            )
        if self.rate_units and profile.schedule.rate_unit not in self.rate_units:
            allowed = ", ".join(sorted(unit.value for unit in self.rate_units))
            raise InvalidValue(
                "rate_unit",
                f"the charger accepts {allowed}, not {profile.schedule.rate_unit.value}",
            )

    def preferred_unit(self) -> ChargingRateUnit:
        """Amperes unless the charger takes only watts: the balancer thinks in amperes."""
        if self.rate_units == frozenset({ChargingRateUnit.WATTS}):
            return ChargingRateUnit.WATTS
        return ChargingRateUnit.AMPERES


_RATE_UNIT_WORDS = {
    "current": ChargingRateUnit.AMPERES,
    "a": ChargingRateUnit.AMPERES,
    "power": ChargingRateUnit.WATTS,
    "w": ChargingRateUnit.WATTS,
}


def _parse_rate_units(text: str) -> frozenset[ChargingRateUnit]:
    words: Iterable[str] = (word.strip().lower() for word in text.split(","))
    return frozenset(_RATE_UNIT_WORDS[word] for word in words if word in _RATE_UNIT_WORDS)


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """What a charger says it will do (GetCompositeSchedule)."""

    connector_id: int
    schedule: ChargingSchedule

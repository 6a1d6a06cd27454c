"""The charging profiles that carry the balancer's limits to chargers (SPEC §4, R-LB).

Two reserved stack levels, both of purpose TxDefault (so they bind present and future
transactions alike on that connector):

- **standing** (the lowest level, 0): the connector's fail-safe share, with no end. It is what
  a charger runs on by itself once amphub is gone.
- **dynamic** (level 1): the balancer's current limit, valid for a bounded time only, renewed
  well before it lapses. A charger whose maximum stack level is 0 cannot hold both and is
  reported (:class:`NoRoomForProfiles`). If amphub stops renewing it (crash, network), the
  charger falls back to the standing profile by itself within the lapse time.

Locally managed groups get the same two levels as ChargePointMaxProfile /
ChargingStationMaxProfile on connector 0 of the master charge point, carrying the group's
available current per phase.

Profile ids are derived from the connector and the level, so a new limit replaces the old
profile instead of piling up beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from amphub.domain.smart_charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    SchedulePeriod,
    SmartChargingCapabilities,
    convert_limit,
)
from amphub.domain.units import NOMINAL_VOLTAGE_V

DEFAULT_LAPSE = timedelta(minutes=5)
"""How long a dynamic limit stays valid without renewal."""
RENEW_BEFORE = 0.5
"""Renew once this fraction of the lapse time is left."""


class Level(StrEnum):
    STANDING = "standing"
    DYNAMIC = "dynamic"


_PROFILE_ID_BASE = {Level.STANDING: 7_100_000, Level.DYNAMIC: 7_200_000}


@dataclass(frozen=True, slots=True)
class StackLevels:
    standing: int
    dynamic: int


class NoRoomForProfiles(ValueError):
    """The charger's maximum stack level leaves no level above the standing one."""


def stack_levels(capabilities: SmartChargingCapabilities | None) -> StackLevels:
    """The two reserved levels, within what the charger said it takes."""
    maximum = None if capabilities is None else capabilities.max_stack_level
    if maximum is not None and maximum < 1:
        raise NoRoomForProfiles(f"the charger's maximum stack level is {maximum}")
    return StackLevels(standing=0, dynamic=1)


def profile_id(connector_id: int, level: Level) -> int:
    return _PROFILE_ID_BASE[level] + connector_id


def _schedule(
    limit_a: float,
    phases: int,
    unit: ChargingRateUnit,
    start_at: datetime | None,
    duration: timedelta | None,
    voltage_v: float,
) -> ChargingSchedule:
    limit = convert_limit(limit_a, ChargingRateUnit.AMPERES, unit, phases, voltage_v)
    # Round down, never above the intended current: whole watts, or tenths of an ampere.
    limit = float(int(limit)) if unit is ChargingRateUnit.WATTS else float(int(limit * 10) / 10)
    return ChargingSchedule(
        rate_unit=unit,
        periods=(SchedulePeriod(0, limit, phases),),
        duration_s=None if duration is None else int(duration.total_seconds()),
        start_at=start_at,
    )


def connector_profile(
    connector_id: int,
    limit_a: float,
    phases: int,
    level: Level,
    capabilities: SmartChargingCapabilities | None,
    now: datetime,
    lapse: timedelta = DEFAULT_LAPSE,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> ChargingProfile:
    """A connector's standing (no end) or dynamic (lapses after ``lapse``) limit, in the
    unit the charger prefers. Connector 0 with purpose CHARGER_MAX is for the master of a
    locally managed group (see :func:`charger_profile`)."""
    levels = stack_levels(capabilities)
    unit = ChargingRateUnit.AMPERES if capabilities is None else capabilities.preferred_unit()
    dynamic = level is Level.DYNAMIC
    return ChargingProfile(
        profile_id=profile_id(connector_id, level),
        stack_level=levels.dynamic if dynamic else levels.standing,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.ABSOLUTE,
        # Both start now: OCPP 2.0.1 (K01.FR.40) requires startSchedule on an Absolute
        # profile. The standing one has no duration, so it stays in force from then on.
        schedule=_schedule(limit_a, phases, unit, now, lapse if dynamic else None, voltage_v),
    )


def charger_profile(
    limit_a: float,
    level: Level,
    capabilities: SmartChargingCapabilities | None,
    now: datetime,
    lapse: timedelta = DEFAULT_LAPSE,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> ChargingProfile:
    """The whole charger's limit per phase (a locally managed group's master)."""
    profile = connector_profile(0, limit_a, 3, level, capabilities, now, lapse, voltage_v)
    return ChargingProfile(
        profile_id=profile.profile_id,
        stack_level=profile.stack_level,
        purpose=ChargingProfilePurpose.CHARGER_MAX,
        kind=profile.kind,
        schedule=profile.schedule,
    )


def needs_renewal(sent_at: datetime, now: datetime, lapse: timedelta = DEFAULT_LAPSE) -> bool:
    """A dynamic profile sent at ``sent_at`` should be sent again now."""
    return now - sent_at >= lapse * (1 - RENEW_BEFORE)

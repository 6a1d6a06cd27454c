"""What a session needs: a departure time and an energy, and where they come from.

In order of precedence: what was set for the session itself (API or portal), the default of
the driver's token (id tag), the default of the charge point. A session with none of them is
not planned: it charges at once, as without adaptive charging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from amphub.domain.errors import InvalidValue
from amphub.domain.planning.schedule import MINUTES_PER_DAY

MAX_ENERGY_WH = 200_000.0


def _energy(value: float) -> float:
    if not math.isfinite(value) or not 0 < value <= MAX_ENERGY_WH:
        raise InvalidValue("energy_wh", f"between 0 and {MAX_ENERGY_WH:g} Wh")
    return value


@dataclass(frozen=True, slots=True)
class NeedDefault:
    """ "Ready by 07:00 with 20 kWh": a local wall-clock departure and an energy."""

    departure_minute: int
    energy_wh: float

    def __post_init__(self) -> None:
        if not 0 <= self.departure_minute < MINUTES_PER_DAY:
            raise InvalidValue("departure_minute", "minutes after local midnight, 0 to 1439")
        _energy(self.energy_wh)

    def departure_after(self, start: datetime, time_zone: str) -> datetime:
        """The first local ``departure_minute`` after ``start`` (at least an hour later),
        in UTC. A wall-clock time the DST change skips lands on the hour after the gap."""
        zone = ZoneInfo(time_zone)
        local = start.astimezone(zone)
        at = time(self.departure_minute // 60, self.departure_minute % 60)
        day = local.date()
        for _ in range(3):
            candidate = datetime.combine(day, at, tzinfo=zone)
            # Normalise through UTC: a non-existent local time moves forward by the gap.
            candidate = candidate.astimezone(ZoneInfo("UTC"))
            if candidate >= start + timedelta(hours=1):
                return candidate
            day += timedelta(days=1)
        raise AssertionError("unreachable: a later day always qualifies")


@dataclass(frozen=True, slots=True)
class SessionNeed:
    """Set for one session: departure (UTC) and energy still to charge, or charge now."""

    departure: datetime | None
    energy_wh: float | None
    charge_now: bool = False

    def __post_init__(self) -> None:
        if self.departure is not None and self.departure.tzinfo is None:
            raise InvalidValue("departure", "must include a time zone")
        if self.energy_wh is not None:
            _energy(self.energy_wh)
        if not self.charge_now and (self.departure is None or self.energy_wh is None):
            raise InvalidValue("departure", "give departure and energy, or charge now")


class NeedSource(StrEnum):
    SESSION = "session"
    ID_TAG = "id_tag"
    CHARGE_POINT = "charge_point"


@dataclass(frozen=True, slots=True)
class ResolvedNeed:
    departure: datetime
    energy_wh: float
    source: NeedSource
    charge_now: bool = False


def resolve_need(
    session: SessionNeed | None,
    token: NeedDefault | None,
    charge_point: NeedDefault | None,
    started_at: datetime,
    time_zone: str,
) -> ResolvedNeed | None:
    """The need that applies to a session started at ``started_at``, or None."""
    fallback = token if token is not None else charge_point
    fallback_source = NeedSource.ID_TAG if token is not None else NeedSource.CHARGE_POINT
    if session is not None:
        departure = session.departure
        energy = session.energy_wh
        if fallback is not None:
            departure = departure or fallback.departure_after(started_at, time_zone)
            energy = energy if energy is not None else fallback.energy_wh
        if departure is None or energy is None:
            departure = departure or started_at
            energy = energy if energy is not None else 0.0
        return ResolvedNeed(departure, energy, NeedSource.SESSION, session.charge_now)
    if fallback is None:
        return None
    return ResolvedNeed(
        fallback.departure_after(started_at, time_zone), fallback.energy_wh, fallback_source
    )

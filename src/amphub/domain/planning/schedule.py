"""Simple schedules: weekly windows, in the site's local time, in which a connector may charge
and at what current (seed 002's "Enkelt schema", SPEC §5).

A window is a wall-clock interval on one weekday, so "Monday 22:00 to 06:00" is two windows
(Monday 22:00–24:00 and Tuesday 00:00–06:00). Wall-clock time is what people mean across a
DST change: 01:00–05:00 on the night the clocks go back lasts five real hours, and on the
night they go forward three. The instant is turned into the site's local time with zoneinfo
and only then compared, so that comes out right by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from amphub.domain.errors import InvalidValue

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Charging allowed on ``weekday`` (0 = Monday) from ``start_minute`` to ``end_minute``
    (minutes after local midnight; ``end_minute`` 1440 is the end of the day) at up to
    ``max_a`` per phase. ``connector_id`` None: every connector of the charge point."""

    weekday: int
    start_minute: int
    end_minute: int
    max_a: float
    connector_id: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InvalidValue("windows.weekday", "0 (Monday) to 6 (Sunday)")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise InvalidValue(
                "windows.end_minute", "a window runs from start to a later end on the same day"
            )
        if not 0 <= self.max_a <= 80:
            raise InvalidValue("windows.max_a", "between 0 and 80 A")
        if self.connector_id is not None and self.connector_id < 1:
            raise InvalidValue("windows.connector_id", "connectors are numbered from 1")

    def contains(self, weekday: int, minute: int) -> bool:
        return weekday == self.weekday and self.start_minute <= minute < self.end_minute

    def applies_to(self, connector_id: int) -> bool:
        return self.connector_id is None or self.connector_id == connector_id


@dataclass(frozen=True, slots=True)
class Schedule:
    """The weekly schedule of one charge point. A connector the schedule names (or all of
    them, when a window names none) is capped at 0 outside its windows."""

    charge_point_id: int
    windows: tuple[WeeklyWindow, ...]
    enabled: bool = True

    def governs(self, connector_id: int) -> bool:
        return self.enabled and any(w.applies_to(connector_id) for w in self.windows)

    def cap_a(self, connector_id: int, now: datetime, time_zone: str) -> float | None:
        """The connector's ceiling at ``now`` (UTC-aware), or None if the schedule does not
        govern it. Overlapping windows: the highest current wins."""
        if not self.governs(connector_id):
            return None
        local = now.astimezone(ZoneInfo(time_zone))
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        allowed = [
            w.max_a
            for w in self.windows
            if w.applies_to(connector_id) and w.contains(weekday, minute)
        ]
        return max(allowed, default=0.0)


def validate_windows(windows: Sequence[WeeklyWindow], connector_ids: Sequence[int]) -> None:
    """Every window names a connector the charge point has (or none)."""
    known = set(connector_ids)
    for window in windows:
        if window.connector_id is not None and window.connector_id not in known:
            raise InvalidValue(
                "windows.connector_id", f"the charge point has no connector {window.connector_id}"
            )
    if len(windows) > 7 * 48:
        raise InvalidValue("windows", "at most 336 windows")

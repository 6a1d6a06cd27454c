"""Weekly windows in the site's local time, across both DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.planning.schedule import Schedule, WeeklyWindow, validate_windows

CPH = "Europe/Copenhagen"
SUNDAY = 6


def night(weekday: int) -> Schedule:
    """01:00–05:00 local on one day, 16 A on connector 1 only."""
    return Schedule(7, (WeeklyWindow(weekday, 60, 300, 16.0, connector_id=1),))


def allowed_hours(schedule: Schedule, day_start: datetime) -> float:
    """Real hours in which connector 1 may charge, over 30 hours from ``day_start``."""
    step = timedelta(minutes=5)
    count = sum(
        1 for i in range(30 * 12) if (schedule.cap_a(1, day_start + i * step, CPH) or 0.0) > 0
    )
    return count * step / timedelta(hours=1)


def test_a_night_window_lasts_five_real_hours_when_the_clocks_go_back() -> None:
    # 2024-10-27: 03:00 CEST becomes 02:00 CET; 01:00-05:00 local is 5 real hours.
    assert allowed_hours(night(SUNDAY), datetime(2024, 10, 26, 20, tzinfo=UTC)) == 5.0


def test_a_night_window_lasts_three_real_hours_when_the_clocks_go_forward() -> None:
    # 2025-03-30: 02:00 CET becomes 03:00 CEST.
    assert allowed_hours(night(SUNDAY), datetime(2025, 3, 29, 20, tzinfo=UTC)) == 3.0


def test_the_window_is_read_in_local_time() -> None:
    schedule = night(SUNDAY)
    # 2024-10-27 00:30 UTC is 02:30 CEST (inside); 04:30 UTC is 05:30 CET (outside).
    assert schedule.cap_a(1, datetime(2024, 10, 27, 0, 30, tzinfo=UTC), CPH) == 16.0
    assert schedule.cap_a(1, datetime(2024, 10, 27, 4, 30, tzinfo=UTC), CPH) == 0.0
    # The same instant is a different local day in another zone.
    assert schedule.cap_a(1, datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "America/New_York") == 0.0


def test_other_connectors_are_not_governed_and_overlaps_take_the_highest() -> None:
    schedule = Schedule(7, (WeeklyWindow(0, 0, 600, 10.0, 1), WeeklyWindow(0, 300, 700, 20.0, 1)))
    monday_6_utc = datetime(2026, 4, 6, 4, 0, tzinfo=UTC)  # 06:00 CEST
    assert schedule.cap_a(1, monday_6_utc, CPH) == 20.0
    assert schedule.cap_a(2, monday_6_utc, CPH) is None
    assert Schedule(7, schedule.windows, enabled=False).cap_a(1, monday_6_utc, CPH) is None


def test_a_window_without_connector_governs_them_all() -> None:
    schedule = Schedule(7, (WeeklyWindow(0, 0, 1440, 6.0),))
    assert schedule.cap_a(3, datetime(2026, 4, 6, 12, tzinfo=UTC), CPH) == 6.0
    assert schedule.cap_a(3, datetime(2026, 4, 7, 12, tzinfo=UTC), CPH) == 0.0


@pytest.mark.parametrize(
    ("weekday", "start", "end", "max_a"),
    [(7, 0, 60, 6.0), (0, 60, 60, 6.0), (0, 0, 1441, 6.0), (0, 0, 60, 81.0)],
)
def test_invalid_windows_are_refused(weekday: int, start: int, end: int, max_a: float) -> None:
    with pytest.raises(InvalidValue):
        WeeklyWindow(weekday, start, end, max_a)


def test_a_window_must_name_an_existing_connector() -> None:
    with pytest.raises(InvalidValue, match="no connector 3"):
        validate_windows([WeeklyWindow(0, 0, 60, 6.0, 3)], [1, 2])

"""All-in slot prices from hourly and 15-minute points, and where a session's need comes
from."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.planning.needs import NeedDefault, NeedSource, SessionNeed, resolve_need
from amphub.domain.planning.tariffs import (
    PricePoint,
    SiteTariff,
    SlotGrid,
    TariffWindow,
    slot_prices,
    spot_per_slot,
)

CPH = "Europe/Copenhagen"
NEGATIVE_DAY = Path(__file__).parent / "dk2_2024-10-13_hourly_negative.csv"


def real_points() -> list[PricePoint]:
    with NEGATIVE_DAY.open(newline="") as handle:
        return [
            PricePoint(
                "DK2",
                start := datetime.fromisoformat(row["HourUTC"].replace("Z", "+00:00")),
                start + timedelta(hours=1),
                float(row["SpotPriceEUR"]),
            )
            for row in csv.DictReader(handle)
        ]


def test_an_hourly_price_covers_four_quarter_hour_slots() -> None:
    points = real_points()
    grid = SlotGrid(points[0].start, 96)
    spots = spot_per_slot(points, grid)
    assert spots == [p.eur_per_mwh for p in points for _ in range(4)]
    assert min(s for s in spots if s is not None) < 0  # real negative prices that night


def test_slots_without_a_price_are_none() -> None:
    points = real_points()
    grid = SlotGrid(points[-1].start, 8)
    assert spot_per_slot(points, grid)[4:] == [None] * 4


def test_all_in_price_adds_grid_tariff_fixed_charges_and_vat() -> None:
    tariff = SiteTariff(
        CPH, "DKK", eur_rate=7.5, vat_percent=25, fixed_per_kwh=0.8,
        grid_windows=(TariffWindow(17 * 60, 21 * 60, 1.2, (0, 1, 2, 3, 4)),),
    )  # fmt: skip
    monday_peak = datetime(2026, 4, 6, 16, tzinfo=UTC)  # 18:00 CEST
    sunday_peak = datetime(2026, 4, 5, 16, tzinfo=UTC)
    assert tariff.per_kwh(100.0, monday_peak) == pytest.approx((0.75 + 1.2 + 0.8) * 1.25)
    assert tariff.per_kwh(100.0, sunday_peak) == pytest.approx((0.75 + 0.8) * 1.25)
    assert tariff.per_kwh(-40.0, sunday_peak) == pytest.approx((-0.3 + 0.8) * 1.25)
    grid = SlotGrid(monday_peak, 4)
    point = PricePoint("DK2", monday_peak, monday_peak + timedelta(hours=1), 100.0)
    assert slot_prices([point], grid, tariff) == [pytest.approx(3.4375)] * 4


def test_slot_grid_from_now_starts_on_a_boundary_with_a_shorter_first_slot() -> None:
    now = datetime(2026, 4, 6, 12, 5, tzinfo=UTC)
    grid = SlotGrid.from_now(now, now + timedelta(hours=1))
    assert grid.start == datetime(2026, 4, 6, 12, 0, tzinfo=UTC)
    assert grid.count == 5
    assert grid.hours()[0] == pytest.approx(10 / 60)
    assert grid.slots_before(now + timedelta(minutes=40)) == 3


def test_a_default_departure_is_the_next_local_time_at_least_an_hour_away() -> None:
    default = NeedDefault(7 * 60, 20_000)
    evening = datetime(2024, 10, 26, 18, tzinfo=UTC)  # 20:00 CEST, the night clocks go back
    assert default.departure_after(evening, CPH) == datetime(2024, 10, 27, 6, tzinfo=UTC)
    early = datetime(2026, 4, 6, 4, 30, tzinfo=UTC)  # 06:30 CEST: 07:00 is too close
    assert default.departure_after(early, CPH) == datetime(2026, 4, 7, 5, tzinfo=UTC)


def test_need_precedence_session_then_token_then_charge_point() -> None:
    start = datetime(2026, 4, 6, 16, tzinfo=UTC)
    token = NeedDefault(7 * 60, 30_000)
    charge_point = NeedDefault(8 * 60, 10_000)
    assert resolve_need(None, None, None, start, CPH) is None
    by_cp = resolve_need(None, None, charge_point, start, CPH)
    assert by_cp is not None and by_cp.source is NeedSource.CHARGE_POINT
    assert by_cp.energy_wh == 10_000
    by_token = resolve_need(None, token, charge_point, start, CPH)
    assert by_token is not None and by_token.source is NeedSource.ID_TAG
    assert by_token.departure == datetime(2026, 4, 7, 5, tzinfo=UTC)
    own = SessionNeed(start + timedelta(hours=3), 5_000)
    by_session = resolve_need(own, token, charge_point, start, CPH)
    assert by_session is not None and by_session.source is NeedSource.SESSION
    assert (by_session.departure, by_session.energy_wh) == (own.departure, 5_000)
    now = resolve_need(SessionNeed(None, None, charge_now=True), token, None, start, CPH)
    assert now is not None and now.charge_now and now.energy_wh == 30_000


def test_a_session_need_must_be_complete_unless_charge_now() -> None:
    with pytest.raises(InvalidValue):
        SessionNeed(datetime(2026, 4, 6, tzinfo=UTC), None)
    with pytest.raises(InvalidValue):
        SessionNeed(datetime(2026, 4, 6), 1000.0)
    with pytest.raises(InvalidValue):
        NeedDefault(1440, 1000.0)

"""What a kWh costs at a site in each slot: the bidding zone's day-ahead price plus the
site's time-of-use grid tariff and fixed charges, all with VAT.

Day-ahead prices come hourly (until 2025-09-30) or per 15 minutes (since the Nordic market
moved to a 15-minute market time unit on 2025-10-01). Planning always works on 15-minute
slots, so an hourly price simply covers four of them. Spot prices are in EUR/MWh as
published; a site's tariff is in its own currency per kWh with a fixed exchange rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from amphub.domain.errors import InvalidValue
from amphub.domain.planning.schedule import MINUTES_PER_DAY


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A day-ahead price for the delivery interval [start, end), UTC."""

    zone: str
    start: datetime
    end: datetime
    eur_per_mwh: float

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end <= self.start:
            raise InvalidValue("prices", "an aware interval with end after start")
        if not math.isfinite(self.eur_per_mwh):
            raise InvalidValue("prices", "the price must be a finite number")


@dataclass(frozen=True, slots=True)
class TariffWindow:
    """A time-of-use grid tariff: ``per_kwh`` on the given weekdays between two local
    wall-clock minutes (e.g. the Danish peak tariff 17:00–21:00)."""

    start_minute: int
    end_minute: int
    per_kwh: float
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise InvalidValue("grid_tariffs.end_minute", "must come after start_minute")
        if not set(self.weekdays) <= set(range(7)) or not self.weekdays:
            raise InvalidValue("grid_tariffs.weekdays", "weekdays 0 (Monday) to 6 (Sunday)")
        if not math.isfinite(self.per_kwh):
            raise InvalidValue("grid_tariffs.per_kwh", "must be a finite number")


@dataclass(frozen=True, slots=True)
class SiteTariff:
    """How a site pays for energy. ``eur_rate``: units of ``currency`` per EUR, to convert
    the spot price (1.0 for EUR; about 7.46 for DKK)."""

    time_zone: str
    currency: str = "EUR"
    eur_rate: float = 1.0
    vat_percent: float = 0.0
    fixed_per_kwh: float = 0.0
    """Energy tax and other per-kWh charges that do not vary with time."""
    grid_windows: tuple[TariffWindow, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not 0 <= self.vat_percent <= 100:
            raise InvalidValue("vat_percent", "between 0 and 100")
        if not self.eur_rate > 0:
            raise InvalidValue("eur_rate", "must be positive")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidValue("currency", "an ISO 4217 code such as EUR or DKK")
        if not math.isfinite(self.fixed_per_kwh):
            raise InvalidValue("fixed_per_kwh", "must be a finite number")

    def grid_per_kwh(self, at: datetime) -> float:
        """The grid tariff in force at ``at`` (the sum of every window that covers it)."""
        if not self.grid_windows:
            return 0.0
        local = at.astimezone(ZoneInfo(self.time_zone))
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        return sum(
            w.per_kwh
            for w in self.grid_windows
            if weekday in w.weekdays and w.start_minute <= minute < w.end_minute
        )

    def per_kwh(self, eur_per_mwh: float, at: datetime) -> float:
        """All-in price of one kWh at ``at``: (spot + grid + fixed) × (1 + VAT). VAT applies
        to a negative spot price too: it is a credit on the same bill."""
        net = eur_per_mwh / 1000.0 * self.eur_rate + self.grid_per_kwh(at) + self.fixed_per_kwh
        return net * (1.0 + self.vat_percent / 100.0)


@dataclass(frozen=True, slots=True)
class SlotGrid:
    """Planning slots: ``count`` slots of ``minutes`` from ``start`` (UTC, on a slot
    boundary). The first slot may have begun already: ``first_hours`` is what is left of it."""

    start: datetime
    count: int
    minutes: int = 15
    first_hours: float | None = None

    @classmethod
    def from_now(cls, now: datetime, until: datetime, minutes: int = 15) -> SlotGrid:
        """Slots from the one containing ``now`` to the one containing ``until``."""
        step = timedelta(minutes=minutes)
        epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
        start = epoch + ((now - epoch) // step) * step
        count = max(1, math.ceil((until - start) / step))
        left = (start + step - now) / timedelta(hours=1)
        return cls(start, count, minutes, left)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def at(self, index: int) -> datetime:
        return self.start + index * self.step

    @property
    def end(self) -> datetime:
        return self.at(self.count)

    def hours(self) -> tuple[float, ...]:
        full = self.minutes / 60.0
        first = full if self.first_hours is None else self.first_hours
        return (first,) + (full,) * (self.count - 1) if self.count else ()

    def index_of(self, at: datetime) -> int:
        """The slot containing ``at`` (may be < 0 or >= count)."""
        return math.floor((at - self.start) / self.step)

    def slots_before(self, at: datetime) -> int:
        """How many whole slots end at or before ``at`` (departure: the car is gone then)."""
        return max(0, min(self.count, math.floor((at - self.start) / self.step)))


def spot_per_slot(points: Sequence[PricePoint], grid: SlotGrid) -> list[float | None]:
    """The spot price of each slot (None where none is known). Works for hourly and
    15-minute points alike: a point covers every slot whose start lies inside it."""
    found: list[float | None] = [None] * grid.count
    for point in points:
        first = max(0, math.ceil((point.start - grid.start) / grid.step))
        last = min(grid.count, math.ceil((point.end - grid.start) / grid.step))
        for t in range(first, last):
            found[t] = point.eur_per_mwh
    return found


def slot_prices(
    points: Sequence[PricePoint], grid: SlotGrid, tariff: SiteTariff
) -> list[float | None]:
    """All-in price per kWh of each slot; None where the spot price is not known."""
    return [
        None if spot is None else tariff.per_kwh(spot, grid.at(t))
        for t, spot in enumerate(spot_per_slot(points, grid))
    ]

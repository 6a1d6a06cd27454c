"""Prices from a CSV file in Energi Data Service's export shape: a header row with
``PriceArea`` and either ``HourUTC`` + ``SpotPriceEUR`` (hourly) or ``TimeUTC`` +
``DayAheadPriceEUR`` (15 minutes); UTC times in ISO 8601. For sites without a live source,
for tests and for the demo. Read once, then served from memory."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amphub.application.planning.ports import PriceUnavailable
from amphub.domain.planning.tariffs import PricePoint


def _read(path: Path) -> list[PricePoint]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or ())
            if {"TimeUTC", "DayAheadPriceEUR"} <= fields:
                time_field, price_field, step = "TimeUTC", "DayAheadPriceEUR", timedelta(minutes=15)
            elif {"HourUTC", "SpotPriceEUR"} <= fields:
                time_field, price_field, step = "HourUTC", "SpotPriceEUR", timedelta(hours=1)
            else:
                raise PriceUnavailable(f"csv: {path.name} has neither known header")
            points = []
            for row in reader:
                if not row[price_field]:
                    continue
                at = datetime.fromisoformat(row[time_field].replace("Z", "+00:00"))
                at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
                points.append(PricePoint(row["PriceArea"], at, at + step, float(row[price_field])))
            return points
    except (OSError, KeyError, ValueError) as error:
        raise PriceUnavailable(f"csv: {path}: {error}") from error


class CsvPriceProvider:
    name = "csv"

    def __init__(self, *paths: Path) -> None:
        self._paths = paths
        self._points: list[PricePoint] | None = None

    async def day_ahead(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]:
        if self._points is None:
            self._points = [p for path in self._paths for p in _read(path)]
        return [p for p in self._points if p.zone == zone and start <= p.start < end]

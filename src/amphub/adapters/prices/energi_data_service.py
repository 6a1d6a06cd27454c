"""Energi Data Service (Energinet): Danish day-ahead prices over its public HTTP API.

Two datasets, one per market time unit: ``Elspotprices`` (hourly, fields ``HourUTC``,
``PriceArea``, ``SpotPriceEUR``) until 2025-09-30, and ``DayAheadPrices`` (15 minutes,
``TimeUTC``, ``PriceArea``, ``DayAheadPriceEUR``) from 2025-10-01. Both answer
``{"total": n, "dataset": ..., "records": [...]}``; the UTC times come without an offset.
No token is needed. Areas: DK1, DK2 and the neighbours coupled to them (SE3, SE4, NO2, ...).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from amphub.adapters.prices._http import get
from amphub.application.planning.ports import PriceUnavailable
from amphub.domain.planning.tariffs import PricePoint

BASE_URL = "https://api.energidataservice.dk"
QUARTER_HOURS_FROM = datetime(2025, 9, 30, 22, 0, tzinfo=UTC)
"""2025-10-01 00:00 Danish time: the first 15-minute delivery period."""


class EnergiDataServiceProvider:
    name = "energi_data_service"

    def __init__(self, client: httpx.AsyncClient | None = None, base_url: str = BASE_URL) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")

    async def day_ahead(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]:
        points: list[PricePoint] = []
        if start < QUARTER_HOURS_FROM:
            points += await self._dataset(
                "Elspotprices", "HourUTC", "SpotPriceEUR", timedelta(hours=1),
                zone, start, min(end, QUARTER_HOURS_FROM),
            )  # fmt: skip
        if end > QUARTER_HOURS_FROM:
            points += await self._dataset(
                "DayAheadPrices", "TimeUTC", "DayAheadPriceEUR", timedelta(minutes=15),
                zone, max(start, QUARTER_HOURS_FROM), end,
            )  # fmt: skip
        return points

    async def _dataset(
        self, dataset: str, time_field: str, price_field: str, step: timedelta,
        zone: str, start: datetime, end: datetime,
    ) -> list[PricePoint]:  # fmt: skip
        # The API reads start/end as Danish dates and times; ask for a day more on each side
        # and keep what lies inside [start, end) by the records' own UTC times.
        params = {
            "start": (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "end": (end + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "filter": json.dumps({"PriceArea": [zone]}),
            "sort": f"{time_field} asc",
            "limit": 20_000,
        }
        response = await get(self._client, f"{self._base_url}/dataset/{dataset}", params, self.name)
        if response is None:
            return []
        if response.status_code != 200:
            raise PriceUnavailable(f"{self.name}: HTTP {response.status_code} for {dataset}")
        try:
            records: list[dict[str, Any]] = response.json()["records"]
            points = []
            for record in records:
                price = record.get(price_field)
                if record.get("PriceArea") != zone or price is None:
                    continue
                at = datetime.fromisoformat(record[time_field]).replace(tzinfo=UTC)
                if start <= at < end:
                    points.append(PricePoint(zone, at, at + step, float(price)))
        except (KeyError, TypeError, ValueError) as error:
            raise PriceUnavailable(f"{self.name}: unexpected {dataset} answer: {error}") from error
        return points

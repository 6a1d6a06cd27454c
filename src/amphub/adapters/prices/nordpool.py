"""Nord Pool's day-ahead prices from its data portal API, the JSON the ``nordpool`` package
reads: ``GET /api/DayAheadPrices?date=YYYY-MM-DD&market=DayAhead&deliveryArea=..&currency=EUR``
per delivery day (CET), answering ``multiAreaEntries: [{deliveryStart, deliveryEnd,
entryPerArea: {area: price}}]`` with UTC times, or 204 No Content before publication.
Hourly and 15-minute periods alike: each entry carries its own start and end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from amphub.adapters.prices._http import get
from amphub.application.planning.ports import PriceUnavailable
from amphub.domain.planning.tariffs import PricePoint

BASE_URL = "https://dataportal-api.nordpoolgroup.com/api"
MARKET_ZONE = ZoneInfo("Europe/Oslo")
"""Delivery days are CET/CEST days."""


def _parse(payload: dict[str, Any], zone: str) -> list[PricePoint]:
    points = []
    for entry in payload.get("multiAreaEntries", []):
        price = entry["entryPerArea"].get(zone)
        if price is None:
            continue
        start = datetime.fromisoformat(entry["deliveryStart"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(entry["deliveryEnd"].replace("Z", "+00:00"))
        points.append(PricePoint(zone, start, end, float(price)))
    return points


class NordPoolProvider:
    name = "nordpool"

    def __init__(self, client: httpx.AsyncClient | None = None, base_url: str = BASE_URL) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")

    async def day_ahead(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]:
        points: list[PricePoint] = []
        day: date = start.astimezone(MARKET_ZONE).date()
        last: date = (end - timedelta(microseconds=1)).astimezone(MARKET_ZONE).date()
        while day <= last:
            params = {
                "date": day.isoformat(),
                "market": "DayAhead",
                "deliveryArea": zone,
                "currency": "EUR",
            }
            url = f"{self._base_url}/DayAheadPrices"
            response = await get(self._client, url, params, self.name)
            if response is not None:
                if response.status_code != 200:
                    raise PriceUnavailable(f"{self.name}: HTTP {response.status_code} for {day}")
                try:
                    points += _parse(response.json(), zone)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    raise PriceUnavailable(f"{self.name}: unexpected answer: {error}") from error
            day += timedelta(days=1)
        return [p for p in points if start <= p.start < end]

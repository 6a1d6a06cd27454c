"""ENTSO-E Transparency Platform: day-ahead prices (document type A44) for any European
bidding zone, with a personal security token.

``GET /api?documentType=A44&in_Domain=EIC&out_Domain=EIC&periodStart=yyyyMMddHHmm&periodEnd=..
&securityToken=..`` answers a ``Publication_MarketDocument``: ``TimeSeries`` with one or more
``Period`` (``timeInterval/start``, ``resolution`` PT60M or PT15M) of ``Point`` (``position``
from 1, ``price.amount`` in EUR/MWh). With curve type A03 a point that repeats the previous
price is left out, so a gap in positions carries the last price forward. No data answers an
``Acknowledgement_MarketDocument``.

Parsed with the standard library. ElementTree on Python 3.11 does not fetch external
entities; a document with a DTD (the only way to declare the expanding entities of an XML
bomb) is refused before parsing, and the answer's size is capped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx

from amphub.adapters.prices._http import get
from amphub.application.planning.ports import PriceUnavailable
from amphub.domain.planning.tariffs import PricePoint

BASE_URL = "https://web-api.tp.entsoe.eu/api"
EIC = {
    "DK1": "10YDK-1--------W",
    "DK2": "10YDK-2--------M",
    "SE1": "10Y1001A1001A44P",
    "SE2": "10Y1001A1001A45N",
    "SE3": "10Y1001A1001A46L",
    "SE4": "10Y1001A1001A47J",
    "NO1": "10YNO-1--------2",
    "NO2": "10YNO-2--------T",
    "NO3": "10YNO-3--------J",
    "NO4": "10YNO-4--------9",
    "NO5": "10Y1001A1001A48H",
    "FI": "10YFI-1--------U",
    "DE-LU": "10Y1001A1001A82H",
    "NL": "10YNL----------L",
    "BE": "10YBE----------2",
    "FR": "10YFR-RTE------C",
}
RESOLUTIONS = {"PT60M": timedelta(hours=1), "PT15M": timedelta(minutes=15),
               "PT30M": timedelta(minutes=30)}  # fmt: skip


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: ET.Element, *path: str) -> str:
    node: ET.Element | None = element
    for name in path:
        node = None if node is None else _child(node, name)
    if node is None or node.text is None:
        raise PriceUnavailable(f"entsoe: missing {'/'.join(path)}")
    return node.text.strip()


def parse_a44(body: bytes, zone: str) -> list[PricePoint]:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise PriceUnavailable("entsoe: a document with a DTD is refused")
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD (checked above), size capped
    except ET.ParseError as error:
        raise PriceUnavailable(f"entsoe: not XML: {error}") from error
    if _local(root.tag) == "Acknowledgement_MarketDocument":
        return []  # "No matching data found"
    points: dict[datetime, PricePoint] = {}
    for series in (c for c in root if _local(c.tag) == "TimeSeries"):
        for period in (c for c in series if _local(c.tag) == "Period"):
            start = datetime.strptime(_text(period, "timeInterval", "start"), "%Y-%m-%dT%H:%MZ")
            end = datetime.strptime(_text(period, "timeInterval", "end"), "%Y-%m-%dT%H:%MZ")
            start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
            step = RESOLUTIONS.get(_text(period, "resolution"))
            if step is None:
                raise PriceUnavailable(f"entsoe: resolution {_text(period, 'resolution')}")
            given = {
                int(_text(p, "position")): float(_text(p, "price.amount"))
                for p in period
                if _local(p.tag) == "Point"
            }
            count = int((end - start) / step)
            price: float | None = None
            for position in range(1, count + 1):
                price = given.get(position, price)  # A03: a gap repeats the last price
                if price is None:
                    continue
                at = start + (position - 1) * step
                points[at] = PricePoint(zone, at, at + step, price)
    return [points[at] for at in sorted(points)]


class EntsoeProvider:
    name = "entsoe"

    def __init__(
        self, token: str, client: httpx.AsyncClient | None = None, base_url: str = BASE_URL
    ) -> None:
        self._token = token
        self._client = client
        self._base_url = base_url

    async def day_ahead(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]:
        if not self._token:
            raise PriceUnavailable("entsoe: no security token configured")
        eic = EIC.get(zone)
        if eic is None:
            raise PriceUnavailable(f"entsoe: no EIC code known for {zone}")
        params = {
            "documentType": "A44",
            "in_Domain": eic,
            "out_Domain": eic,
            "periodStart": start.astimezone(UTC).strftime("%Y%m%d%H%M"),
            "periodEnd": end.astimezone(UTC).strftime("%Y%m%d%H%M"),
            "securityToken": self._token,
        }
        response = await get(self._client, self._base_url, params, self.name)
        if response is None:
            return []
        if response.status_code != 200:
            # A wrong token answers 401; "no data" may answer 200 or 400 with an
            # acknowledgement document.
            if b"Acknowledgement_MarketDocument" in response.content:
                return []
            raise PriceUnavailable(f"{self.name}: HTTP {response.status_code}")
        return [p for p in parse_a44(response.content, zone) if start <= p.start < end]

"""A local stand-in for the three price services, answering in their documented shapes from
the CSV fixtures beside this file: Energi Data Service JSON (``/dataset/<name>``), Nord Pool
data portal JSON (``/api/DayAheadPrices``) and ENTSO-E A44 XML (``/entsoe``)."""

from __future__ import annotations

import contextlib
import csv
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

DATA = Path(__file__).parent / "data"
HOURLY = DATA / "dk_2024-10-26_28_hourly.csv"
QUARTERLY = DATA / "dk_2026-04-01_02_15min.csv"
TOKEN = "test-token"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True)
class Row:
    start: datetime
    local: datetime
    zone: str
    eur: float
    step: timedelta


def rows() -> list[Row]:
    found = []
    for path, time_field, local_field, price_field, step in (
        (HOURLY, "HourUTC", "HourDK", "SpotPriceEUR", timedelta(hours=1)),
        (QUARTERLY, "TimeUTC", "TimeDK", "DayAheadPriceEUR", timedelta(minutes=15)),
    ):
        with path.open(newline="") as handle:
            for r in csv.DictReader(handle):
                start = datetime.fromisoformat(r[time_field].replace("Z", "+00:00"))
                local = datetime.fromisoformat(r[local_field])
                found.append(Row(start, local, r["PriceArea"], float(r[price_field]), step))
    return found


@dataclass
class Served:
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    broken: bool = False
    """Answer garbage instead of the documented shape."""


def _eds(rows_: list[Row], dataset: str, query: dict[str, list[str]]) -> dict[str, Any]:
    step = timedelta(hours=1) if dataset == "Elspotprices" else timedelta(minutes=15)
    zones = json.loads(query["filter"][0])["PriceArea"]
    start = datetime.fromisoformat(query["start"][0])
    end = datetime.fromisoformat(query["end"][0])
    picked = [r for r in rows_ if r.step == step and r.zone in zones and start <= r.local < end]
    if dataset == "Elspotprices":
        records = [
            {"HourUTC": r.start.strftime("%Y-%m-%dT%H:%M:%S"), "HourDK": r.local.isoformat(),
             "PriceArea": r.zone, "SpotPriceDKK": round(r.eur * 7.46, 2), "SpotPriceEUR": r.eur}
            for r in picked
        ]  # fmt: skip
    else:
        records = [
            {"TimeUTC": r.start.strftime("%Y-%m-%dT%H:%M:%S"), "TimeDK": r.local.isoformat(),
             "PriceArea": r.zone, "DayAheadPriceEUR": r.eur, "DayAheadPriceDKK": r.eur * 7.46}
            for r in picked
        ]  # fmt: skip
    return {"total": len(records), "filters": query["filter"][0], "limit": 20000,
            "dataset": dataset, "records": records}  # fmt: skip


def _nordpool(rows_: list[Row], query: dict[str, list[str]]) -> dict[str, Any] | None:
    day = query["date"][0]
    area = query["deliveryArea"][0]
    picked = [r for r in rows_ if r.zone == area and r.local.date().isoformat() == day]
    if not picked:
        return None
    z = lambda at: at.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return {
        "deliveryDateCET": day, "version": 3, "updatedAt": "2024-10-25T11:00:00Z",
        "deliveryAreas": [area], "market": "DayAhead", "currency": "EUR", "exchangeRate": 1,
        "multiAreaEntries": [
            {"deliveryStart": z(r.start), "deliveryEnd": z(r.start + r.step),
             "entryPerArea": {area: r.eur}}
            for r in picked
        ],
        "areaStates": [{"state": "Final", "areas": [area]}],
    }  # fmt: skip


EIC = {"10YDK-1--------W": "DK1", "10YDK-2--------M": "DK2"}


def _entsoe(rows_: list[Row], query: dict[str, list[str]]) -> tuple[int, str]:
    if query.get("securityToken", [""])[0] != TOKEN:
        return 401, "<html><body>Unauthorized</body></html>"
    zone = EIC[query["in_Domain"][0]]
    start = datetime.strptime(query["periodStart"][0], "%Y%m%d%H%M").replace(tzinfo=UTC)
    end = datetime.strptime(query["periodEnd"][0], "%Y%m%d%H%M").replace(tzinfo=UTC)
    by_day: dict[tuple[datetime, timedelta], list[Row]] = defaultdict(list)
    for r in rows_:
        if r.zone == zone and start <= r.start < end:
            midnight = datetime.combine(r.local.date(), datetime.min.time(), COPENHAGEN)
            by_day[(midnight.astimezone(UTC), r.step)].append(r)
    if not by_day:
        return 200, (
            '<?xml version="1.0" encoding="utf-8"?><Acknowledgement_MarketDocument '
            'xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0">'
            "<Reason><code>999</code><text>No matching data found</text></Reason>"
            "</Acknowledgement_MarketDocument>"
        )
    series = []
    for (day_start, step), picked in sorted(by_day.items()):
        picked.sort(key=lambda r: r.start)
        points = []
        previous = None
        for r in picked:
            if r.eur != previous:  # curve type A03: repeated prices are left out
                position = int((r.start - day_start) / step) + 1
                points.append(f"<Point><position>{position}</position>"
                              f"<price.amount>{r.eur}</price.amount></Point>")  # fmt: skip
            previous = r.eur
        period_end = picked[-1].start + step
        resolution = "PT60M" if step == timedelta(hours=1) else "PT15M"
        series.append(
            "<TimeSeries><mRID>1</mRID><businessType>A62</businessType>"
            f'<in_Domain.mRID codingScheme="A01">{query["in_Domain"][0]}</in_Domain.mRID>'
            "<currency_Unit.name>EUR</currency_Unit.name>"
            "<price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
            "<curveType>A03</curveType><Period><timeInterval>"
            f"<start>{day_start:%Y-%m-%dT%H:%MZ}</start><end>{period_end:%Y-%m-%dT%H:%MZ}</end>"
            f"</timeInterval><resolution>{resolution}</resolution>{''.join(points)}</Period>"
            "</TimeSeries>"
        )
    return 200, (
        '<?xml version="1.0" encoding="utf-8"?><Publication_MarketDocument '
        'xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">'
        "<mRID>test</mRID><revisionNumber>1</revisionNumber><type>A44</type>"
        + "".join(series)
        + "</Publication_MarketDocument>"
    )


@contextlib.contextmanager
def price_server() -> Iterator[tuple[str, Served]]:
    data = rows()
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: str, kind: str) -> None:
            payload = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            served.requests.append((url.path, query))
            if served.broken:
                self._answer(200, '{"unexpected": true', "application/json")
            elif url.path.startswith("/dataset/"):
                dataset = url.path.rsplit("/", 1)[1]
                self._answer(200, json.dumps(_eds(data, dataset, query)), "application/json")
            elif url.path == "/api/DayAheadPrices":
                answer = _nordpool(data, query)
                if answer is None:
                    self.send_response(204)
                    self.end_headers()
                else:
                    self._answer(200, json.dumps(answer), "application/json")
            elif url.path == "/entsoe":
                status, body = _entsoe(data, query)
                self._answer(status, body, "text/xml")
            else:
                self._answer(404, "not found", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""The HTTP price providers against a local server answering in each service's documented
shape (no internet), and the CSV provider on the same real DK1/DK2 prices."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from amphub.adapters.prices.csv_file import CsvPriceProvider
from amphub.adapters.prices.energi_data_service import EnergiDataServiceProvider
from amphub.adapters.prices.entsoe import EntsoeProvider, parse_a44
from amphub.adapters.prices.nordpool import NordPoolProvider
from amphub.application.planning.ports import PriceProvider, PriceUnavailable
from amphub.domain.planning.tariffs import PricePoint
from tests.integration.planning.price_server import (
    HOURLY,
    QUARTERLY,
    TOKEN,
    Served,
    price_server,
)

# The Danish day of the DST change (25 hours) and a 15-minute day.
DST_DAY = (datetime(2024, 10, 26, 22, tzinfo=UTC), datetime(2024, 10, 27, 23, tzinfo=UTC))
QUARTER_DAY = (datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 4, 1, 22, tzinfo=UTC))


def expected(zone: str, start: datetime, end: datetime) -> dict[datetime, float]:
    found = {}
    for path, time_field, price_field in (
        (HOURLY, "HourUTC", "SpotPriceEUR"),
        (QUARTERLY, "TimeUTC", "DayAheadPriceEUR"),
    ):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                at = datetime.fromisoformat(row[time_field].replace("Z", "+00:00"))
                if row["PriceArea"] == zone and start <= at < end:
                    found[at] = float(row[price_field])
    return found


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    with price_server() as running:
        yield running


def providers(base: str) -> list[PriceProvider]:
    return [
        EnergiDataServiceProvider(base_url=base),
        NordPoolProvider(base_url=f"{base}/api"),
        EntsoeProvider(TOKEN, base_url=f"{base}/entsoe"),
        CsvPriceProvider(HOURLY, QUARTERLY),
    ]


@pytest.mark.parametrize("zone", ["DK1", "DK2"])
async def test_every_provider_gives_the_25_hours_of_the_dst_day(
    server: tuple[str, Served], zone: str
) -> None:
    base, _ = server
    want = expected(zone, *DST_DAY)
    assert len(want) == 25
    for provider in providers(base):
        points = await provider.day_ahead(zone, *DST_DAY)
        assert {p.start: p.eur_per_mwh for p in points} == want, provider.name
        assert all(p.end - p.start == timedelta(hours=1) for p in points), provider.name
        assert all(p.zone == zone for p in points)


async def test_every_provider_gives_96_quarter_hours(server: tuple[str, Served]) -> None:
    base, _ = server
    want = expected("DK2", *QUARTER_DAY)
    assert len(want) == 96
    for provider in providers(base):
        points = await provider.day_ahead("DK2", *QUARTER_DAY)
        assert {p.start: p.eur_per_mwh for p in points} == want, provider.name
        assert all(p.end - p.start == timedelta(minutes=15) for p in points), provider.name


async def test_energi_data_service_asks_the_dataset_of_each_market_time_unit(
    server: tuple[str, Served],
) -> None:
    base, served = server
    provider = EnergiDataServiceProvider(base_url=base)
    await provider.day_ahead("DK1", *DST_DAY)
    await provider.day_ahead("DK1", *QUARTER_DAY)
    assert [path for path, _ in served.requests] == [
        "/dataset/Elspotprices",
        "/dataset/DayAheadPrices",
    ]
    assert served.requests[0][1]["filter"] == ['{"PriceArea": ["DK1"]}']


async def test_nothing_published_yet_is_an_empty_answer(server: tuple[str, Served]) -> None:
    base, _ = server
    later = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC))
    for provider in providers(base):
        assert await provider.day_ahead("DK1", *later) == [], provider.name


async def test_entsoe_refuses_without_a_valid_token(server: tuple[str, Served]) -> None:
    base, _ = server
    with pytest.raises(PriceUnavailable, match="401"):
        await EntsoeProvider("wrong", base_url=f"{base}/entsoe").day_ahead("DK1", *DST_DAY)
    with pytest.raises(PriceUnavailable, match="token"):
        await EntsoeProvider("", base_url=f"{base}/entsoe").day_ahead("DK1", *DST_DAY)


def test_entsoe_refuses_a_document_with_a_dtd() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(PriceUnavailable, match="DTD"):
        parse_a44(bomb, "DK1")


async def test_a_malformed_answer_or_no_server_is_price_unavailable(
    server: tuple[str, Served],
) -> None:
    base, served = server
    served.broken = True
    for provider in providers(base)[:3]:
        with pytest.raises(PriceUnavailable):
            await provider.day_ahead("DK1", *DST_DAY)


async def test_an_unreachable_server_is_price_unavailable() -> None:
    with price_server() as (base, _):
        pass  # stopped: the port now refuses connections
    for provider in providers(base)[:3]:
        with pytest.raises(PriceUnavailable):
            await provider.day_ahead("DK1", *DST_DAY)


async def test_a_shared_client_is_used(server: tuple[str, Served]) -> None:
    base, served = server
    async with httpx.AsyncClient() as client:
        points = await EnergiDataServiceProvider(client, base_url=base).day_ahead(
            "DK2", *QUARTER_DAY
        )
    assert len(points) == 96
    assert isinstance(points[0], PricePoint)
    assert len(served.requests) == 1

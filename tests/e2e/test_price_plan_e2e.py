"""A price plan reaches the charger: a running amphub with prices from the CSV provider, a
real OCPP 1.6 charger (the ``ocpp`` library) with a session, and the session's departure and
energy set over the REST API. The plan puts the energy in the cheap quarter hour; the
balancer, the one component that sends limits, holds the car at 0 A in the dear quarter hour
before it, lets it charge in the cheap one, and stops it again in the dear one after.

The server runs on a clock the test moves: real time shifted to a fixed day, so the slots
and their prices are the same on every run, and jumped a quarter hour forward to reach the
next slot instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from amphub.bootstrap import Container
from tests.e2e.test_balancing_e2e import held_profiles, iso, limit_in_force
from tests.integration.api.conftest import Tenant, charge_point_body, make_tenant
from tests.integration.ocpp.chargers import Charger16, charger_16
from tests.support.live import LiveServer, live_server, make_settings
from tests.support.waiting import eventually

SLOT = timedelta(minutes=15)
DEAR = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
"""The quarter hour the test starts in: 17:00 in Copenhagen, a dear hour."""
CHEAP = DEAR + SLOT
AFTER = CHEAP + SLOT
EUR_PER_MWH = {DEAR: 250.0, CHEAP: 20.0, AFTER: 300.0}
INCREASE_INTERVAL = timedelta(seconds=10)
"""The balancer's damping: at most one increase per connector per 10 s."""
NEED_WH = 4_000.0
"""Fits in the cheap quarter hour: 32 A on three phases give 5.5 kWh in 15 minutes."""


class ShiftedClock:
    """Real time moved by an offset the test can advance (read from the server's thread,
    written from the test's: one attribute, replaced whole)."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> None:
        self._offset += by


def write_prices(path: Path) -> None:
    """Energi Data Service's 15-minute export shape; the hours around the test are dear."""
    rows = ["TimeUTC,PriceArea,DayAheadPriceEUR"]
    start = DEAR - timedelta(hours=2)
    for k in range(24):
        at = start + k * SLOT
        rows.append(f"{at:%Y-%m-%dT%H:%M:%S},DK2,{EUR_PER_MWH.get(at, 280.0)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass
class World:
    server: LiveServer
    clock: ShiftedClock
    client: httpx.AsyncClient
    tenant: Tenant
    charge_point_id: int
    password: str

    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.container.gateway.port}/ocpp/PLAN-1"

    async def live_connector(self) -> dict[str, Any]:
        response = await self.client.get(
            f"/api/v1/groups/{self.tenant.group_id}/live", headers=self.tenant.headers
        )
        assert response.status_code == 200, response.text
        connector: dict[str, Any] = response.json()["connectors"][0]
        return connector


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(DEAR + timedelta(seconds=30))


@pytest.fixture
def server(tmp_path: Path, clock: ShiftedClock) -> Iterator[LiveServer]:
    prices = tmp_path / "prices.csv"
    write_prices(prices)
    settings = make_settings(
        tmp_path / "amphub.sqlite3", balancing_cycle_s=0.5, balancing_lapse_s=10.0,
        price_csv=[prices],
    )  # fmt: skip
    with live_server(settings, clock=clock) as live:
        yield live


@pytest.fixture
async def world(server: LiveServer, clock: ShiftedClock) -> AsyncIterator[World]:
    with httpx.Client(base_url=server.base_url, timeout=30) as sync:
        tenant = make_tenant(server, sync, "P")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        h = tenant.headers
        response = await client.post(
            f"/api/v1/sites/{tenant.site_id}/charge-points",
            json=charge_point_body("PLAN-1", "SN-PLAN-1"),
            headers=h,
        )
        assert response.status_code == 201, response.text
        charge_point_id, password = response.json()["id"], response.json()["ocpp_password"]
        group = f"/api/v1/groups/{tenant.group_id}"
        settings = {"name": "Garage", "total_a": 63, "fail_safe_a": 6}  # no meter: a fixed fuse
        assert (await client.put(group, json=settings, headers=h)).status_code == 200
        layout = {"charge_point_ids": [charge_point_id]}
        response = await client.put(f"{group}/layout", json=layout, headers=h)
        assert response.status_code == 200, response.text
        tariff = {"price_source": "csv", "currency": "EUR", "vat_percent": 0}
        response = await client.put(
            f"/api/v1/sites/{tenant.site_id}/tariff", json=tariff, headers=h
        )
        assert response.status_code == 200, response.text

        async def fetch_prices(container: Container) -> bool:
            # What the half-hourly price refresh does, now rather than in 30 minutes.
            return await container.adaptive.prices.refresh("DK2", "csv")

        assert server.call(fetch_prices)
        yield World(server, clock, client, tenant, charge_point_id, password)


async def draw_what_is_allowed(charger: Charger16, clock: ShiftedClock) -> None:
    """The car takes whatever the charger allows: MeterValues five times a second."""
    while True:
        current = str(limit_in_force(charger, clock.now()) or 0.0)
        sampled = [
            {"value": current, "measurand": "Current.Import", "phase": phase, "unit": "A"}
            for phase in ("L1", "L2", "L3")
        ]
        values = [{"timestamp": iso(clock.now()), "sampledValue": sampled}]
        await charger.call(call.MeterValues(connector_id=1, meter_value=values))
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def charging_car(world: World) -> AsyncIterator[Charger16]:
    async with charger_16(world.ocpp_url(), "PLAN-1", world.password) as charger:
        boot = await charger.call(
            call.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22"),
            suppress=False,
        )
        assert boot.status == "Accepted"
        now = iso(world.clock.now())
        await charger.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp=now
            ),
            suppress=False,
        )
        started = await charger.call(
            call.StartTransaction(connector_id=1, id_tag="TAG-P", meter_start=0, timestamp=now),
            suppress=False,
        )
        assert started.id_tag_info["status"] == "Accepted"
        drawing = asyncio.create_task(draw_what_is_allowed(charger, world.clock))
        try:
            yield charger
        finally:
            drawing.cancel()
            await asyncio.gather(drawing, return_exceptions=True)


async def drawing(world: World, current_a: float) -> bool:
    return bool((await world.live_connector())["delivered_a"] == pytest.approx(current_a))


async def raise_once(world: World, charger: Charger16, given_a: float) -> None:
    """Once the car draws ``given_a``, move the clock past the damping interval and wait for
    the next increase."""
    await eventually(lambda: drawing(world, given_a), 10)
    world.clock.advance(INCREASE_INTERVAL)
    await eventually(lambda: (dynamic_limit(charger, world.clock) or 0.0) > given_a, 10)


def dynamic_limit(charger: Charger16, clock: ShiftedClock) -> float | None:
    """The limit of the balancer's live profile (stack level 1) if it is in force now."""
    held = held_profiles(charger).get(1, {}).get(1)
    return held.limit_a if held is not None and held.in_force(clock.now()) else None


async def test_the_plan_holds_the_car_in_the_dear_slot_and_charges_it_in_the_cheap_one(
    world: World,
) -> None:
    clock = world.clock
    async with charging_car(world) as charger:
        # Before a need is known the car charges at once, as without a plan.
        await eventually(lambda: (dynamic_limit(charger, clock) or 0.0) >= 6.0, 10)

        connector = f"/api/v1/charge-points/{world.charge_point_id}/connectors/1"
        need = {"departure": iso(AFTER + SLOT), "energy_wh": NEED_WH}
        response = await world.client.put(
            f"{connector}/need", json=need, headers=world.tenant.headers
        )
        assert response.status_code == 200, response.text

        async def planned() -> bool:
            response = await world.client.get(f"{connector}/plan", headers=world.tenant.headers)
            return response.json() is not None

        await eventually(planned, 10)
        plan = (await world.client.get(f"{connector}/plan", headers=world.tenant.headers)).json()
        assert plan["status"] == "planned"
        caps = {datetime.fromisoformat(s["start"]): s["cap_a"] for s in plan["slots"]}
        assert caps[DEAR] == 0.0 and caps[AFTER] == 0.0
        cheap_cap = caps[CHEAP]
        assert 6.0 <= cheap_cap <= 32.0
        assert plan["planned_wh"] == pytest.approx(NEED_WH, rel=1e-3)

        # The dear quarter hour: the charger is sent 0 A, and accepts it.
        await eventually(lambda: dynamic_limit(charger, clock) == 0.0, 10)
        assert limit_in_force(charger, clock.now()) == 0.0
        assert charger.answers.status == "Accepted"
        assert charger.answers.answered == len(charger.answers.received)
        live = await world.live_connector()
        assert live["binding"] == "EXTERNAL_CAP" and "price plan" in live["detail"], live

        # The cheap quarter hour: charging, up to the plan's current. The balancer raises a
        # limit by at most 6 A per 10 s: the clock moves on 10 s at a time once the car
        # draws what it was given (it would lend the rest if it drew less for 30 s).
        clock.advance(SLOT)
        await eventually(lambda: (dynamic_limit(charger, clock) or 0.0) >= 6.0, 10)
        for _ in range(6):
            given = dynamic_limit(charger, clock) or 0.0
            if given == pytest.approx(cheap_cap, abs=0.1):
                break
            await raise_once(world, charger, given)
        assert dynamic_limit(charger, clock) == pytest.approx(cheap_cap, abs=0.1)
        live = await world.live_connector()
        assert live["binding"] == "EXTERNAL_CAP" and "price plan" in live["detail"], live

        # The dear quarter hour after it: held at 0 A again.
        clock.advance(SLOT)
        await eventually(lambda: dynamic_limit(charger, clock) == 0.0, 10)

"""Load balancing end to end: a running amphub, real OCPP chargers (the ``ocpp`` library, one
1.6 and one 2.0.1) and meter readings over HTTP.

- a step up in building load → the limits the chargers hold come down within one cycle;
- meter silence → every charger holds a limit at or below its fail-safe share within the
  meter timeout + 10 s;
- amphub gone → what the chargers would run on once the lapse time has passed is their
  standing share, and those add up to at most the fail-safe amps.

The chargers compute what is in force from the profiles they were sent, as OCPP's
composite-schedule rules say: per connector, the highest stack level whose schedule has not
lapsed.
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
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.integration.api.conftest import Tenant, charge_point_body, make_tenant
from tests.integration.ocpp.chargers import Charger16, Charger201, charger_16, charger_201
from tests.support.live import LiveServer, live_server, make_settings
from tests.support.waiting import eventually

LAPSE_S = 10.0
FAIL_SAFE_A = 6.0


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _get(mapping: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    raise KeyError(names)


@dataclass(frozen=True)
class Held:
    stack_level: int
    limit_a: float
    start: datetime | None
    duration_s: float | None

    def in_force(self, at: datetime) -> bool:
        if self.start is None or self.duration_s is None:
            return True
        return self.start <= at < self.start + timedelta(seconds=self.duration_s)


def held_profiles(charger: Charger16 | Charger201) -> dict[int, dict[int, Held]]:
    """connector → stack level → the last profile accepted there (1.6 and 2.0.1 shapes)."""
    found: dict[int, dict[int, Held]] = {}
    for action, payload in charger.answers.received:
        if action != "SetChargingProfile":
            continue
        if "cs_charging_profiles" in payload:  # 1.6
            connector = payload["connector_id"]
            profile = payload["cs_charging_profiles"]
            schedule = profile["charging_schedule"]
        else:  # 2.0.1: EVSE id, schedules as a list
            connector = payload["evse_id"]
            profile = payload["charging_profile"]
            schedule = profile["charging_schedule"][0]
        assert _get(schedule, "charging_rate_unit") == "A"
        start = schedule.get("start_schedule")
        found.setdefault(connector, {})[profile["stack_level"]] = Held(
            stack_level=profile["stack_level"],
            limit_a=float(schedule["charging_schedule_period"][0]["limit"]),
            start=None if start is None else datetime.fromisoformat(start.replace("Z", "+00:00")),
            duration_s=None if schedule.get("duration") is None else float(schedule["duration"]),
        )
    return found


def limit_in_force(charger: Charger16 | Charger201, at: datetime | None = None) -> float | None:
    at = at or datetime.now(UTC)
    levels = held_profiles(charger).get(1, {})
    active = [held for held in levels.values() if held.in_force(at)]
    return max(active, key=lambda held: held.stack_level).limit_a if active else None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(
        tmp_path / "amphub.sqlite3", balancing_cycle_s=0.5, balancing_lapse_s=LAPSE_S
    )
    with live_server(settings) as live:
        yield live


@dataclass
class Site:
    server: LiveServer
    client: httpx.AsyncClient
    tenant: Tenant
    passwords: dict[str, str]
    load: tuple[float, float, float] | None = None
    """What the meter pushes every second; None: the meter is silent."""

    async def meter_loop(self) -> None:
        while True:
            if self.load is not None:
                await self.building(*self.load)
            await asyncio.sleep(1.0)

    def ocpp_url(self, identity: str) -> str:
        return f"ws://127.0.0.1:{self.server.container.gateway.port}/ocpp/{identity}"

    async def building(self, l1: float, l2: float, l3: float) -> None:
        response = await self.client.post(
            "/api/v1/meter-readings",
            json={
                "measured_at": iso(datetime.now(UTC)),
                "currents_a": {"l1": l1, "l2": l2, "l3": l3},
            },
            auth=(self.tenant.meter_serial, self.tenant.meter_pin),
        )
        assert response.status_code == 200, response.text


@pytest.fixture
async def site(server: LiveServer) -> AsyncIterator[Site]:
    with httpx.Client(base_url=server.base_url, timeout=30) as sync:
        tenant = make_tenant(server, sync, "E")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        h = tenant.headers
        passwords: dict[str, str] = {}
        ids = []
        for identity in ("E-16", "E-201"):
            response = await client.post(
                f"/api/v1/sites/{tenant.site_id}/charge-points",
                json=charge_point_body(identity, f"SN-{identity}"),
                headers=h,
            )
            assert response.status_code == 201, response.text
            passwords[identity] = response.json()["ocpp_password"]
            ids.append(response.json()["id"])
        settings = {
            "name": "Garage", "total_a": 40, "meter_id": tenant.meter_id,
            "placement": "BUILDING_ONLY", "dynamic_buffer_a": 3, "fail_safe_a": FAIL_SAFE_A,
            "meter_timeout_s": 5,
        }  # fmt: skip
        assert (
            await client.put(f"/api/v1/groups/{tenant.group_id}", json=settings, headers=h)
        ).status_code == 200
        response = await client.put(
            f"/api/v1/groups/{tenant.group_id}/layout", json={"charge_point_ids": ids}, headers=h
        )
        assert response.status_code == 200, response.text
        yield Site(server, client, tenant, passwords)


async def draw_what_is_allowed(charger: Charger16 | Charger201) -> None:
    """The car takes whatever the charger allows: MeterValues every second."""
    while True:
        current = str(limit_in_force(charger) or 0.0)
        now = iso(datetime.now(UTC))
        phases = [
            {"value": current, "measurand": "Current.Import", "phase": phase, "unit": "A"}
            for phase in ("L1", "L2", "L3")
        ]
        if isinstance(charger, Charger16):
            values = [{"timestamp": now, "sampledValue": phases}]
            await charger.call(call16.MeterValues(connector_id=1, meter_value=values))
        else:
            sampled = [{**p, "unitOfMeasure": {"unit": "A"}} for p in phases]
            for item in sampled:
                del item["unit"]
            values = [{"timestamp": now, "sampledValue": sampled}]
            await charger.call(call201.MeterValues(evse_id=1, meter_value=values))
        await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def chargers(site: Site) -> AsyncIterator[tuple[Charger16, Charger201]]:
    now = iso(datetime.now(UTC))
    async with (
        charger_16(site.ocpp_url("E-16"), "E-16", site.passwords["E-16"]) as old,
        charger_201(site.ocpp_url("E-201"), "E-201", site.passwords["E-201"]) as new,
    ):
        boot = await old.call(
            call16.BootNotification(charge_point_vendor="Acme", charge_point_model="AC11"),
            suppress=False,
        )
        assert boot.status == "Accepted"
        await old.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp=now
            ),
            suppress=False,
        )
        boot = await new.call(
            call201.BootNotification(
                charging_station={"model": "AC22", "vendorName": "Acme"}, reason="PowerUp"
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        await new.call(
            call201.StatusNotification(
                timestamp=now, connector_status="Occupied", evse_id=1, connector_id=1
            ),
            suppress=False,
        )
        tasks = [
            asyncio.create_task(draw_what_is_allowed(old)),
            asyncio.create_task(draw_what_is_allowed(new)),
            asyncio.create_task(site.meter_loop()),
        ]
        try:
            yield old, new
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_step_silence_and_loss_of_amphub(site: Site) -> None:
    async with chargers(site) as (old, new):
        both = (old, new)
        site.load = (10, 10, 10)
        # Standing profiles first, then dynamic ones: both start at their minimum.
        await eventually(lambda: all(limit_in_force(c) == 6.0 for c in both), 15)
        for charger in both:
            levels = held_profiles(charger)[1]
            assert set(levels) == {0, 1}
            assert levels[1].duration_s == LAPSE_S
        standing = sum(held_profiles(c)[1][0].limit_a for c in both)
        assert standing <= FAIL_SAFE_A

        # A step up in the building's load: 40 - 30 - 3 = 7 A left for both together.
        site.load = (30, 12, 12)
        await site.building(*site.load)
        await eventually(lambda: sum(limit_in_force(c) or 0.0 for c in both) <= 7.0, 3)
        live = (
            await site.client.get(
                f"/api/v1/groups/{site.tenant.group_id}/live", headers=site.tenant.headers
            )
        ).json()
        assert live["limit"]["l1"] == 7.0
        bindings = {c["binding"] for c in live["connectors"]}
        assert bindings & {"GROUP_LIMIT", "PAUSED_NO_CAPACITY"}, bindings

        # The building calms down, then the meter falls silent: fail-safe within 5 + 10 s.
        site.load = None
        silent_since = datetime.now(UTC)

        async def in_fail_safe() -> bool:
            response = await site.client.get(
                f"/api/v1/groups/{site.tenant.group_id}/live", headers=site.tenant.headers
            )
            return bool(response.json()["fail_safe"]) and (
                sum(limit_in_force(c) or 0.0 for c in both) <= FAIL_SAFE_A
            )

        # the meter timeout (5 s) + 10 s, and a little for the polling itself
        await eventually(in_fail_safe, 15 + 2)
        assert datetime.now(UTC) - silent_since > timedelta(seconds=5)

        # amphub gone: nobody renews the dynamic profiles; once they lapse the standing
        # shares are what is left, within the fail-safe amps.
        site.load = (0, 0, 0)
        await eventually(lambda: sum(limit_in_force(c) or 0.0 for c in both) > FAIL_SAFE_A, 30)
    site.server.stop()
    after_lapse = datetime.now(UTC) + timedelta(seconds=LAPSE_S + 1)
    fallback = [limit_in_force(c, after_lapse) for c in both]
    assert all(limit is not None for limit in fallback)
    assert sum(limit or 0.0 for limit in fallback) <= FAIL_SAFE_A

"""The whole path for meters that do not push over HTTP, through a running amphub: an MQTT
meter publishing through the Mosquitto on 127.0.0.1:1883, and a Modbus TCP meter that amphub
polls (a pymodbus server on an ephemeral port) — both registered over the API, both ACTIVE."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import httpx
import pytest

from tests.integration.api.conftest import Tenant, make_tenant
from tests.integration.meters.test_meter_modbus import FC_INPUT, UNIT, FakeMeter, f32
from tests.support.live import LiveServer, live_server, make_settings
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("transports")) / "amphub.sqlite3"
    with live_server(make_settings(database, mqtt_host="127.0.0.1", mqtt_port=1883)) as live:
        yield live


@pytest.fixture(scope="module")
def tenant(server: LiveServer) -> Tenant:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return make_tenant(server, client, "T")


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield http


async def status_becomes(
    client: httpx.AsyncClient, tenant: Tenant, meter_id: int, status: str
) -> dict[str, object]:
    shown: dict[str, object] = {}

    async def reached() -> bool:
        response = await client.get(f"/api/v1/meters/{meter_id}", headers=tenant.headers)
        shown.update(response.json())
        return shown["status"] == status

    await eventually(reached, 15)
    return shown


async def test_an_mqtt_meter_becomes_active(
    client: httpx.AsyncClient, tenant: Tenant, server: LiveServer
) -> None:
    response = await client.post(
        f"/api/v1/sites/{tenant.site_id}/meters",
        json={"name": "MQTT", "main_fuse_a": 50, "transport": "mqtt"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert f"amphub/meters/{created['serial']}/readings" in created["instructions"]
    transports = server.container.meter_transports
    await eventually(lambda: transports.mqtt is not None and transports.mqtt.connected.is_set(), 15)
    payload = {
        "measured_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "currents_a": {"l1": 7.5, "l2": 8.5, "l3": -2.0},
    }
    async with aiomqtt.Client("127.0.0.1", 1883) as mqtt:
        await mqtt.publish(
            f"amphub/meters/{created['serial']}/readings", json.dumps(payload), qos=1
        )
    shown = await status_becomes(client, tenant, created["id"], "ACTIVE")
    assert shown["last_reading"]["currents_a"] == {"l1": 7.5, "l2": 8.5, "l3": -2.0}  # type: ignore[index]


async def test_a_modbus_meter_is_polled_once_registered(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    meter = FakeMeter()
    await meter.start()
    try:
        await meter.set(FC_INPUT, 0x0006, f32(12.5) + f32(3.25) + f32(0.5))
        body = {
            "name": "SDM630", "main_fuse_a": 35, "transport": "modbus",
            "transport_settings": {
                "host": "127.0.0.1", "port": meter.port, "unit_id": UNIT,
                "register_map": "eastron_sdm630", "interval_s": 0.2, "timeout_s": 0.5,
                "backoff_max_s": 1.0,
            },
        }  # fmt: skip
        response = await client.post(
            f"/api/v1/sites/{tenant.site_id}/meters", json=body, headers=tenant.headers
        )
        assert response.status_code == 201, response.text
        shown = await status_becomes(client, tenant, response.json()["id"], "ACTIVE")
        assert shown["last_reading"]["currents_a"] == {"l1": 12.5, "l2": 3.25, "l3": 0.5}  # type: ignore[index]
    finally:
        await meter.stop()


async def test_modbus_settings_are_checked_before_anything_is_stored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    before = [m["id"] for m in (await client.get("/api/v1/meters", headers=tenant.headers)).json()]
    for settings, field in (
        ({"host": "127.0.0.1", "register_map": "/etc/passwd"}, "register_map"),
        ({"host": "127.0.0.1", "register_map": "no_such_meter"}, "register_map"),
        ({"host": "127.0.0.1", "unit_id": 300}, "transport_settings"),
        ({"host": "127.0.0.1", "colour": "blue"}, "transport_settings"),
    ):
        response = await client.post(
            f"/api/v1/sites/{tenant.site_id}/meters",
            json={"main_fuse_a": 35, "transport": "modbus", "transport_settings": settings},
            headers=tenant.headers,
        )
        assert response.status_code == 422, settings
        assert field in ".".join(map(str, response.json()["detail"][0]["loc"]))
        assert "root:" not in response.text
    after = (await client.get("/api/v1/meters", headers=tenant.headers)).json()
    assert [m["id"] for m in after] == before

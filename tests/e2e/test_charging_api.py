"""Charge points at work over the REST API, with a real 1.6 charger on the other end: status,
commands that reach the wire, typed errors, sessions with meter values, and the rule that a
role without the right sends nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from ocpp.v16 import call

from tests.integration.api.conftest import Tenant, create_user, login, make_tenant
from tests.integration.ocpp.chargers import charger_16
from tests.support.live import LiveServer, live_server, make_settings
from tests.support.waiting import eventually


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("charging")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@pytest.fixture(scope="module")
def tenant(server: LiveServer) -> Tenant:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return make_tenant(server, client, "C")


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield http


async def new_charger(client: httpx.AsyncClient, tenant: Tenant, identity: str) -> tuple[int, str]:
    body = {
        "ocpp_identity": identity,
        "serial_number": f"SN-{identity}",
        "connectors": [{"connector_id": 1, "phases": 3, "max_current_a": 16}],
    }
    response = await client.post(
        f"/api/v1/sites/{tenant.site_id}/charge-points", json=body, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["ocpp_password"]


async def test_status_commands_and_sessions(
    server: LiveServer, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    cp_id, password = await new_charger(client, tenant, "API-16")
    url = f"ws://127.0.0.1:{server.container.gateway.port}/ocpp/API-16"
    status_url = f"/api/v1/charge-points/{cp_id}/status"
    offline = (await client.get(status_url, headers=tenant.headers)).json()
    assert offline["connected"] is False
    response = await client.post(
        f"/api/v1/charge-points/{cp_id}/commands/reset",
        json={"kind": "soft"},
        headers=tenant.headers,
    )
    assert response.status_code == 409 and response.json()["error"] == "ChargerOffline"

    async with charger_16(url, "API-16", password) as charger:
        await charger.call(
            call.BootNotification(
                charge_point_vendor="Acme",
                charge_point_model="AC11",
                charge_point_serial_number="SN-API-16",
                firmware_version="1.2.3",
            )
        )
        await charger.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status="Preparing",
                timestamp=iso(datetime.now(UTC)),
            )
        )

        async def shown() -> bool:
            data = (await client.get(status_url, headers=tenant.headers)).json()
            return data["connected"] and data["max_stack_level"] == 3 and data["connectors"]

        await eventually(shown, 10)
        data = (await client.get(status_url, headers=tenant.headers)).json()
        assert data["ocpp_version"] == "1.6"
        assert data["last_boot"]["firmware_version"] == "1.2.3"
        assert data["connectors"][0]["status"] == "preparing"

        response = await client.post(
            f"/api/v1/charge-points/{cp_id}/commands/remote-start",
            json={"id_tag": "CARD-9", "connector_id": 1},
            headers=tenant.headers,
        )
        assert response.status_code == 202, response.text
        assert ("RemoteStartTransaction", {"id_tag": "CARD-9", "connector_id": 1}) in [
            (a, {k: v for k, v in p.items() if k in ("id_tag", "connector_id")})
            for a, p in charger.answers.received
        ]
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="CARD-9", meter_start=5000, timestamp=iso(datetime.now(UTC))
            )
        )
        await charger.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": iso(datetime.now(UTC)),
                        "sampledValue": [
                            {
                                "value": "7.5",
                                "measurand": "Current.Import",
                                "phase": "L1",
                                "unit": "A",
                            },
                            {
                                "value": "5600",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                        ],
                    }
                ],
            )
        )
        await charger.call(
            call.StopTransaction(
                transaction_id=started.transaction_id,
                meter_stop=9000,
                timestamp=iso(datetime.now(UTC)),
            )
        )

        charger.answers.status = "Rejected"
        response = await client.post(
            f"/api/v1/charge-points/{cp_id}/commands/reset",
            json={"kind": "hard"},
            headers=tenant.headers,
        )
        assert response.status_code == 409 and response.json()["error"] == "CommandRejected"
        charger.answers.status = "Accepted"

        response = await client.put(
            f"/api/v1/charge-points/{cp_id}/configuration",
            json={"key": "HeartbeatInterval", "value": "120"},
            headers=tenant.headers,
        )
        assert response.status_code == 200 and response.json() == {"outcome": "accepted"}

        # A Team Member sees the charger but may not command it; nothing reaches the charger.
        member_id = create_user(server, "viewer-c@example.com")
        await client.put(
            f"/api/v1/operators/{tenant.operator_id}/members",
            json={"user_id": member_id, "team_id": tenant.team_id, "role": "team_member"},
            headers=tenant.headers,
        )
        with httpx.Client(base_url=server.base_url) as sync:
            viewer = {"Authorization": f"Bearer {login(sync, 'viewer-c@example.com')}"}
        before = len(charger.answers.received)
        assert (await client.get(status_url, headers=viewer)).status_code == 200
        response = await client.post(
            f"/api/v1/charge-points/{cp_id}/commands/reset", json={"kind": "hard"}, headers=viewer
        )
        assert response.status_code == 403
        assert len(charger.answers.received) == before

    sessions = (
        await client.get(f"/api/v1/charge-points/{cp_id}/transactions", headers=tenant.headers)
    ).json()
    assert [s["energy_wh"] for s in sessions] == [4000.0]
    detail = (
        await client.get(f"/api/v1/transactions/{sessions[0]['id']}", headers=tenant.headers)
    ).json()
    assert detail["meter_values"][0]["current_a"]["l1"] == 7.5
    audit = [
        e["action"] for e in (await client.get("/api/v1/audit-log", headers=tenant.headers)).json()
    ]
    assert "charge_point.remote_start" in audit and "charge_point.change_configuration" in audit


async def test_the_allow_list_decides_authorize(
    server: LiveServer, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    _, password = await new_charger(client, tenant, "API-TAGS")
    url = f"ws://127.0.0.1:{server.container.gateway.port}/ocpp/API-TAGS"
    tags = f"/api/v1/teams/{tenant.team_id}/id-tags"
    assert (
        await client.put(f"{tags}/card-77", json={"label": "Anna"}, headers=tenant.headers)
    ).status_code == 200
    bad = await client.put(f"{tags}/{'x' * 40}", json={}, headers=tenant.headers)
    assert bad.status_code == 422 and "id_tag" in bad.text
    async with charger_16(url, "API-TAGS", password) as charger:
        await charger.call(
            call.BootNotification(charge_point_vendor="Acme", charge_point_model="AC11")
        )
        allowed = await charger.call(call.Authorize(id_tag="CARD-77"))
        assert allowed.id_tag_info["status"] == "Accepted"
        unknown = await charger.call(call.Authorize(id_tag="CARD-78"))
        assert unknown.id_tag_info["status"] == "Invalid"
        await client.put(f"{tags}/CARD-77", json={"blocked": True}, headers=tenant.headers)
        blocked = await charger.call(call.Authorize(id_tag="card-77"))
        assert blocked.id_tag_info["status"] == "Blocked"
    listed = (await client.get(tags, headers=tenant.headers)).json()
    assert {"id_tag": "CARD-77", "blocked": True, "label": ""}.items() <= next(
        t for t in listed if t["id_tag"] == "CARD-77"
    ).items()
    assert (await client.delete(f"{tags}/card-77", headers=tenant.headers)).status_code == 204
    audit = [
        e["action"] for e in (await client.get("/api/v1/audit-log", headers=tenant.headers)).json()
    ]
    assert {"id_tag.put", "id_tag.remove"} <= set(audit)

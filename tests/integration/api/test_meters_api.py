"""Meters over the API and readings over HTTP, through a real socket: serial and PIN made by
amphub and shown once, status NEVER_SEEN → ACTIVE, bad readings refused naming the field and
never passed on, wrong PINs refused and rate-limited, and delete refused while in use."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from amphub.bootstrap import Container
from amphub.entrypoints.api.app import configure_api, new_app
from tests.integration.api.conftest import Tenant
from tests.support.live import LiveServer


def reading(
    at: datetime, l1: float = 10.0, l2: float = 11.0, l3: float = 12.0
) -> dict[str, object]:
    return {
        "measured_at": at.isoformat().replace("+00:00", "Z"),
        "currents_a": {"l1": l1, "l2": l2, "l3": l3},
        "voltages_v": {"l1": 230.1, "l2": 229.8, "l3": 231.0},
        "energy_import_wh": 1_000_000.0,
    }


def register(client: httpx.Client, tenant: Tenant, **body: object) -> dict[str, object]:
    response = client.post(
        f"/api/v1/sites/{tenant.site_id}/meters",
        json={"name": "Main", "main_fuse_a": 63, **body},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_registration_shows_the_pin_once(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    created = register(client, a)
    pin = str(created["pin"])
    assert len(pin) == 8 and pin.isdigit()
    assert str(created["serial"]).startswith("AMH-")
    assert created["status"] == "NEVER_SEEN"
    assert created["serial"] in str(created["instructions"])
    shown = client.get(f"/api/v1/meters/{created['id']}", headers=a.headers)
    assert "pin" not in shown.json() and pin not in shown.text
    audit = client.get("/api/v1/audit-log", headers=a.headers).text
    assert pin not in audit


def test_readings_make_the_meter_active_and_reach_the_live_state(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    created = register(client, a)
    auth = (str(created["serial"]), str(created["pin"]))
    now = datetime.now(UTC)
    response = client.post(
        "/api/v1/meter-readings", json=reading(now - timedelta(seconds=1)), auth=auth
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "status": "ACTIVE"}
    latest = server.container.ingestion.live.latest(int(str(created["id"])))
    assert latest is not None
    assert latest[0].currents_a.as_tuple() == (10.0, 11.0, 12.0)
    shown = client.get(f"/api/v1/meters/{created['id']}", headers=a.headers).json()
    assert shown["status"] == "ACTIVE"
    assert shown["last_reading"]["currents_a"] == {"l1": 10.0, "l2": 11.0, "l3": 12.0}
    assert 0 <= shown["last_reading"]["age_s"] < 30

    batch = {"readings": [reading(now, 20, 21, 22), reading(now + timedelta(seconds=60), 5, 5, 5)]}
    response = client.post("/api/v1/meter-readings", json=batch, auth=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 1
    assert body["detail"][0]["loc"][:3] == ["body", "readings[1]", "measured_at"]
    assert body["detail"][0]["type"] == "in_future"
    latest = server.container.ingestion.live.latest(int(str(created["id"])))
    assert latest is not None and latest[0].currents_a.l1_a == 20.0  # the future one never arrived


def test_bad_readings_are_refused_naming_the_field(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    created = register(client, a, main_fuse_a=40)
    auth = (str(created["serial"]), str(created["pin"]))
    meter_id = int(str(created["id"]))
    now = datetime.now(UTC)
    cases = [
        (reading(now, l1=81.0), "currents_a", "current_out_of_range"),  # > 2 x 40 A
        ({**reading(now), "currents_a": {"l1": 1, "l2": 2}}, "currents_a", None),
        ({**reading(now), "measured_at": "yesterday"}, "measured_at", None),
        (reading(now + timedelta(seconds=30)), "measured_at", "in_future"),
    ]
    for payload, field, kind in cases:
        response = client.post("/api/v1/meter-readings", json=payload, auth=auth)
        assert response.status_code == 422, (payload, response.text)
        detail = response.json()["detail"][0]
        assert field in ".".join(map(str, detail["loc"]))
        if kind:
            assert detail["type"] == kind
    not_json = client.post(
        "/api/v1/meter-readings",
        content=b"{not json",
        auth=auth,
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 422
    nan = client.post(
        "/api/v1/meter-readings",
        content=b'{"measured_at": "%s", "currents_a": {"l1": NaN, "l2": 1, "l3": 1}}'
        % now.isoformat().replace("+00:00", "Z").encode(),
        auth=auth,
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 422
    assert server.container.ingestion.live.latest(meter_id) is None
    assert (
        client.get(f"/api/v1/meters/{meter_id}", headers=a.headers).json()["status"] == "NEVER_SEEN"
    )


def test_wrong_pin_is_401_then_429_and_a_new_pin_replaces_the_old(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    created = register(client, a)
    serial, pin = str(created["serial"]), str(created["pin"])
    now = datetime.now(UTC)
    assert client.post("/api/v1/meter-readings", json=reading(now)).status_code == 401
    assert (
        client.post("/api/v1/meter-readings", json=reading(now), headers=a.headers).status_code
        == 401
    )  # a user's token is not a meter's credential
    wrong = "00000000" if pin != "00000000" else "11111111"
    for _ in range(10):
        assert (
            client.post(
                "/api/v1/meter-readings", json=reading(now), auth=(serial, wrong)
            ).status_code
            == 401
        )
    limited = client.post("/api/v1/meter-readings", json=reading(now), auth=(serial, pin))
    assert limited.status_code == 429

    other = register(client, a)
    old_pin = str(other["pin"])
    ok = client.post(
        "/api/v1/meter-readings", json=reading(now), auth=(str(other["serial"]), old_pin)
    )
    assert ok.status_code == 200
    renewed = client.post(f"/api/v1/meters/{other['id']}/pin", headers=a.headers).json()
    later = now + timedelta(seconds=1)
    assert (
        client.post(
            "/api/v1/meter-readings",
            json=reading(later),
            auth=(str(other["serial"]), renewed["pin"]),
        ).status_code
        == 200
    )
    if renewed["pin"] != old_pin:
        assert (
            client.post(
                "/api/v1/meter-readings",
                json=reading(later + timedelta(seconds=1)),
                auth=(str(other["serial"]), old_pin),
            ).status_code
            == 401
        )


def test_delete_is_refused_while_a_group_uses_the_meter(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    response = client.delete(f"/api/v1/meters/{a.meter_id}", headers=a.headers)
    assert response.status_code == 409
    assert "GroupA" in response.text
    assert client.get(f"/api/v1/meters/{a.meter_id}", headers=a.headers).status_code == 200
    spare = register(client, a)
    assert client.delete(f"/api/v1/meters/{spare['id']}", headers=a.headers).status_code == 204
    assert client.get(f"/api/v1/meters/{spare['id']}", headers=a.headers).status_code == 404


def test_bad_registration_names_the_field(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    for body, field in (
        ({"main_fuse_a": -1}, "main_fuse_a"),
        ({"main_fuse_a": 63, "timeout_s": 0.1}, "timeout_s"),
        ({"main_fuse_a": 63, "transport": "carrier-pigeon"}, "transport"),
        ({"main_fuse_a": 63, "transport": "modbus"}, "transport_settings.host"),
        ({"main_fuse_a": 63, "transport_settings": {"host": "x"}}, "transport_settings"),
    ):
        response = client.post(f"/api/v1/sites/{a.site_id}/meters", json=body, headers=a.headers)
        assert response.status_code == 422, body
        assert field in ".".join(map(str, response.json()["detail"][0]["loc"]))


def _basic(serial: str, pin: str) -> str:
    return "Basic " + base64.b64encode(f"{serial}:{pin}".encode()).decode()


def _push_cases(serial: str, pin: str, now: datetime) -> list[tuple[dict[str, str], bytes]]:
    """One push of every kind of answer, in an order that leaves the meter's history alike."""
    ok = {"authorization": _basic(serial, pin), "content-type": "application/json"}
    wrong = "00000000" if pin != "00000000" else "11111111"

    def body(value: object) -> bytes:
        return json.dumps(value).encode()

    return [
        ({}, body(reading(now))),
        ({"authorization": "Bearer abc"}, body(reading(now))),
        ({"authorization": "Basic !!!"}, body(reading(now))),
        ({"authorization": _basic(serial, wrong)}, body(reading(now))),
        ({"authorization": _basic("AMH-ZZZZ-ZZZZ-ZZZZ-ZZZZ", pin)}, body(reading(now))),
        (ok, body(reading(now))),
        (ok, body(reading(now))),  # a retry: duplicate
        (ok, body({"readings": [reading(now + timedelta(seconds=1)), reading(now, 1, 1, 1)]})),
        (ok, b"{not json"),
        (ok, body({"readings": []})),
        (ok, body({**reading(now + timedelta(seconds=2)), "serial": "AMH-ZZZZ-ZZZZ-ZZZZ-ZZZZ"})),
        (ok, body({**reading(now + timedelta(seconds=2)), "current_a": 1})),
        (ok, body(reading(now + timedelta(seconds=3), l1=999.0))),
        (ok, b"x" * 2_000_000),
    ]


def _answer(response: httpx.Response, serial: str) -> tuple[int, Any, dict[str, str]]:
    headers = {
        name: response.headers[name]
        for name in ("content-type", "www-authenticate", "retry-after")
        if name in response.headers
    }
    return response.status_code, json.loads(response.text.replace(serial, "SERIAL")), headers


def test_the_lean_push_path_answers_like_the_fastapi_route(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    """The push is served past FastAPI's router (amphub.entrypoints.api.meter_push); the
    route it stands in for stays declared. Every kind of answer must come out the same,
    byte for byte in the JSON, from both."""
    a, _ = tenants
    lean, routed = register(client, a), register(client, a)
    now = datetime.now(UTC) - timedelta(seconds=10)
    lean_serial, lean_pin = str(lean["serial"]), str(lean["pin"])
    through_lean = [
        _answer(client.post("/api/v1/meter-readings", headers=headers, content=body), lean_serial)
        for headers, body in _push_cases(lean_serial, lean_pin, now)
    ]

    async def through_fastapi(container: Container) -> list[tuple[int, Any, dict[str, str]]]:
        app = new_app()
        app.state.container = container
        configure_api(
            app, max_body_bytes=server.settings.max_body_bytes, meter_push_fast_path=False
        )
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        serial, pin = str(routed["serial"]), str(routed["pin"])
        async with httpx.AsyncClient(
            transport=transport, base_url="http://amphub"
        ) as routed_client:
            return [
                _answer(
                    await routed_client.post("/api/v1/meter-readings", headers=h, content=b), serial
                )
                for h, b in _push_cases(serial, pin, now)
            ]

    assert through_lean == server.call(through_fastapi)
    statuses = [status for status, _, _ in through_lean]
    assert statuses == [401, 401, 401, 401, 401, 200, 422, 422, 422, 422, 422, 422, 422, 413]


def test_the_lean_push_path_keeps_the_rate_limit_and_leaves_other_requests_alone(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    meter = register(client, a)
    serial, pin = str(meter["serial"]), str(meter["pin"])
    wrong = "00000000" if pin != "00000000" else "11111111"
    now = datetime.now(UTC)
    for _ in range(10):
        client.post("/api/v1/meter-readings", json=reading(now), auth=(serial, wrong))
    limited = client.post("/api/v1/meter-readings", json=reading(now), auth=(serial, pin))
    assert limited.status_code == 429
    assert re.fullmatch(r"too many wrong PINs; retry in \d+ s", limited.json()["detail"])
    assert int(limited.headers["retry-after"]) > 0
    # other methods and a query string go through FastAPI as before
    assert client.get("/api/v1/meter-readings").status_code == 405
    other = register(client, a)
    routed = client.post(
        "/api/v1/meter-readings?meter_id=99999999999999999999",
        json=reading(now),
        auth=(str(other["serial"]), str(other["pin"])),
    )
    assert routed.status_code == 422
    assert routed.json()["detail"][0]["loc"] == ["query", "meter_id"]

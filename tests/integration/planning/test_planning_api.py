"""The adaptive-charging routes on a live server: schedules, tariffs and defaults round-trip,
bad input names its field, a session's need needs a session, and the plan of a connector
without one is null. Cross-tenant 404s are in the generated route test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.conftest import Tenant, make_tenant
from tests.support.live import LiveServer, live_server, make_settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("planning-api")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def tenant(server: LiveServer, client: httpx.Client) -> Tenant:
    return make_tenant(server, client, "A")


def test_schedule_round_trip_and_removal(client: httpx.Client, tenant: Tenant) -> None:
    url = f"/api/v1/charge-points/{tenant.charge_point_id}/schedule"
    empty = client.get(url, headers=tenant.headers)
    assert empty.status_code == 200 and empty.json()["windows"] == []
    body = {
        "windows": [
            {"weekday": 0, "start_minute": 1320, "end_minute": 1440, "max_a": 16},
            {"weekday": 1, "start_minute": 0, "end_minute": 360, "max_a": 10, "connector_id": 1},
        ]
    }
    put = client.put(url, json=body, headers=tenant.headers)
    assert put.status_code == 200, put.text
    got = client.get(url, headers=tenant.headers).json()
    assert got["enabled"] is True
    assert [w["max_a"] for w in got["windows"]] == [16, 10]
    bad = {
        "windows": [
            {"weekday": 0, "start_minute": 0, "end_minute": 60, "max_a": 6, "connector_id": 9}
        ]
    }
    refused = client.put(url, json=bad, headers=tenant.headers)
    assert (
        refused.status_code == 422
        and refused.json()["detail"][0]["loc"][1] == "windows.connector_id"
    )
    assert client.delete(url, headers=tenant.headers).status_code == 204
    assert client.delete(url, headers=tenant.headers).status_code == 404
    audit = client.get("/api/v1/audit-log", headers=tenant.headers, params={"limit": 200}).text
    assert "schedule.set" in audit and "schedule.delete" in audit


def test_tariff_round_trip_and_validation(client: httpx.Client, tenant: Tenant) -> None:
    url = f"/api/v1/sites/{tenant.site_id}/tariff"
    assert client.get(url, headers=tenant.headers).json() is None
    body = {
        "price_source": "energi_data_service", "currency": "DKK", "eur_rate": 7.46,
        "vat_percent": 25, "fixed_per_kwh": 0.761,
        "grid_windows": [{"start_minute": 1020, "end_minute": 1260, "per_kwh": 1.35}],
    }  # fmt: skip
    put = client.put(url, json=body, headers=tenant.headers)
    assert put.status_code == 200, put.text
    assert put.json()["time_zone"] == "Europe/Copenhagen"
    assert client.get(url, headers=tenant.headers).json()["grid_windows"][0]["per_kwh"] == 1.35
    wrong = client.put(url, json={**body, "price_source": "astrology"}, headers=tenant.headers)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"][1] == "price_source"


def test_a_bad_tariff_band_names_its_field(client: httpx.Client, tenant: Tenant) -> None:
    """What the portal shows beside a band's input: the band's index and field."""
    url = f"/api/v1/sites/{tenant.site_id}/tariff"
    before = client.get(url, headers=tenant.headers).json()
    good = {"start_minute": 0, "end_minute": 360, "per_kwh": 0.2}
    body = {
        "price_source": "none",
        "vat_percent": 25,
        "grid_windows": [
            good,
            {"start_minute": 1260, "end_minute": 1020, "per_kwh": 1.35},
            {**good, "weekdays": [7]},
            {**good, "weekdays": []},
        ],
    }
    refused = client.put(url, json=body, headers=tenant.headers)
    assert refused.status_code == 422, refused.text
    places = {tuple(error["loc"]) for error in refused.json()["detail"]}
    assert places == {
        ("body", "grid_windows", 1, "end_minute"),
        ("body", "grid_windows", 2, "weekdays", 0),
        ("body", "grid_windows", 3, "weekdays"),
    }
    assert "must come after the start" in refused.text and "pick at least one day" in refused.text
    assert client.get(url, headers=tenant.headers).json() == before


def test_need_defaults(client: httpx.Client, tenant: Tenant) -> None:
    cp_url = f"/api/v1/charge-points/{tenant.charge_point_id}/need-default"
    put = client.put(
        cp_url, json={"departure_minute": 420, "energy_wh": 20000}, headers=tenant.headers
    )
    assert put.status_code == 204
    assert client.get(cp_url, headers=tenant.headers).json() == {
        "departure_minute": 420,
        "energy_wh": 20000.0,
    }
    tag_url = f"/api/v1/teams/{tenant.team_id}/token-need-defaults"
    body = {"id_tag": "abc123", "departure_minute": 450, "energy_wh": 30000}
    assert client.put(tag_url, json=body, headers=tenant.headers).status_code == 204
    listed = client.get(tag_url, headers=tenant.headers).json()
    assert listed == [{"id_tag": "ABC123", "departure_minute": 450, "energy_wh": 30000.0}]
    assert (
        client.delete(tag_url, params={"id_tag": "ABC123"}, headers=tenant.headers).status_code
        == 204
    )
    assert client.get(tag_url, headers=tenant.headers).json() == []


def test_a_session_need_needs_a_running_session(client: httpx.Client, tenant: Tenant) -> None:
    base = f"/api/v1/charge-points/{tenant.charge_point_id}/connectors"
    response = client.put(f"{base}/1/need", json={"charge_now": True}, headers=tenant.headers)
    assert response.status_code == 409, response.text
    unknown = client.put(f"{base}/7/need", json={"charge_now": True}, headers=tenant.headers)
    assert unknown.status_code == 404
    incomplete = client.put(f"{base}/1/need", json={"energy_wh": 1000}, headers=tenant.headers)
    assert incomplete.status_code == 422
    plan = client.get(f"{base}/1/plan", headers=tenant.headers)
    assert plan.status_code == 200 and plan.json() is None

"""Two tenants on one live server: A and B, each an operator with a team, a site and a
charge point, each with an Operator Admin who knows nothing of the other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from amphub.application.access import Actor
from amphub.bootstrap import Container
from amphub.domain.charging import AuthorizationStatus, StartTransaction, StopTransaction
from tests.support.live import LiveServer, live_server, make_settings

PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    name: str
    email: str
    token: str
    user_id: int
    operator_id: int = 0
    team_id: int = 0
    site_id: int = 0
    charge_point_id: int = 0
    meter_id: int = 0
    meter_serial: str = ""
    meter_pin: str = ""
    group_id: int = 0
    compatibility_id: int = 0
    transaction_id: int = 0
    stop_id: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_user(server: LiveServer, email: str, password: str = PASSWORD) -> int:
    async def work(container: Container) -> int:
        user = await container.auth.create_user(Actor.system("test"), email, email, password)
        return user.id

    user_id: int = server.call(work)
    return user_id


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def add_team_member(
    server: LiveServer, client: httpx.Client, tenant: Tenant, email: str, role: str = "team_member"
) -> tuple[int, dict[str, str]]:
    """A new user given ``role`` in the tenant's team: their id and auth headers."""
    user_id = create_user(server, email)
    response = client.put(
        f"/api/v1/operators/{tenant.operator_id}/members",
        json={"user_id": user_id, "team_id": tenant.team_id, "role": role},
        headers=tenant.headers,
    )
    assert response.status_code == 204, response.text
    return user_id, {"Authorization": f"Bearer {login(client, email)}"}


def site_body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "country": "DK",
        "bidding_zone": "DK2",
        "time_zone": "Europe/Copenhagen",
        "address": {"street": f"{name} street 1", "postal_code": "2300", "city": "København"},
    }


def charge_point_body(identity: str, serial: str) -> dict[str, object]:
    return {
        "ocpp_identity": identity,
        "serial_number": serial,
        "brand": "Easee",
        "model": "Charge",
        "connectors": [{"connector_id": 1, "phases": 3, "max_current_a": 32}],
    }


def make_tenant(server: LiveServer, client: httpx.Client, name: str) -> Tenant:
    email = f"admin-{name.lower()}@example.com"
    user_id = create_user(server, email)
    tenant = Tenant(name, email, login(client, email), user_id)
    h = tenant.headers
    tenant.operator_id = client.post(
        "/api/v1/operators", json={"name": f"Operator {name}"}, headers=h
    ).json()["id"]
    tenant.team_id = client.post(
        f"/api/v1/operators/{tenant.operator_id}/teams", json={"name": f"Team {name}"}, headers=h
    ).json()["id"]
    tenant.site_id = client.post(
        f"/api/v1/teams/{tenant.team_id}/sites", json=site_body(f"Site{name}"), headers=h
    ).json()["id"]
    response = client.post(
        f"/api/v1/sites/{tenant.site_id}/charge-points",
        json=charge_point_body(f"CP-{name}", f"SERIAL-{name}"),
        headers=h,
    )
    assert response.status_code == 201, response.text
    tenant.charge_point_id = response.json()["id"]
    response = client.post(
        f"/api/v1/sites/{tenant.site_id}/meters",
        json={"name": f"Meter{name}", "main_fuse_a": 63},
        headers=h,
    )
    assert response.status_code == 201, response.text
    tenant.meter_id, tenant.meter_serial = response.json()["id"], response.json()["serial"]
    tenant.meter_pin = response.json()["pin"]
    response = client.post(
        f"/api/v1/sites/{tenant.site_id}/groups",
        json={
            "name": f"Group{name}",
            "total_a": 63,
            "meter_id": tenant.meter_id,
            "fail_safe_a": 16,
        },
        headers=h,
    )
    assert response.status_code == 201, response.text
    tenant.group_id = response.json()["id"]
    response = client.post(  # a model the tenant's charge point is not: nothing is enrolled
        f"/api/v1/operators/{tenant.operator_id}/powerbank/compatibility",
        json={"brand": "Zaptec", "model": f"Go {name}"},
        headers=h,
    )
    assert response.status_code == 201, response.text
    tenant.compatibility_id = response.json()["id"]
    tenant.transaction_id = record_transaction(server, tenant.charge_point_id)
    tenant.stop_id = record_unknown_stop(server, tenant.charge_point_id, f"OFFLINE-{name}")
    response = client.put(
        f"/api/v1/teams/{tenant.team_id}/id-tags/TAG-{name}",
        json={"label": f"Card {name}"},
        headers=h,
    )
    assert response.status_code == 200, response.text
    return tenant


def record_transaction(server: LiveServer, charge_point_id: int) -> int:
    """A session as the OCPP gateway records it, straight through the charging store."""

    async def work(container: Container) -> int:
        now = datetime.now(UTC)
        start = StartTransaction(1, "TAG-1", 1000.0, now)
        result = await container.charging_store.start_transaction(
            charge_point_id, start, AuthorizationStatus.ACCEPTED, now
        )
        return result.transaction_id

    transaction_id: int = server.call(work)
    return transaction_id


def record_unknown_stop(server: LiveServer, charge_point_id: int, transaction_ref: str) -> int:
    """A 1.6 StopTransaction for a transaction amphub never saw: it goes to quarantine."""

    async def work(container: Container) -> int:
        now = datetime.now(UTC)
        stop = StopTransaction(transaction_ref, 5400.0, now, "Local", "TAG-1")
        await container.charging_store.stop_transaction(charge_point_id, stop, [], now)
        (quarantined,) = [
            found
            for found in await container.charging_queries.quarantined_stops(charge_point_id)
            if found.transaction_ref == transaction_ref
        ]
        return quarantined.stop_id

    stop_id: int = server.call(work)
    return stop_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("api")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def tenants(server: LiveServer, client: httpx.Client) -> tuple[Tenant, Tenant]:
    return make_tenant(server, client, "A"), make_tenant(server, client, "B")

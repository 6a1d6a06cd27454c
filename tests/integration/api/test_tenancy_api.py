"""The tenancy API over a socket: bad input names its field and writes nothing, roles are
enforced on the object, login is rate-limited, bodies are bounded, changes are audited."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.conftest import (
    PASSWORD,
    Tenant,
    add_team_member,
    charge_point_body,
    create_user,
    site_body,
)
from tests.support.live import LiveServer


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"bidding_zone": "ZZ9"}, "bidding_zone"),
        ({"bidding_zone": "SE3"}, "bidding_zone"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": ""}, "name"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_site_is_422_naming_the_field_and_nothing_is_written(
    client: httpx.Client, tenants: tuple[Tenant, Tenant], changes: dict[str, object], field: str
) -> None:
    a, _ = tenants
    before = client.get("/api/v1/sites", headers=a.headers).json()
    response = client.post(
        f"/api/v1/teams/{a.team_id}/sites", json={**site_body("Bad"), **changes}, headers=a.headers
    )
    assert response.status_code == 422
    assert field in [str(part) for part in response.json()["detail"][0]["loc"]]
    assert client.get("/api/v1/sites", headers=a.headers).json() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (charge_point_body("CP-A", "NEW-SERIAL"), "ocpp_identity"),
        (charge_point_body("CP-NEW", "SERIAL-A"), "serial_number"),
        (charge_point_body("CP-B", "NEW-SERIAL-2"), "ocpp_identity"),  # taken in another tenant
        (
            {**charge_point_body("CP-Y", "S-Y"), "connectors": [{"connector_id": 1, "phases": 2}]},
            "phases",
        ),
        (
            {
                **charge_point_body("CP-Y", "S-Y"),
                "connectors": [{"connector_id": 1, "phase_rotation": "L1L1L1"}],
            },
            "phase_rotation",
        ),
        ({**charge_point_body("CP-Y", "S-Y"), "connectors": []}, "connectors"),
        ({**charge_point_body("bad identity", "S-Y")}, "ocpp_identity"),
    ],
)
def test_bad_charge_point_is_422_naming_the_field(
    client: httpx.Client, tenants: tuple[Tenant, Tenant], body: dict[str, object], field: str
) -> None:
    a, _ = tenants
    before = client.get("/api/v1/charge-points", headers=a.headers).json()
    response = client.post(f"/api/v1/sites/{a.site_id}/charge-points", json=body, headers=a.headers)
    assert response.status_code == 422, response.text
    assert field in [str(part) for part in response.json()["detail"][0]["loc"]]
    assert client.get("/api/v1/charge-points", headers=a.headers).json() == before


def test_unknown_role_is_422(client: httpx.Client, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    response = client.put(
        f"/api/v1/operators/{a.operator_id}/members",
        json={"user_id": a.user_id, "role": "overlord"},
        headers=a.headers,
    )
    assert response.status_code == 422
    assert "role" in response.json()["detail"][0]["loc"]


def test_roles_are_checked_on_the_object(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    member_id, member = add_team_member(server, client, a, "member@example.com")

    # A Team Member reads the team's things ...
    assert client.get(f"/api/v1/sites/{a.site_id}", headers=member).status_code == 200
    assert (
        client.get(f"/api/v1/charge-points/{a.charge_point_id}", headers=member).status_code == 200
    )
    # ... may change none of them (403: they can see it, so 404 would lie) ...
    assert (
        client.put(f"/api/v1/sites/{a.site_id}", json=site_body("Mine"), headers=member).status_code
        == 403
    )
    assert (
        client.delete(f"/api/v1/charge-points/{a.charge_point_id}", headers=member).status_code
        == 403
    )
    # ... and may not grant themselves more.
    response = client.put(
        f"/api/v1/operators/{a.operator_id}/members",
        json={"user_id": member_id, "team_id": a.team_id, "role": "team_owner"},
        headers=member,
    )
    assert response.status_code == 403
    me = client.get("/api/v1/me", headers=member).json()
    assert [m["role"] for m in me["memberships"]] == ["team_member"]

    # Promoted to Team Admin with "configure charge points", they may configure.
    client.put(
        f"/api/v1/operators/{a.operator_id}/members",
        json={
            "user_id": member_id,
            "team_id": a.team_id,
            "role": "team_admin",
            "can_configure_charge_points": True,
        },
        headers=a.headers,
    )
    response = client.post(
        f"/api/v1/sites/{a.site_id}/charge-points",
        json=charge_point_body("CP-M", "SERIAL-M"),
        headers=member,
    )
    assert response.status_code == 201
    # but a Team Admin still cannot create teams (operator-wide).
    assert (
        client.post(
            f"/api/v1/operators/{a.operator_id}/teams", json={"name": "Mine"}, headers=member
        ).status_code
        == 403
    )


def test_changes_are_audited_with_old_and_new_values(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    response = client.patch(
        f"/api/v1/teams/{a.team_id}", json={"name": "Team A renamed"}, headers=a.headers
    )
    assert response.status_code == 200
    entries = client.get("/api/v1/audit-log", headers=a.headers).json()
    rename = next(e for e in entries if e["action"] == "team.rename")
    assert (
        rename["old_value"]["name"] == "Team A" and rename["new_value"]["name"] == "Team A renamed"
    )
    assert rename["actor"] == a.email
    assert all(e["operator_id"] in (a.operator_id, None) for e in entries)
    client.patch(f"/api/v1/teams/{a.team_id}", json={"name": "Team A"}, headers=a.headers)


def test_site_with_charge_points_cannot_be_deleted(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    response = client.delete(f"/api/v1/sites/{a.site_id}", headers=a.headers)
    assert response.status_code == 409
    assert client.get(f"/api/v1/sites/{a.site_id}", headers=a.headers).status_code == 200


def test_pagination_is_bounded(client: httpx.Client, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    assert client.get("/api/v1/sites", params={"limit": 201}, headers=a.headers).status_code == 422
    first = client.get("/api/v1/charge-points", params={"limit": 1}, headers=a.headers).json()
    assert len(first) == 1
    rest = client.get(
        "/api/v1/charge-points", params={"after_id": first[0]["id"]}, headers=a.headers
    ).json()
    assert first[0]["id"] not in [cp["id"] for cp in rest]


def test_oversized_body_is_413(client: httpx.Client, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    response = client.post(
        "/api/v1/operators",
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={**a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 413


def test_wrong_password_is_401_and_repeated_failures_are_429(
    server: LiveServer, client: httpx.Client
) -> None:
    create_user(server, "victim@example.com")
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/token", json={"email": "victim@example.com", "password": "wrong password"}
        )
        assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/token", json={"email": "victim@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0

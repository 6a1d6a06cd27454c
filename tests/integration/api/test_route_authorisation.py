"""Generated from the route table: every API route, called by tenant A with tenant B's ids,
answers 404 and changes nothing; every route but login needs a token; no listing shows B.

The routes come from the OpenAPI document, so an undocumented route is a defect too. A new
route with a path parameter or a body not known here fails `test_every_route_is_known`
until it is added below — which is the point: nobody adds a route without thinking about
who may call it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from amphub.entrypoints.api.app import configure_api, new_app
from tests.integration.api.conftest import Tenant, charge_point_body, site_body


def _openapi() -> dict[str, Any]:
    app = new_app()
    configure_api(app, max_body_bytes=1 << 20)
    return app.openapi()


OPENAPI = _openapi()
ROUTES = sorted(
    (method.upper(), path) for path, operations in OPENAPI["paths"].items() for method in operations
)
PUBLIC = {("POST", "/api/v1/auth/token")}
# Authenticated otherwise than by a user's token (HTTP Basic with a meter's serial and PIN).
METER_AUTH = {("POST", "/api/v1/meter-readings")}
PARAM = re.compile(r"{(\w+)}")


def bodies(a: Tenant) -> dict[tuple[str, str], Any]:
    """A valid body for each route that takes one, so that validation cannot answer first."""
    return {
        ("POST", "/api/v1/auth/token"): {"email": a.email, "password": "x" * 12},
        ("POST", "/api/v1/operators"): {"name": "Yet another operator"},
        ("PATCH", "/api/v1/operators/{operator_id}"): {"name": "Taken over"},
        ("POST", "/api/v1/operators/{operator_id}/teams"): {"name": "Intruders"},
        ("PUT", "/api/v1/operators/{operator_id}/members"): {
            "user_id": a.user_id,
            "role": "operator_admin",
        },
        ("PATCH", "/api/v1/teams/{team_id}"): {"name": "Taken over"},
        ("POST", "/api/v1/charge-points/{charge_point_id}/quarantined-stops/{stop_id}/resolve"): {
            "note": "matched by an intruder"
        },
        ("POST", "/api/v1/teams/{team_id}/sites"): site_body("Intruder site"),
        ("PUT", "/api/v1/sites/{site_id}"): site_body("Taken over"),
        ("POST", "/api/v1/sites/{site_id}/charge-points"): charge_point_body("CP-X", "SERIAL-X"),
        ("PUT", "/api/v1/charge-points/{charge_point_id}"): charge_point_body("CP-B", "SERIAL-B"),
        ("POST", "/api/v1/sites/{site_id}/meters"): {"main_fuse_a": 40},
        ("PUT", "/api/v1/meters/{meter_id}"): {"name": "Taken over", "main_fuse_a": 40},
        ("POST", "/api/v1/meter-readings"): {"currents_a": {"l1": 1, "l2": 1, "l3": 1}},
        ("POST", "/api/v1/sites/{site_id}/groups"): {"name": "Intruders", "total_a": 10},
        ("PUT", "/api/v1/groups/{group_id}"): {"name": "Taken over", "total_a": 10},
        ("PUT", "/api/v1/groups/{group_id}/layout"): {"charge_point_ids": [a.charge_point_id]},
        ("PUT", "/api/v1/charge-points/{charge_point_id}/schedule"): {
            "windows": [{"weekday": 0, "start_minute": 0, "end_minute": 60, "max_a": 16}]
        },
        ("PUT", "/api/v1/sites/{site_id}/tariff"): {"price_source": "none"},
        ("PUT", "/api/v1/charge-points/{charge_point_id}/need-default"): {
            "departure_minute": 420,
            "energy_wh": 10_000,
        },
        ("PUT", "/api/v1/teams/{team_id}/token-need-defaults"): {
            "id_tag": "TAG-A",
            "departure_minute": 420,
            "energy_wh": 10_000,
        },
        ("PUT", "/api/v1/charge-points/{charge_point_id}/connectors/{connector_id}/need"): {
            "charge_now": True
        },
        ("POST", "/api/v1/charge-points/{charge_point_id}/commands/remote-start"): {"id_tag": "T"},
        ("POST", "/api/v1/charge-points/{charge_point_id}/commands/remote-stop"): {
            "transaction_id": a.transaction_id
        },
        ("POST", "/api/v1/charge-points/{charge_point_id}/commands/reset"): {"kind": "hard"},
        ("POST", "/api/v1/charge-points/{charge_point_id}/commands/trigger"): {
            "message": "heartbeat"
        },
        ("POST", "/api/v1/charge-points/{charge_point_id}/configuration/read"): [],
        ("PUT", "/api/v1/teams/{team_id}/id-tags/{id_tag}"): {"blocked": True},
        ("PUT", "/api/v1/charge-points/{charge_point_id}/configuration"): {
            "key": "HeartbeatInterval",
            "value": "60",
        },
        ("POST", "/api/v1/teams/{team_id}/powerbank/sign-up"): {
            "terms_version": 1,
            "all_compatible": True,
        },
        ("POST", "/api/v1/charge-points/{charge_point_id}/powerbank/enrolment"): {
            "terms_version": 1
        },
        ("PUT", "/api/v1/charge-points/{charge_point_id}/powerbank/facility-id"): {
            "facility_id": "735999000000000001"
        },
        ("POST", "/api/v1/operators/{operator_id}/powerbank/compatibility"): {
            "brand": "Easee",
            "model": "Charge",
        },
        ("POST", "/api/v1/operators/{operator_id}/powerbank/terms"): {"text": "Taken over"},
    }


def ids_of(b: Tenant) -> dict[str, int | str]:
    return {
        "operator_id": b.operator_id,
        "team_id": b.team_id,
        "site_id": b.site_id,
        "charge_point_id": b.charge_point_id,
        "user_id": b.user_id,
        "meter_id": b.meter_id,
        "group_id": b.group_id,
        "connector_id": 1,
        "transaction_id": b.transaction_id,
        "stop_id": b.stop_id,
        "id_tag": f"TAG-{b.name}",
        "compatibility_id": b.compatibility_id,
    }


def takes_body(method: str, path: str) -> bool:
    return "requestBody" in OPENAPI["paths"][path][method.lower()]


def snapshot(client: httpx.Client, b: Tenant) -> list[Any]:
    h = b.headers
    return [
        client.get(f"/api/v1/operators/{b.operator_id}", headers=h).json(),
        client.get(f"/api/v1/operators/{b.operator_id}/teams", headers=h).json(),
        client.get(f"/api/v1/operators/{b.operator_id}/members", headers=h).json(),
        client.get(f"/api/v1/sites/{b.site_id}", headers=h).json(),
        client.get(f"/api/v1/charge-points/{b.charge_point_id}", headers=h).json(),
        client.get(f"/api/v1/meters/{b.meter_id}", headers=h).json(),
        client.get(f"/api/v1/groups/{b.group_id}", headers=h).json(),
        client.get(f"/api/v1/transactions/{b.transaction_id}", headers=h).json(),
        client.get(
            f"/api/v1/charge-points/{b.charge_point_id}/quarantined-stops",
            params={"include_resolved": True},
            headers=h,
        ).json(),
        client.get(f"/api/v1/teams/{b.team_id}/id-tags", headers=h).json(),
        client.get(f"/api/v1/charge-points/{b.charge_point_id}/powerbank", headers=h).json(),
        client.get(f"/api/v1/operators/{b.operator_id}/powerbank/compatibility", headers=h).json(),
        client.get(f"/api/v1/operators/{b.operator_id}/powerbank/terms", headers=h).json(),
    ]


def test_every_route_is_known(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    known_params = set(ids_of(b))
    for method, path in ROUTES:
        unknown = set(PARAM.findall(path)) - known_params
        assert not unknown, f"{method} {path}: add {unknown} to ids_of()"
        if takes_body(method, path):
            assert (method, path) in bodies(a), f"{method} {path}: add a valid body to bodies()"


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if PARAM.search(r[1])])
def test_foreign_ids_answer_404_and_change_nothing(
    client: httpx.Client, tenants: tuple[Tenant, Tenant], method: str, path: str
) -> None:
    a, b = tenants
    before = snapshot(client, b)
    url = PARAM.sub(lambda m: str(ids_of(b)[m.group(1)]), path)
    body = bodies(a).get((method, path))
    response = client.request(method, url, headers=a.headers, json=body)
    assert response.status_code == 404, f"{method} {url}: {response.status_code} {response.text}"
    assert "Operator B" not in response.text and "SiteB" not in response.text
    assert snapshot(client, b) == before


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC | METER_AUTH])
def test_every_route_but_login_needs_a_token(
    client: httpx.Client, tenants: tuple[Tenant, Tenant], method: str, path: str
) -> None:
    a, _ = tenants
    url = PARAM.sub(lambda m: str(ids_of(a)[m.group(1)]), path)
    body = bodies(a).get((method, path))
    for headers in ({}, {"Authorization": "Bearer amh_not-a-real-token"}):
        response = client.request(method, url, headers=headers, json=body)
        assert response.status_code == 401, f"{method} {url}: {response.status_code}"


@pytest.mark.parametrize(
    ("method", "path"), [r for r in ROUTES if r[0] == "GET" and not PARAM.search(r[1])]
)
def test_listings_never_show_the_other_tenant(
    client: httpx.Client, tenants: tuple[Tenant, Tenant], method: str, path: str
) -> None:
    a, b = tenants
    response = client.get(path, headers=a.headers, params={"limit": 200})
    assert response.status_code == 200
    text = response.text
    for marker in (
        "Operator B",
        "Team B",
        "SiteB",
        "CP-B",
        "SERIAL-B",
        b.email,
        b.meter_serial,
        "GroupB",
    ):
        assert marker not in text, f"{path} shows {marker}"

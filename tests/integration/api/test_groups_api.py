"""Load balancing groups over the API, in the order of seed 000: create with general
settings, add charge points (all connectors; one group at a time), meter settings,
sub-groups (cloud managed only)."""

from __future__ import annotations

import httpx

from tests.integration.api.conftest import Tenant, charge_point_body


def add_charge_point(client: httpx.Client, tenant: Tenant, identity: str, street: str) -> int:
    body = charge_point_body(identity, f"SN-{identity}")
    body["address"] = {"street": street, "postal_code": "2300", "city": "København"}
    body["connectors"] = [
        {"connector_id": 1, "phases": 3, "max_current_a": 32},
        {"connector_id": 2, "phases": 1, "phase_rotation": "L2L3L1", "max_current_a": 16},
    ]
    response = client.post(
        f"/api/v1/sites/{tenant.site_id}/charge-points", json=body, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_seed_flow(client: httpx.Client, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    h = a.headers
    # General settings
    response = client.post(
        f"/api/v1/sites/{a.site_id}/groups", json={"name": "Garage P1", "total_a": 63}, headers=h
    )
    assert response.status_code == 201, response.text
    group = response.json()
    assert group["identifier"].startswith("LBG-") and group["power_distribution"] == "cloud"

    # Add or remove charge points: search by address or serial, shown with their group
    cp1 = add_charge_point(client, a, "GRP-1", "Kanalvej 3")
    cp2 = add_charge_point(client, a, "GRP-2", "Havnegade 9")
    found = client.get(
        f"/api/v1/sites/{a.site_id}/group-candidates", params={"search": "kanalvej"}, headers=h
    ).json()
    assert [c["charge_point"]["id"] for c in found] == [cp1]
    found = client.get(
        f"/api/v1/sites/{a.site_id}/group-candidates", params={"search": "SN-GRP-2"}, headers=h
    ).json()
    assert [c["charge_point"]["id"] for c in found] == [cp2]
    response = client.put(
        f"/api/v1/groups/{group['id']}/layout", json={"charge_point_ids": [cp1, cp2]}, headers=h
    )
    assert response.status_code == 200, response.text
    assert response.json()["layout"]["charge_point_ids"] == [cp1, cp2]
    candidates = client.get(f"/api/v1/sites/{a.site_id}/group-candidates", headers=h).json()
    in_group = {c["charge_point"]["id"]: c["group_name"] for c in candidates}
    assert (
        in_group[cp1] == "Garage P1"
        and len(
            next(c for c in candidates if c["charge_point"]["id"] == cp1)["charge_point"][
                "connectors"
            ]
        )
        == 2
    )

    # A charge point belongs to one group at a time
    response = client.put(
        f"/api/v1/groups/{a.group_id}/layout", json={"charge_point_ids": [cp1]}, headers=h
    )
    assert response.status_code == 422
    assert "Garage P1" in response.text
    # Meter settings
    settings = {
        "name": "Garage P1",
        "total_a": 63,
        "meter_id": a.meter_id,
        "placement": "INCLUDING_CHARGE_POINTS",
        "dynamic_buffer_a": 5,
        "fail_safe_a": 20,
        "meter_timeout_s": 30,
    }
    response = client.put(f"/api/v1/groups/{group['id']}", json=settings, headers=h)
    assert response.status_code == 200, response.text
    assert response.json()["placement"] == "INCLUDING_CHARGE_POINTS"
    # Sub-groups, any depth
    layout = {
        "charge_point_ids": [cp1],
        "sub_groups": [
            {
                "name": "Cable B",
                "limit_a": 32,
                "charge_point_ids": [],
                "children": [{"name": "Panel B2", "limit_a": 25, "charge_point_ids": [cp2]}],
            }
        ],
    }
    response = client.put(f"/api/v1/groups/{group['id']}/layout", json=layout, headers=h)
    assert response.status_code == 200, response.text
    assert response.json()["layout"]["sub_groups"][0]["children"][0]["charge_point_ids"] == [cp2]
    # Locally managed: no sub-groups, a clear error, nothing changed
    local = {**settings, "power_distribution": "local", "master_charge_point_id": cp1}
    response = client.put(f"/api/v1/groups/{group['id']}", json=local, headers=h)
    assert response.status_code == 422
    assert "sub-groups are not available" in response.text
    assert (
        client.get(f"/api/v1/groups/{group['id']}", headers=h).json()["power_distribution"]
        == "cloud"
    )
    client.put(
        f"/api/v1/groups/{group['id']}/layout", json={"charge_point_ids": [cp1, cp2]}, headers=h
    )
    response = client.put(f"/api/v1/groups/{group['id']}", json=local, headers=h)
    assert response.status_code == 200, response.text
    assert response.json()["master_charge_point_id"] == cp1
    # audited
    actions = [e["action"] for e in client.get("/api/v1/audit-log", headers=h).json()]
    assert {"group.create", "group.layout", "group.update"} <= set(actions)
    # remove the charge points again for the other tests
    assert client.delete(f"/api/v1/groups/{group['id']}", headers=h).status_code == 204


def test_bad_group_settings_name_the_field(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    base = {"name": "G", "total_a": 63}
    for changes, field in (
        ({"total_a": 0}, "total_a"),
        ({"total_a": "lots"}, "total_a"),
        ({"dynamic_buffer_a": 63}, "dynamic_buffer_a"),
        ({"fail_safe_a": 64}, "fail_safe_a"),
        ({"meter_timeout_s": 1}, "meter_timeout_s"),
        ({"meter_id": b.meter_id}, "meter_id"),  # another tenant's meter: unknown here
        ({"placement": "ROOF"}, "placement"),
        ({"master_charge_point_id": a.charge_point_id}, "master_charge_point_id"),
    ):
        response = client.post(
            f"/api/v1/sites/{a.site_id}/groups", json={**base, **changes}, headers=a.headers
        )
        assert response.status_code == 422, (changes, response.text)
        assert field in ".".join(map(str, response.json()["detail"][0]["loc"]))
    response = client.put(
        f"/api/v1/groups/{a.group_id}/layout",
        json={"charge_point_ids": [b.charge_point_id]},
        headers=a.headers,
    )
    assert response.status_code == 422

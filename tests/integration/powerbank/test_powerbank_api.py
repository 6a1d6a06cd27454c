"""PowerBank over HTTP on a live server, as the portal will call it: the team's sign-up dialog,
the charge point's toggle, Facility IDs, who may do it, the DK2 rule, and the dispatch seam."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from amphub.bootstrap import Container
from tests.integration.api.conftest import PASSWORD, create_user
from tests.support.live import LiveServer, live_server, make_settings

SE_1, SE_2 = "735999000000000001", "735999 000000 000002"
_serials = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("powerbank")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url + "/api/v1", timeout=30) as http:
        yield http


@dataclass
class Operator:
    """An operator with one Operator Admin, published terms and Easee Charge on its list."""

    id: int
    admin: dict[str, str]
    email: str
    terms_version: int


def login(client: httpx.Client, email: str) -> str:
    response = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    token: str = check(response)["access_token"]
    return token


def check(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def operator(server: LiveServer, client: httpx.Client) -> Operator:
    email = "pb-admin@example.com"
    create_user(server, email)
    admin = {"Authorization": f"Bearer {login(client, email)}"}
    operator_id = check(client.post("/operators", json={"name": "PB CPO"}, headers=admin), 201)[
        "id"
    ]
    url = f"/operators/{operator_id}/powerbank"
    check(
        client.post(
            f"{url}/compatibility", json={"brand": "Easee", "model": "Charge"}, headers=admin
        ),
        201,
    )
    check(client.post(f"{url}/terms", json={"text": "Version one."}, headers=admin), 201)
    terms = check(client.post(f"{url}/terms", json={"text": "Version two."}, headers=admin), 201)
    return Operator(operator_id, admin, email, terms["version"])


def team_with_sites(client: httpx.Client, op: Operator, *zones: str) -> tuple[int, dict[str, int]]:
    countries = {"DK1": "DK", "DK2": "DK", "SE3": "SE", "DE-LU": "DE"}
    team = check(
        client.post(
            f"/operators/{op.id}/teams", json={"name": f"Team {next(_serials)}"}, headers=op.admin
        ),
        201,
    )["id"]
    sites = {}
    for zone in zones:
        body = {
            "name": f"Site {zone}",
            "country": countries[zone],
            "bidding_zone": zone,
            "time_zone": "Europe/Copenhagen",
        }
        sites[zone] = check(client.post(f"/teams/{team}/sites", json=body, headers=op.admin), 201)[
            "id"
        ]
    return team, sites


def add_charge_point(
    client: httpx.Client, op: Operator, site_id: int, brand: str = "Easee", model: str = "Charge"
) -> int:
    n = next(_serials)
    body = {
        "ocpp_identity": f"PB-{n}",
        "serial_number": f"PBSN-{n}",
        "brand": brand,
        "model": model,
    }
    created: int = check(
        client.post(f"/sites/{site_id}/charge-points", json=body, headers=op.admin), 201
    )["id"]
    return created


def test_the_team_sign_up_dialog(client: httpx.Client, operator: Operator) -> None:
    team, sites = team_with_sites(client, operator, "DK1", "SE3", "DE-LU")
    dk = add_charge_point(client, operator, sites["DK1"])
    se1 = add_charge_point(client, operator, sites["SE3"])
    se2 = add_charge_point(client, operator, sites["SE3"])
    de = add_charge_point(client, operator, sites["DE-LU"])
    odd = add_charge_point(client, operator, sites["DK1"], "Wallbox", "Pulsar")
    h, url = operator.admin, f"/teams/{team}/powerbank"

    dialog = check(client.get(url, headers=h))
    assert dialog["terms"]["version"] == operator.terms_version
    assert dialog["terms"]["text"] == "Version two." and dialog["can_manage"]
    rows = {row["charge_point_id"]: row for row in dialog["charge_points"]}
    assert list(rows) == [dk, se1, se2, de, odd]
    assert rows[dk]["eligible"] and not rows[dk]["needs_facility_id"]
    assert (
        rows[se1]["needs_facility_id"]
        and rows[se1]["reasons"][0]["problem"] == "facility_id_missing"
    )
    assert [r["problem"] for r in rows[de]["reasons"]] == ["country"]
    assert not rows[odd]["compatible"]
    assert (
        rows[odd]["compatibility_reason"]
        == "Wallbox Pulsar is not on the PowerBank compatibility list"
    )

    body: dict[str, Any] = {"terms_version": operator.terms_version, "all_compatible": True}
    refused = check(client.post(f"{url}/sign-up", json=body, headers=h), 422)["detail"]
    assert [(d["loc"], d["type"]) for d in refused] == [
        (["body", "facility_ids", str(se1)], "facility_id_missing"),
        (["body", "facility_ids", str(se2)], "facility_id_missing"),
    ]
    body["facility_ids"] = {str(se1): SE_1, str(se2): "123"}
    (item,) = check(client.post(f"{url}/sign-up", json=body, headers=h), 422)["detail"]
    assert item["charge_point_id"] == se2 and "does not begin with 735999" in item["msg"]
    assert not any(r["enrolled"] for r in check(client.get(url, headers=h))["charge_points"])

    body["facility_ids"] = {str(se1): SE_1, str(se2): SE_2}
    result = check(client.post(f"{url}/sign-up", json=body, headers=h))
    assert [row["charge_point_id"] for row in result["enrolled"]] == [dk, se1, se2]
    assert result["enrolled"][2]["facility_id"] == "735999000000000002"
    assert result["enrolled"][0]["enrolment"]["terms_version"] == operator.terms_version
    assert result["enrolled"][0]["enrolment"]["enrolled_by"] == operator.email
    flagged = {
        n["charge_point"]["charge_point_id"]: [r["problem"] for r in n["reasons"]]
        for n in result["not_enrolled"]
    }
    assert flagged == {de: ["country"], odd: ["incompatible"]}

    again = {"terms_version": operator.terms_version, "charge_point_ids": [dk]}
    result = check(client.post(f"{url}/sign-up", json=again, headers=h))
    assert result["enrolled"] == [] and result["already_enrolled"][0]["charge_point_id"] == dk


def test_the_charge_point_toggle_and_its_history(client: httpx.Client, operator: Operator) -> None:
    _, sites = team_with_sites(client, operator, "DK1", "SE3")
    dk = add_charge_point(client, operator, sites["DK1"])
    se = add_charge_point(client, operator, sites["SE3"])
    odd = add_charge_point(client, operator, sites["DK1"], "Wallbox", "Pulsar")
    h, version = operator.admin, operator.terms_version

    page = check(client.get(f"/charge-points/{dk}/powerbank", headers=h))
    assert page["terms"]["version"] == version and page["history"] == []
    stale = check(
        client.post(
            f"/charge-points/{dk}/powerbank/enrolment",
            json={"terms_version": version - 1},
            headers=h,
        ),
        409,
    )
    assert stale["detail"][0]["loc"] == ["body", "terms_version"]
    assert check(
        client.post(
            f"/charge-points/{dk}/powerbank/enrolment", json={"terms_version": version}, headers=h
        )
    )["enrolled"]
    off = check(client.delete(f"/charge-points/{dk}/powerbank/enrolment", headers=h))
    assert not off["enrolled"] and off["opted_out"] and off["opted_out_by"] == operator.email
    check(
        client.post(
            f"/charge-points/{dk}/powerbank/enrolment", json={"terms_version": version}, headers=h
        )
    )
    history = check(client.get(f"/charge-points/{dk}/powerbank", headers=h))["history"]
    assert [(e["ended_by"], e["end_reason"]) for e in history] == [
        (None, None),
        (operator.email, "stopped"),
    ]
    assert history[1]["enrolled_at"] < history[1]["ended_at"] <= history[0]["enrolled_at"]

    refused = check(
        client.post(
            f"/charge-points/{odd}/powerbank/enrolment", json={"terms_version": version}, headers=h
        ),
        422,
    )
    assert refused["detail"][0]["loc"] == ["body", "charge_point"]
    assert "cannot join PowerBank: Wallbox Pulsar is not on" in refused["detail"][0]["msg"]

    missing = check(
        client.post(
            f"/charge-points/{se}/powerbank/enrolment", json={"terms_version": version}, headers=h
        ),
        422,
    )
    assert missing["detail"][0]["loc"] == ["body", "facility_id", str(se)]
    wrong = check(
        client.put(
            f"/charge-points/{se}/powerbank/facility-id",
            json={"facility_id": "73599912345"},
            headers=h,
        ),
        422,
    )
    assert "11 digits instead of 18" in wrong["detail"][0]["msg"]
    stored = check(
        client.put(
            f"/charge-points/{se}/powerbank/facility-id", json={"facility_id": SE_2}, headers=h
        )
    )
    assert stored["facility_id"] == "735999000000000002" and stored["eligible"]
    enrolled = check(
        client.post(
            f"/charge-points/{se}/powerbank/enrolment", json={"terms_version": version}, headers=h
        )
    )
    assert enrolled["enrolment"]["facility_id"] == "735999000000000002"


def member(
    server: LiveServer,
    client: httpx.Client,
    op: Operator,
    team: int,
    role: str,
    configure: bool = False,
) -> dict[str, str]:
    email = f"pb-{role}-{configure}-{next(_serials)}@example.com"
    user_id = create_user(server, email)
    body = {"user_id": user_id, "role": role, "can_configure_charge_points": configure}
    if not role.startswith("operator"):
        body["team_id"] = team
    check(client.put(f"/operators/{op.id}/members", json=body, headers=op.admin), 204)
    return {"Authorization": f"Bearer {login(client, email)}"}


def test_who_may_sign_up_or_stop(
    server: LiveServer, client: httpx.Client, operator: Operator
) -> None:
    team, sites = team_with_sites(client, operator, "DK1")
    cp = add_charge_point(client, operator, sites["DK1"])
    enrol = {"terms_version": operator.terms_version}
    expected = {
        ("operator_manager", False): 200,
        ("team_owner", False): 200,
        ("team_admin", True): 200,
        ("team_admin", False): 403,
        ("team_member", False): 403,
    }
    for (role, configure), status in expected.items():
        h = member(server, client, operator, team, role, configure)
        page = check(client.get(f"/charge-points/{cp}/powerbank", headers=h))
        assert page["status"]["can_manage"] is (status == 200), role
        on = client.post(f"/charge-points/{cp}/powerbank/enrolment", json=enrol, headers=h)
        off = client.delete(f"/charge-points/{cp}/powerbank/enrolment", headers=h)
        assert (on.status_code, off.status_code) == (status, status), (role, configure)
        if status == 403:
            assert "Team Admin with the 'configure charge points' permission" in on.json()["detail"]
    manager = member(server, client, operator, team, "operator_manager")
    compat = f"/operators/{operator.id}/powerbank/compatibility"
    check(client.post(compat, json={"brand": "A", "model": "B"}, headers=manager), 403)
    reader = member(server, client, operator, team, "team_member")
    assert check(client.get(compat, headers=reader))[0]["brand"] == "Easee"
    other_team, _ = team_with_sites(client, operator)
    outsider = member(server, client, operator, other_team, "team_owner")
    check(
        client.post(f"/charge-points/{cp}/powerbank/enrolment", json=enrol, headers=outsider), 404
    )

    audit = check(client.get("/audit-log", params={"limit": 200}, headers=operator.admin))
    refused = [e for e in audit if e["object_id"] == str(cp) and e["action"].endswith(".refused")]
    assert [(e["action"], e["new_value"]["status"]) for e in refused] == [
        ("powerbank.stop.refused", 403),  # the team member's, newest first
        ("powerbank.sign_up.refused", 403),
        ("powerbank.stop.refused", 403),  # the team admin's without the permission
        ("powerbank.sign_up.refused", 403),
    ], "the outsider's 404 is logged without a scope: not in this operator's log"


def test_dk2_charge_points_join_by_themselves_and_feed_the_dispatch_seam(
    server: LiveServer, client: httpx.Client, operator: Operator
) -> None:
    _, sites = team_with_sites(client, operator, "DK1", "DK2")
    h = operator.admin
    auto = add_charge_point(client, operator, sites["DK2"])
    status = check(client.get(f"/charge-points/{auto}/powerbank", headers=h))["status"]
    assert status["enrolled"] and status["automatic_zone"]
    assert status["enrolment"]["basis"] == "automatic"
    assert status["enrolment"]["note"] == "enrolled by the system under the programme's DK2 rules"
    assert status["enrolment"]["terms_version"] == operator.terms_version
    assert status["enrolment"]["enrolled_by"] == "powerbank"

    check(client.delete(f"/charge-points/{auto}/powerbank/enrolment", headers=h))
    spec = check(client.get(f"/charge-points/{auto}", headers=h))
    body = {k: spec[k] for k in ("ocpp_identity", "serial_number", "brand", "model", "connectors")}
    check(client.put(f"/charge-points/{auto}", json={**body, "site_id": sites["DK1"]}, headers=h))
    check(client.put(f"/charge-points/{auto}", json={**body, "site_id": sites["DK2"]}, headers=h))
    status = check(client.get(f"/charge-points/{auto}/powerbank", headers=h))["status"]
    assert not status["enrolled"] and status["opted_out"], "an opt-out is never undone"

    moved = add_charge_point(client, operator, sites["DK1"])
    spec = check(client.get(f"/charge-points/{moved}", headers=h))
    body = {k: spec[k] for k in ("ocpp_identity", "serial_number", "brand", "model", "connectors")}
    check(client.put(f"/charge-points/{moved}", json={**body, "site_id": sites["DK2"]}, headers=h))
    assert check(client.get(f"/charge-points/{moved}/powerbank", headers=h))["status"]["enrolled"]

    async def seam(container: Container) -> list[tuple[int, tuple[int, ...], float | None]]:
        found = await container.powerbank_programme.enrolled_by_bidding_zone("DK2")
        return [(e.charge_point_id, e.connector_ids, e.power_w) for e in found]

    assert (moved, (1,), None) in server.call(seam)
    assert all(cp_id != auto for cp_id, _, _ in server.call(seam))


def test_the_openapi_document_lists_every_powerbank_route(client: httpx.Client) -> None:
    paths = check(client.get("/openapi.json"))["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops if "powerbank" in p}
    assert len(routes) == 11
    for method, path in routes:
        assert paths[path][method.lower()]["tags"] == ["powerbank"]

"""Quarantined stops: a 1.6 StopTransaction for a transaction amphub never saw is answered
to the charger and kept; people list the open ones per charge point and close each with a
note saying how it was reconciled (audited, once only, on their own charge point only)."""

from __future__ import annotations

import httpx

from tests.support.live import LiveServer

from .conftest import Tenant, add_team_member, record_unknown_stop


def stops_url(charge_point_id: int) -> str:
    return f"/api/v1/charge-points/{charge_point_id}/quarantined-stops"


def test_open_stops_are_listed_with_what_the_charger_sent(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    listed = client.get(stops_url(a.charge_point_id), headers=a.headers)
    assert listed.status_code == 200
    (stop,) = [s for s in listed.json() if s["id"] == a.stop_id]
    assert stop["transaction_id"] == "OFFLINE-A"
    assert stop["meter_stop_wh"] == 5400.0
    assert (stop["reason"], stop["id_tag"]) == ("Local", "TAG-1")
    assert stop["resolved_at"] is None and stop["note"] == ""


def test_resolving_closes_it_once_with_the_note_and_audits_it(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    stop_id = record_unknown_stop(server, a.charge_point_id, "OFFLINE-RESOLVE")
    url = f"{stops_url(a.charge_point_id)}/{stop_id}/resolve"

    blank = client.post(url, json={"note": "   "}, headers=a.headers)
    assert blank.status_code == 422 and "note" in blank.text
    resolved = client.post(url, json={"note": "started offline; billed by hand"}, headers=a.headers)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_at"] is not None
    assert resolved.json()["note"] == "started offline; billed by hand"

    again = client.post(url, json={"note": "twice"}, headers=a.headers)
    assert again.status_code == 409
    open_ids = [s["id"] for s in client.get(stops_url(a.charge_point_id), headers=a.headers).json()]
    assert stop_id not in open_ids
    everything = client.get(
        stops_url(a.charge_point_id), params={"include_resolved": True}, headers=a.headers
    ).json()
    (kept,) = [s for s in everything if s["id"] == stop_id]
    assert kept["note"] == "started offline; billed by hand"  # not the refused second note
    audit = client.get("/api/v1/audit-log", headers=a.headers).json()
    entry = next(e for e in audit if e["action"] == "charge_point.resolve_quarantined_stop")
    assert entry["new_value"]["transaction_ref"] == "OFFLINE-RESOLVE"


def test_another_charge_points_stop_is_not_found_through_ones_own(
    client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    url = f"{stops_url(a.charge_point_id)}/{b.stop_id}/resolve"
    response = client.post(url, json={"note": "not mine"}, headers=a.headers)
    assert response.status_code == 404
    assert "OFFLINE-B" not in response.text
    stops_of_b = client.get(stops_url(b.charge_point_id), headers=b.headers).json()
    assert [s["resolved_at"] for s in stops_of_b if s["id"] == b.stop_id] == [None]


def test_a_team_member_reads_but_may_not_resolve(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    _, member = add_team_member(server, client, a, "quarantine-member@example.com")
    assert client.get(stops_url(a.charge_point_id), headers=member).status_code == 200
    url = f"{stops_url(a.charge_point_id)}/{a.stop_id}/resolve"
    assert client.post(url, json={"note": "mine now"}, headers=member).status_code == 403

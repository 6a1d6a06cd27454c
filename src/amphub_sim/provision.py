"""Set up what a scenario needs in amphub through its REST API, as an installer would.

Logs in with an e-mail and password, then finds or creates, by name: the site (in the
user's first team; an operator and a team are founded if the user has none), the meter,
one charge point per simulated charger (by OCPP identity), and the load balancing group
with those charge points. Objects that exist are reused and brought in line with the
scenario; since amphub shows a meter's PIN and a charger's password only once, reused ones
get a new PIN and password. Secrets stay in memory.
"""

from __future__ import annotations

from typing import Any

import httpx

from amphub_sim.runner import Provisioned
from amphub_sim.scenario import ChargerConfig, MeterTransport, Scenario


class ProvisioningError(RuntimeError):
    pass


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self._client.request(
            method, f"/api/v1{path}", json=body, params=params or None
        )
        if response.status_code >= 400:
            raise ProvisioningError(
                f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return None if response.status_code == 204 else response.json()

    async def all(self, path: str, **params: Any) -> list[Any]:
        """Every page of a list."""
        items: list[Any] = []
        after = 0
        while True:
            page = await self.request("GET", path, limit=200, after_id=after, **params)
            items.extend(page)
            if len(page) < 200:
                return items
            after = page[-1]["id"]


async def login(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await client.post(
        "/api/v1/auth/token", json={"email": email, "password": password, "label": "simulator"}
    )
    if response.status_code != 200:
        raise ProvisioningError(f"login as {email} failed: HTTP {response.status_code}")
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


async def _team_id(api: Api) -> int:
    me = await api.request("GET", "/me")
    for membership in me["memberships"]:
        if membership["team_id"] is not None:
            return int(membership["team_id"])
    operators = await api.all("/operators")
    if operators:
        operator_id = operators[0]["id"]
    else:
        operator_id = (await api.request("POST", "/operators", {"name": "Simulator"}))["id"]
    teams = await api.all(f"/operators/{operator_id}/teams")
    if teams:
        return int(teams[0]["id"])
    created = await api.request("POST", f"/operators/{operator_id}/teams", {"name": "Simulator"})
    return int(created["id"])


async def _site(api: Api, scenario: Scenario) -> int:
    wanted = scenario.site
    for site in await api.all("/sites"):
        if site["name"] == wanted.name:
            return int(site["id"])
    body = {
        "name": wanted.name,
        "country": wanted.country,
        "bidding_zone": wanted.bidding_zone,
        "time_zone": wanted.time_zone,
    }
    created = await api.request("POST", f"/teams/{await _team_id(api)}/sites", body)
    return int(created["id"])


def _charge_point_body(charger: ChargerConfig) -> dict[str, Any]:
    return {
        "ocpp_identity": charger.identity,
        "serial_number": charger.identity,
        "brand": "amphub-sim",
        "model": f"Sim{charger.phases}P{charger.max_a:.0f}A",
        "connectors": [
            {
                "connector_id": 1,
                "phases": charger.phases,
                "phase_rotation": charger.rotation.value,
                "max_current_a": charger.max_a,
            }
        ],
    }


async def _charge_points(
    api: Api, site_id: int, scenario: Scenario
) -> tuple[dict[str, int], dict[str, str]]:
    ids: dict[str, int] = {}
    passwords: dict[str, str] = {}
    for charger in scenario.chargers:
        body = _charge_point_body(charger)
        found = [
            cp
            for cp in await api.all("/charge-points", search=charger.identity)
            if cp["ocpp_identity"] == charger.identity
        ]
        if found:
            cp_id = int(found[0]["id"])
            await api.request("PUT", f"/charge-points/{cp_id}", {**body, "site_id": site_id})
            secret = await api.request("POST", f"/charge-points/{cp_id}/password")
        else:
            secret = await api.request("POST", f"/sites/{site_id}/charge-points", body)
            cp_id = int(secret["id"])
        ids[charger.identity] = cp_id
        passwords[charger.identity] = secret["ocpp_password"]
    return ids, passwords


async def _meter(
    api: Api, site_id: int, scenario: Scenario, modbus_port: int | None
) -> tuple[int, str, str]:
    config = scenario.meter
    settings: dict[str, Any] = {}
    if config.transport is MeterTransport.MODBUS:
        if modbus_port is None:
            raise ProvisioningError("a Modbus meter must be listening before it is registered")
        settings = {
            "host": config.host,
            "port": modbus_port,
            "unit_id": config.unit_id,
            "register_map": "eastron_sdm630",
            "interval_s": config.interval_s,
        }
    body = {
        "name": config.name,
        "main_fuse_a": scenario.group.total_a,
        "transport": config.transport.value,
        "timeout_s": scenario.group.meter_timeout_s,
        "transport_settings": settings,
    }
    for meter in await api.all(f"/sites/{site_id}/meters"):
        if meter["name"] == config.name:
            await api.request("PUT", f"/meters/{meter['id']}", body)
            created = await api.request("POST", f"/meters/{meter['id']}/pin")
            break
    else:
        created = await api.request("POST", f"/sites/{site_id}/meters", body)
    return int(created["id"]), created["serial"], created["pin"]


async def _group(api: Api, site_id: int, scenario: Scenario, meter_id: int) -> int:
    group = scenario.group
    body = {
        "name": group.name,
        "total_a": group.total_a,
        "meter_id": meter_id,
        "placement": group.placement.value,
        "dynamic_buffer_a": group.dynamic_buffer_a,
        "fail_safe_a": group.fail_safe_a,
        "meter_timeout_s": group.meter_timeout_s,
    }
    for existing in await api.request("GET", f"/sites/{site_id}/groups"):
        if existing["name"] == group.name:
            await api.request("PUT", f"/groups/{existing['id']}", body)
            return int(existing["id"])
    created = await api.request("POST", f"/sites/{site_id}/groups", body)
    return int(created["id"])


async def provision(
    base_url: str,
    email: str,
    password: str,
    scenario: Scenario,
    *,
    modbus_port: int | None = None,
) -> Provisioned:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await login(client, email, password)
        api = Api(client)
        site_id = await _site(api, scenario)
        meter_id, serial, pin = await _meter(api, site_id, scenario, modbus_port)
        ids, passwords = await _charge_points(api, site_id, scenario)
        group_id = await _group(api, site_id, scenario, meter_id)
        layout = {"charge_point_ids": [ids[c.identity] for c in scenario.chargers]}
        await api.request("PUT", f"/groups/{group_id}/layout", layout)
    return Provisioned(site_id, group_id, meter_id, serial, pin, passwords, ids)

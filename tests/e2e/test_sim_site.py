"""The simulator against a real amphub, over loopback only: a congested 40 A site with six
chargers (three-phase 1.6 and single-phase 2.0.1, rotated) and an HTTP meter placed
"including charge points", one simulated evening hour at 150x.

Checked from the simulator's own books (what the cars drew, on grid phases, against the
fuse) and from amphub's API: no phase over its fuse, every charger received limits and
ran on them, every car that plugged in charged, the meter is ACTIVE.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amphub.application.access import Actor
from amphub_sim.data import building_for, default_data_dir, sessions_for
from amphub_sim.provision import provision
from amphub_sim.runner import Endpoints, SiteSimulation
from amphub_sim.scenario import load_scenario
from tests.support.live import LiveServer, live_server, make_settings

SCENARIO = Path(__file__).parents[2] / "scenarios" / "e2e-small.yaml"
EMAIL, PASSWORD = "sim@amphub.test", "simulated-site-pw-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("sim")) / "amphub.sqlite3"
    with live_server(make_settings(database, balancing_cycle_s=1.0)) as live:
        live.call(lambda c: c.auth.create_user(Actor.system("test"), EMAIL, "Sim", PASSWORD))
        yield live


@pytest.mark.timeout(90)
async def test_a_congested_site_runs_within_its_fuse(server: LiveServer) -> None:
    scenario = load_scenario(SCENARIO)
    data = default_data_dir()
    simulation = SiteSimulation(
        scenario, sessions_for(scenario, data), building_for(scenario, data), speed=150
    )
    provisioned = await provision(server.base_url, EMAIL, PASSWORD, scenario)
    ocpp_url = f"ws://127.0.0.1:{server.container.gateway.port}/ocpp"

    books = await simulation.run(provisioned, Endpoints(server.base_url, ocpp_url))

    assert books.sim_seconds == pytest.approx(3600, rel=0.01)
    assert books.overload_s == 0, books.lines()
    assert max(books.peak_total_a) <= scenario.group.total_a
    assert books.sessions, "no car plugged in"
    assert books.served == len(books.sessions), books.lines()
    assert books.energy_wh > 5_000
    for charger in simulation.chargers:
        assert charger.profiles_received >= 2, charger.identity  # standing and dynamic
    links = {link.charger.identity: link for link in simulation.links}
    assert all(link.connections >= 1 for link in links.values())
    # The limits bound: with more demand than fuse, some charger ran below its maximum.
    limited = [c for c in simulation.chargers if c.connectors[1].limit_source]
    assert limited, "no charger ran on a profile from amphub"
    peak_charging = max(books.peak_charging_a)
    assert peak_charging > 0.5 * (scenario.group.total_a - scenario.group.dynamic_buffer_a)

    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        token = (
            await client.post("/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD})
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        meter = (await client.get(f"/api/v1/meters/{provisioned.meter_id}", headers=headers)).json()
        assert meter["status"] == "ACTIVE"
        live = await client.get(f"/api/v1/groups/{provisioned.group_id}/live", headers=headers)
        assert live.status_code == 200
        assert live.json() is not None

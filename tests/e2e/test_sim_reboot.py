"""Chargers that forget their profiles when they reboot: after a Reset, amphub must give them
their limits again before they run free (SPEC §2: limits are re-applied on every
(re)connection). Both protocol versions, a real amphub, loopback only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from amphub.application.access import Actor
from amphub_sim.data import building_for, default_data_dir, sessions_for
from amphub_sim.provision import provision
from amphub_sim.runner import Endpoints, SiteSimulation
from amphub_sim.scenario import load_scenario
from tests.support.live import LiveServer, live_server, make_settings
from tests.support.waiting import eventually

SCENARIO = Path(__file__).parents[2] / "scenarios" / "e2e-small.yaml"
EMAIL, PASSWORD = "reboot@amphub.test", "simulated-reboot-pw-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("sim-reboot")) / "amphub.sqlite3"
    with live_server(make_settings(database, balancing_cycle_s=1.0)) as live:
        live.call(lambda c: c.auth.create_user(Actor.system("test"), EMAIL, "Sim", PASSWORD))
        yield live


@pytest.mark.timeout(90)
async def test_rebooted_chargers_get_their_limits_again(server: LiveServer) -> None:
    scenario = load_scenario(SCENARIO)
    forgetful = tuple(replace(c, forget_profiles_on_reboot=True) for c in scenario.chargers)
    scenario = replace(scenario, chargers=forgetful, site=replace(scenario.site, name="Reboot"))
    data = default_data_dir()
    simulation = SiteSimulation(
        scenario, sessions_for(scenario, data), building_for(scenario, data), speed=60
    )
    provisioned = await provision(server.base_url, EMAIL, PASSWORD, scenario)
    ocpp_url = f"ws://127.0.0.1:{server.container.gateway.port}/ocpp"
    run = asyncio.create_task(
        simulation.run(provisioned, Endpoints(server.base_url, ocpp_url), max_real_s=20)
    )
    try:
        await eventually(lambda: len(simulation.links) == len(scenario.chargers), 10)
        links = [
            next(link for link in simulation.links if link.charger.config.version == version)
            for version in ("1.6", "2.0.1")
        ]
        await eventually(lambda: all(link.charger.profiles.profiles for link in links), 20)
        before = {link.charger.identity: link.charger.profiles_received for link in links}
        for link in links:
            link.request_reset("Hard" if link.charger.config.version == "1.6" else "Immediate")
        await eventually(lambda: all(link.charger.reboots == 1 for link in links), 10)
        await eventually(lambda: all(link.connections == 2 for link in links), 20)
        # The standing profile (level 0) comes first, the dynamic limit (level 1) after it:
        # wait for both rather than assert on whichever has landed at one instant.
        await eventually(
            lambda: all(
                link.charger.profiles_received > before[link.charger.identity]
                and {p.stack_level for p in link.charger.profiles.profiles} >= {0, 1}
                for link in links
            ),
            20,
        )
    finally:
        books = await run
    assert books.overload_s == 0, books.lines()

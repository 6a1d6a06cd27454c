"""A simulated site that keeps running (for ``amphub demo``): provision once, then play the
scenario's window again and again until cancelled."""

from __future__ import annotations

import logging
from pathlib import Path

from amphub_sim.data import building_for, default_data_dir, sessions_for
from amphub_sim.provision import provision
from amphub_sim.runner import Endpoints, SiteSimulation
from amphub_sim.scenario import MeterTransport, load_scenario

LOGGER = logging.getLogger(__name__)
DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "demo.yaml"


async def run_site_forever(
    endpoints: Endpoints,
    email: str,
    password: str,
    *,
    speed: float = 60.0,
    scenario_path: Path = DEMO_SCENARIO,
    data_dir: Path | None = None,
) -> None:
    """Runs until cancelled; each round is the scenario's window at ``speed``."""
    scenario = load_scenario(scenario_path)
    data = data_dir or default_data_dir()
    sessions = sessions_for(scenario, data)
    building = building_for(scenario, data)
    if scenario.meter.transport is MeterTransport.MODBUS:
        raise ValueError("the live site pushes its readings; use an HTTP or MQTT meter")
    provisioned = await provision(endpoints.base_url, email, password, scenario)
    LOGGER.info(
        "simulated site %s: group %s, %d chargers, %d sessions per round at %gx",
        provisioned.site_id, provisioned.group_id, len(scenario.chargers), len(sessions), speed,
    )  # fmt: skip
    rounds = 0
    while True:
        rounds += 1
        simulation = SiteSimulation(scenario, sessions, building, speed)
        books = await simulation.run(provisioned, endpoints)
        LOGGER.info("simulated round %d: %s", rounds, "; ".join(books.lines()))

"""``amphub sim``: run a scenario against a running amphub, or check one without it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from amphub_sim.accounting import Accounts
from amphub_sim.building import peak_of
from amphub_sim.data import building_for, default_data_dir, sessions_for
from amphub_sim.progress import ProgressBar
from amphub_sim.provision import ProvisioningError, provision
from amphub_sim.reading import ScenarioError
from amphub_sim.runner import Endpoints, SiteSimulation
from amphub_sim.scenario import MeterTransport, Scenario, load_scenario

sim_app = typer.Typer(
    help="Simulated chargers, cars, building and meter, over the wire protocols.",
    no_args_is_help=True,
)

ScenarioArg = Annotated[Path, typer.Argument(help="scenario file (YAML), e.g. scenarios/demo.yaml")]
DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="the shared data folder (default: ../shared/data)"),
]


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except (OSError, ScenarioError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error


@sim_app.command("check")
def check(scenario_file: ScenarioArg, data: DataOption = None) -> None:
    """Read a scenario and its data and show what it would play, without a server."""
    scenario = _load(scenario_file)
    data_dir = data or default_data_dir()
    try:
        sessions = sessions_for(scenario, data_dir)
        building = building_for(scenario, data_dir)
    except (OSError, ScenarioError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    phases = {1: 0, 3: 0}
    for charger in scenario.chargers:
        phases[charger.phases] += 1
    need = sum(s.energy_need_wh for s in sessions) / 1000
    typer.echo(f"scenario {scenario.name}: {scenario.duration_h:g} h from {scenario.start}")
    typer.echo(
        f"group {scenario.group.name}: {scenario.group.total_a:g} A, "
        f"placement {scenario.group.placement.value}, meter over {scenario.meter.transport.value}"
    )
    typer.echo(f"chargers: {phases[3]} three-phase, {phases[1]} single-phase")
    typer.echo(f"sessions: {len(sessions)} cars needing {need:.1f} kWh in total")
    if building is not None:
        peak = peak_of(building, scenario.start, scenario.duration_h)
        typer.echo(f"building: peak phase current {peak:.1f} A")


def _summary(accounts: Accounts, simulation: SiteSimulation) -> None:
    typer.echo("")
    for line in accounts.lines():
        typer.echo(line)
    received = sum(c.profiles_received for c in simulation.chargers)
    typer.echo(f"limits received       {received} charging profiles")
    meter = simulation.meter
    if meter is not None and meter.stats.last_error:
        typer.echo(f"meter                 last error: {meter.stats.last_error}")
    if simulation.offline_at_end:
        typer.echo(f"offline at the end    {', '.join(simulation.offline_at_end)}")


async def _run(
    scenario: Scenario,
    data_dir: Path,
    endpoints: Endpoints,
    email: str,
    password: str,
    speed: float,
    max_real_s: float | None,
) -> tuple[Accounts, SiteSimulation]:
    simulation = SiteSimulation(
        scenario, sessions_for(scenario, data_dir), building_for(scenario, data_dir), speed
    )
    port = None
    if scenario.meter.transport is MeterTransport.MODBUS:
        port = await simulation.start_modbus()
    provisioned = await provision(endpoints.base_url, email, password, scenario, modbus_port=port)
    typer.echo(
        f"site {provisioned.site_id}, group {provisioned.group_id}, meter "
        f"{provisioned.meter_serial}, {len(provisioned.passwords)} charge points; "
        f"running {scenario.duration_h:g} h at {speed:g}x"
    )
    bar = ProgressBar(scenario.duration_h)
    try:
        accounts = await simulation.run(
            provisioned, endpoints, max_real_s=max_real_s, on_progress=bar
        )
    finally:
        bar.finish()
    return accounts, simulation


@sim_app.command("run")
def run(
    scenario_file: ScenarioArg,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 1.0,
    url: Annotated[str, typer.Option(help="amphub's HTTP address")] = "http://127.0.0.1:8000",
    ocpp: Annotated[
        str, typer.Option(help="amphub's OCPP endpoint, without the identity")
    ] = "ws://127.0.0.1:9000/ocpp",
    email: Annotated[
        str, typer.Option(envvar="AMPHUB_SIM_EMAIL", help="log in as this user")
    ] = "demo@amphub.local",
    password: Annotated[
        str | None, typer.Option(envvar="AMPHUB_SIM_PASSWORD", help="the user's password")
    ] = None,
    max_minutes: Annotated[
        float | None, typer.Option(help="stop after this many real minutes")
    ] = None,
    data: DataOption = None,
    verbose: Annotated[bool, typer.Option(help="log the chargers' traffic problems")] = False,
) -> None:
    """Provision the scenario's site through the API and run it, with a summary at the end."""
    scenario = _load(scenario_file)
    if speed <= 0:
        raise typer.BadParameter("must be positive", param_hint="--speed")
    if password is None:
        password = typer.prompt(f"password of {email}", hide_input=True)
    logging.getLogger("amphub_sim").setLevel(logging.INFO if verbose else logging.ERROR)
    logging.getLogger("ocpp").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    endpoints = Endpoints(url, ocpp)
    max_real_s = None if max_minutes is None else max_minutes * 60
    try:
        accounts, simulation = asyncio.run(
            _run(
                scenario, data or default_data_dir(), endpoints, email, password, speed, max_real_s
            )
        )
    except (ProvisioningError, ScenarioError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    except KeyboardInterrupt:
        typer.echo("\ninterrupted", err=True)
        raise typer.Exit(130) from None
    _summary(accounts, simulation)

"""`amphub demo`: a SQLite file, a seeded operator, team, site and user, the server, and a
simulated site running live against it (``amphub_sim``, over HTTP and OCPP only): a 63 A
group with 12 chargers and an HTTP meter, cars from the real Trondheim sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path

from amphub.adapters.store.database import migrate
from amphub.application.access import Actor
from amphub.bootstrap import Container
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import Address, SiteSpec
from amphub.entrypoints.server import serve
from amphub.settings import Settings
from amphub_sim.live import run_site_forever
from amphub_sim.runner import Endpoints

DEMO_EMAIL = "demo@amphub.local"


async def seed(container: Container, password: str) -> bool:
    """Create the demo tenant once; True if it was created now."""
    async with container.unit_of_work() as uow:
        if await uow.users.get_by_email(DEMO_EMAIL) is not None:
            return False
    system = Actor.system("demo")
    user = await container.auth.create_user(system, DEMO_EMAIL, "Demo Operator", password)
    operator = await container.tenancy.create_operator(system, "Demo Charging Co")
    await container.tenancy.add_member(
        system, Membership(user.id, operator.id, None, Role.OPERATOR_ADMIN)
    )
    team = await container.tenancy.create_team(system, operator.id, "Copenhagen Garages")
    await container.tenancy.create_site(
        system,
        team.id,
        SiteSpec(
            name="Demo Site — Ørestad garage",
            country="DK",
            bidding_zone="DK2",
            time_zone="Europe/Copenhagen",
            address=Address("Ørestads Boulevard 1", "2300", "København S"),
        ),
    )
    return True


def run_demo(*, port: int, database: Path, simulate: bool = True, speed: float = 60.0) -> None:
    """``simulate``: run the simulated site (``scenarios/demo.yaml``) at ``speed`` times
    real time beside the server; it provisions itself through the API as the demo user."""
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{database}"
    settings = Settings(database_url=url, http_port=port, demo=True, fast_hashing=True)
    migrate(url)
    password_file = database.with_suffix(".password")
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    simulation: list[asyncio.Task[None]] = []

    async def ready(container: Container) -> None:
        await seed(container, password)
        base_url = f"http://{settings.http_host}:{port}"
        ocpp_url = f"ws://{settings.ocpp_host}:{container.gateway.port}/ocpp"
        print(
            f"\n  amphub demo is running: {base_url}/\n"
            f"  log in as {DEMO_EMAIL} with password {password}\n"
            f"  API docs: {base_url}/api/v1/docs   OCPP: {ocpp_url}/{{id}}   (Ctrl-C stops)\n",
            flush=True,
        )
        if simulate:
            print(f"  simulated site: 12 chargers and a meter, {speed:g}x real time\n", flush=True)
            logging.getLogger("amphub_sim").setLevel(logging.ERROR)
            work = run_site_forever(
                Endpoints(base_url, ocpp_url), DEMO_EMAIL, password, speed=speed
            )
            simulation.append(asyncio.create_task(work, name="demo-simulated-site"))
            simulation[0].add_done_callback(_report)

    async def main() -> None:
        try:
            await serve(settings, on_ready=ready)
        finally:
            for task in simulation:
                task.cancel()
            await asyncio.gather(*simulation, return_exceptions=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger(__name__).error("the simulated site stopped", exc_info=task.exception())

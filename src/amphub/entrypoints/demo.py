"""`amphub demo`: a SQLite file, a seeded operator, team, site and user, and the server."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path

from amphub.adapters.store.database import migrate
from amphub.application.access import Actor
from amphub.bootstrap import Container
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import Address, SiteSpec
from amphub.entrypoints.server import serve
from amphub.settings import Settings

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


def run_demo(*, port: int, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{database}"
    settings = Settings(database_url=url, http_port=port, demo=True, fast_hashing=True)
    migrate(url)
    password_file = database.with_suffix(".password")
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()

    async def ready(container: Container) -> None:
        await seed(container, password)
        print(
            f"\n  amphub demo is running: http://{settings.http_host}:{port}/\n"
            f"  log in as {DEMO_EMAIL} with password {password}\n"
            f"  API docs: http://{settings.http_host}:{port}/api/v1/docs   (Ctrl-C stops)\n",
            flush=True,
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, on_ready=ready))

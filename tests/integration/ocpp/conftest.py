"""A real OCPP gateway on an ephemeral port over a real (migrated) SQLite file.

The store's own tests run on SQLite and PostgreSQL (test_charging_store.py); the gateway's
tests use the session's SQLite database, emptied before each test, so that a restart of
the gateway can be tested on the very same file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amphub.adapters.ocpp.server import OcppGateway, OcppServerConfig
from amphub.adapters.store.charging import SqlChargingStore
from amphub.adapters.store.charging_queries import SqlIdTagAllowList
from amphub.adapters.store.database import create_engine, session_factory
from amphub.adapters.store.registry import Base
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.access import Actor
from amphub.application.charging.commands import CommandService
from amphub.application.charging.credentials import ChargePointPasswordHasher, add_charge_point
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.remote_starts import RemoteStarts
from amphub.application.charging.service import ChargingService, ChargingSettings
from amphub.application.ports import SystemClock
from amphub.application.tenancy import TenancyService
from amphub.domain.charging import IdTagEntry
from amphub.domain.tenancy import SiteSpec


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ocpp_options(settings=dict, **config): options of the test's OCPP gateway"
    )


async def empty(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(text(f'DELETE FROM "{table.name}"'))


@dataclass
class Gateway:
    """One running amphub OCPP side: services over the store, and the gateway."""

    sessions: async_sessionmaker[AsyncSession]
    config: OcppServerConfig
    settings: ChargingSettings
    store: SqlChargingStore = field(init=False)
    live: LiveChargerState = field(init=False)
    service: ChargingService = field(init=False)
    gateway: OcppGateway = field(init=False)
    commands: CommandService = field(init=False)

    def __post_init__(self) -> None:
        self.store = SqlChargingStore(self.sessions)
        self.live = LiveChargerState()
        remote_starts = RemoteStarts()
        self.service = ChargingService(
            self.store,
            self.store,
            self.live,
            ChargePointPasswordHasher(),
            SystemClock(),
            self.settings,
            remote_starts,
        )
        self.gateway = OcppGateway(self.config, self.service, self.live)
        self.commands = CommandService(
            self.gateway.commander, self.live, self.store, remote_starts, SystemClock()
        )

    def url(self, identity: str) -> str:
        return f"ws://127.0.0.1:{self.gateway.port}/ocpp/{identity}"


@dataclass
class Harness:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    config: OcppServerConfig
    settings: ChargingSettings
    running: list[Gateway] = field(default_factory=list)
    team_id: int = 0
    site_id: int = 0

    @property
    def current(self) -> Gateway:
        return self.running[-1]

    def url(self, identity: str) -> str:
        return self.current.url(identity)

    async def start(
        self, sessions: async_sessionmaker[AsyncSession] | None = None, **config: Any
    ) -> Gateway:
        config_now = dataclasses.replace(self.config, **config)
        gateway = Gateway(sessions or self.sessions, config_now, self.settings)
        await gateway.gateway.start()
        self.running.append(gateway)
        return gateway

    async def stop(self) -> None:
        """Stop the current gateway as a process would: sockets closed, writer stopped."""
        await self.current.gateway.stop()
        await self.current.store.close()

    async def add_charge_point(
        self, identity: str, connectors: int = 2, phases: int = 3
    ) -> tuple[int, str]:
        tenancy = TenancyService(lambda: SqlUnitOfWork(self.sessions), SystemClock())
        system = Actor.system()
        if not self.site_id:
            operator = await tenancy.create_operator(system, "Operator")
            team = await tenancy.create_team(system, operator.id, "Team")
            site = await tenancy.create_site(
                system, team.id, SiteSpec("Site", "DK", "DK2", "Europe/Copenhagen")
            )
            self.team_id, self.site_id = team.id, site.id
        created = await add_charge_point(
            tenancy,
            ChargePointPasswordHasher(),
            system,
            identity=identity,
            site_id=self.site_id,
            connectors=connectors,
            phases=phases,
        )
        return created.charge_point.id, created.password

    async def allow(self, id_tag: str) -> None:
        allow_list = SqlIdTagAllowList(self.sessions)
        await allow_list.put_id_tag(IdTagEntry(self.team_id, id_tag), datetime.now(UTC))


def fast_config(**overrides: Any) -> OcppServerConfig:
    values: dict[str, Any] = {
        "port": 0,
        "call_timeout_s": 2.0,
        "ping_interval_s": 5.0,
        "close_timeout_s": 1.0,
        "validate_replies": True,
    }
    return OcppServerConfig(**(values | overrides))


@pytest.fixture
async def harness(sqlite_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """A gateway on the emptied session database; ``@pytest.mark.ocpp_options(...)`` sets
    its OcppServerConfig fields and (``settings={...}``) its ChargingSettings."""
    marker = request.node.get_closest_marker("ocpp_options")
    options = dict(marker.kwargs) if marker else {}
    settings = ChargingSettings(**options.pop("settings", {}))
    engine = create_engine(sqlite_url)
    await empty(engine)
    harness = Harness(engine, session_factory(engine), fast_config(**options), settings)
    await harness.start()
    try:
        yield harness
    finally:
        for gateway in harness.running:
            await gateway.gateway.stop()
            await gateway.store.close()
        await engine.dispose()

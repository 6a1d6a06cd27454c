"""PowerBank's services over the real store (SQLite and PostgreSQL, via ``engine``), wired the
way bootstrap wires them: tenancy tells the programme about new and moved charge points."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.store.database import session_factory
from amphub.adapters.store.powerbank import SqlPowerBankUnitOfWork
from amphub.application.access import Actor
from amphub.application.charging.live import LiveChargerState
from amphub.application.powerbank.catalogue import PowerBankCatalogue
from amphub.application.powerbank.programme import PowerBankProgramme
from amphub.application.powerbank.service import PowerBankService
from amphub.application.tenancy import TenancyService
from amphub.application.uow import Page, StoredAuditEntry
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import ChargePoint, ChargePointSpec, ConnectorSpec, SiteSpec

SYSTEM = Actor.system("test")


@dataclass
class SteppingClock:
    at: datetime = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@dataclass
class World:
    tenancy: TenancyService
    powerbank: PowerBankService
    catalogue: PowerBankCatalogue
    programme: PowerBankProgramme
    live: LiveChargerState
    clock: SteppingClock
    operator_id: int = 0
    team_id: int = 0
    sites: dict[str, int] = field(default_factory=dict)
    serial: int = 0

    async def charge_point(
        self, zone: str, brand: str = "Easee", model: str = "Charge", connectors: int = 1
    ) -> ChargePoint:
        self.serial += 1
        spec = ChargePointSpec(
            ocpp_identity=f"CP-{self.serial}",
            serial_number=f"SN-{self.serial}",
            connectors=tuple(ConnectorSpec(i + 1) for i in range(connectors)),
            brand=brand,
            model=model,
        )
        return await self.tenancy.create_charge_point(SYSTEM, self.sites[zone], spec)

    async def user(self, role: Role, configure: bool = False, team_id: int | None = None) -> Actor:
        """An actor holding ``role`` in this operator (or in ``team_id``/our team)."""
        self.serial += 1
        team = None if role.is_operator_level else (team_id or self.team_id)
        membership = Membership(self.serial, self.operator_id, team, role, configure)
        return Actor(user_id=None, name=f"{role.value}-{self.serial}", memberships=(membership,))

    async def audit(self) -> list[StoredAuditEntry]:
        """The audit log, oldest first."""
        return list(reversed(await self.tenancy.audit_log(SYSTEM, Page(limit=200))))


ZONES = {"DK2": "DK", "DK1": "DK", "SE3": "SE", "GB": "GB", "DE-LU": "DE"}
ZONE_TIME = {"DK": "Europe/Copenhagen", "SE": "Europe/Stockholm", "GB": "Europe/London"}


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    sessions = session_factory(engine)

    def uow() -> SqlPowerBankUnitOfWork:
        return SqlPowerBankUnitOfWork(sessions)

    clock = SteppingClock()
    live = LiveChargerState()
    tenancy = TenancyService(uow, clock)
    programme = PowerBankProgramme(uow, clock, live)
    tenancy.add_change_listener(programme.charge_points_changed)
    live.subscribe(programme.live_event)
    world = World(
        tenancy=tenancy,
        powerbank=PowerBankService(uow, clock),
        catalogue=PowerBankCatalogue(uow, clock, programme),
        programme=programme,
        live=live,
        clock=clock,
    )
    operator = await tenancy.create_operator(SYSTEM, "Nordic CPO")
    team = await tenancy.create_team(SYSTEM, operator.id, "Fleet")
    world.operator_id, world.team_id = operator.id, team.id
    for zone, country in ZONES.items():
        spec = SiteSpec(f"Site {zone}", country, zone, ZONE_TIME.get(country, "Europe/Berlin"))
        world.sites[zone] = (await tenancy.create_site(SYSTEM, team.id, spec)).id
    return world

"""One database transaction per unit of work, with the foundation's repositories on it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.charging_queries import SqlIdTags
from amphub.adapters.store.equipment import SqlGroups, SqlMeters
from amphub.adapters.store.tenancy import (
    SqlAuditLog,
    SqlChargePoints,
    SqlMemberships,
    SqlOperators,
    SqlSites,
    SqlTeams,
    SqlTokens,
    SqlUsers,
)
from amphub.application.site_equipment import GroupRepository, MeterRepository
from amphub.application.uow import (
    AuditLog,
    ChargePointRepository,
    IdTagRepository,
    MembershipRepository,
    OperatorRepository,
    SiteRepository,
    TeamRepository,
    TokenRepository,
    UserRepository,
)


class SqlUnitOfWork:
    """Implements :class:`amphub.application.uow.UnitOfWork`. Nothing is written unless
    :meth:`commit` is called; leaving the block rolls back whatever was not committed."""

    operators: OperatorRepository
    teams: TeamRepository
    sites: SiteRepository
    charge_points: ChargePointRepository
    users: UserRepository
    memberships: MembershipRepository
    tokens: TokenRepository
    audit: AuditLog
    meters: MeterRepository
    groups: GroupRepository
    id_tags: IdTagRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "use the unit of work in an `async with` block"
        return self._session

    async def __aenter__(self) -> Self:
        session = self._sessions()
        self._session = session
        self.operators = SqlOperators(session)
        self.teams = SqlTeams(session)
        self.sites = SqlSites(session)
        self.charge_points = SqlChargePoints(session)
        self.users = SqlUsers(session)
        self.memberships = SqlMemberships(session)
        self.tokens = SqlTokens(session)
        self.audit = SqlAuditLog(session)
        self.meters = SqlMeters(session)
        self.groups = SqlGroups(session)
        self.id_tags = SqlIdTags(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            await session.rollback()
        finally:
            await session.close()
            self._session = None

    async def commit(self) -> None:
        await self.session.commit()

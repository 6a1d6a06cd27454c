"""The unit of work and the repositories of the foundation (tenancy, users, tokens, audit).

A unit of work is one database transaction: the change and its audit entry are written
together or not at all. Repositories speak domain values only; rows stay in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from amphub.domain.charging import IdTagEntry
from amphub.domain.roles import Membership, Role

if TYPE_CHECKING:
    from amphub.application.site_equipment import GroupRepository, MeterRepository
from amphub.domain.tenancy import ChargePoint, ChargePointSpec, Operator, Site, SiteSpec, Team, User


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user_id: int | None
    actor: str
    operator_id: int | None
    team_id: int | None
    action: str
    object_type: str
    object_id: str
    old_value: dict[str, Any] | None
    new_value: dict[str, Any] | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class StoredAuditEntry:
    id: int
    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class StoredToken:
    id: int
    user_id: int
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Visibility:
    """What a listing may return: everything of whole operators, plus single teams."""

    operator_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()
    everything: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """Keyset pagination: objects with an id greater than ``after_id``, at most ``limit``."""

    limit: int = 50
    after_id: int = 0


class OperatorRepository(Protocol):
    async def add(self, name: str, created_at: datetime) -> Operator: ...
    async def get(self, operator_id: int) -> Operator | None: ...
    async def list_by_ids(
        self, operator_ids: Sequence[int] | None, page: Page
    ) -> list[Operator]: ...
    async def rename(self, operator_id: int, name: str) -> None: ...
    async def delete(self, operator_id: int) -> None: ...


class TeamRepository(Protocol):
    async def add(self, operator_id: int, name: str, created_at: datetime) -> Team: ...
    async def get(self, team_id: int) -> Team | None: ...
    async def list_visible(
        self, operator_id: int, visibility: Visibility, page: Page
    ) -> list[Team]: ...
    async def rename(self, team_id: int, name: str) -> None: ...
    async def delete(self, team_id: int) -> None: ...


class SiteRepository(Protocol):
    async def add(self, team_id: int, spec: SiteSpec, created_at: datetime) -> Site: ...
    async def get(self, site_id: int) -> Site | None: ...
    async def list_visible(self, visibility: Visibility, page: Page) -> list[Site]: ...
    async def update(self, site_id: int, spec: SiteSpec) -> None: ...
    async def delete(self, site_id: int) -> None: ...
    async def count_charge_points(self, site_id: int) -> int: ...
    async def list_ids_of_team(self, team_id: int) -> list[int]: ...


class ChargePointRepository(Protocol):
    async def add(
        self, site_id: int, spec: ChargePointSpec, created_at: datetime
    ) -> ChargePoint: ...
    async def get(self, charge_point_id: int) -> ChargePoint | None: ...
    async def get_by_identity(self, ocpp_identity: str) -> ChargePoint | None: ...
    async def list_visible(
        self, visibility: Visibility, search: str, page: Page, site_id: int | None = None
    ) -> list[ChargePoint]: ...
    async def update(self, charge_point_id: int, site_id: int, spec: ChargePointSpec) -> None: ...
    async def delete(self, charge_point_id: int) -> None: ...
    async def identity_taken(self, ocpp_identity: str, except_id: int | None = None) -> bool: ...
    async def serial_taken(self, serial_number: str, except_id: int | None = None) -> bool: ...
    async def set_password_hash(self, charge_point_id: int, password_hash: str) -> None: ...


class UserRepository(Protocol):
    async def add(
        self, email: str, name: str, password_hash: str, created_at: datetime
    ) -> User: ...
    async def get(self, user_id: int) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None: ...
    async def password_hash(self, user_id: int) -> str | None: ...
    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...


class MembershipRepository(Protocol):
    async def add(self, membership: Membership) -> None: ...
    async def of_user(self, user_id: int) -> list[Membership]: ...
    async def of_operator(self, operator_id: int) -> list[Membership]: ...
    async def remove(self, user_id: int, operator_id: int, team_id: int | None) -> bool: ...
    async def find(
        self, user_id: int, operator_id: int, team_id: int | None
    ) -> Membership | None: ...
    async def count_with_role(self, operator_id: int, role: Role) -> int: ...


class TokenRepository(Protocol):
    async def add(
        self,
        user_id: int,
        token_hash: str,
        label: str,
        created_at: datetime,
        expires_at: datetime | None,
    ) -> StoredToken: ...
    async def find_active(self, token_hash: str, now: datetime) -> StoredToken | None: ...
    async def revoke(self, token_id: int, user_id: int, at: datetime) -> bool: ...
    async def of_user(self, user_id: int) -> list[StoredToken]: ...


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...
    async def list_visible(self, visibility: Visibility, page: Page) -> list[StoredAuditEntry]: ...


class IdTagRepository(Protocol):
    """A team's allow list of id tags (RFID cards, app tokens) for OCPP Authorize."""

    async def put(self, entry: IdTagEntry, at: datetime) -> None: ...
    async def remove(self, team_id: int, id_tag: str) -> bool: ...
    async def get(self, team_id: int, id_tag: str) -> IdTagEntry | None: ...
    async def list_of_team(self, team_id: int) -> list[IdTagEntry]: ...


class UnitOfWork(Protocol):
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

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

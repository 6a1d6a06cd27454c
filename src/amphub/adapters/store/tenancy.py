"""SQL repositories of the foundation: rows in, domain values out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from amphub.adapters.store.tables import (
    ApiTokenRow,
    AuditRow,
    ChargePointRow,
    ConnectorRow,
    MembershipRow,
    OperatorRow,
    SiteRow,
    TeamRow,
    UserRow,
)
from amphub.application.uow import (
    AuditEntry,
    Page,
    StoredAuditEntry,
    StoredToken,
    Visibility,
)
from amphub.domain.errors import Conflict
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import (
    Address,
    ChargePoint,
    ChargePointSpec,
    ConnectorSpec,
    Operator,
    Site,
    SiteSpec,
    Team,
    User,
)
from amphub.domain.units import PhaseRotation

Ts = TypeVarTuple("Ts")


def visible_teams(visibility: Visibility) -> ColumnElement[bool]:
    """A condition on TeamRow: the team lies inside what the visibility allows."""
    if visibility.everything:
        return TeamRow.id.is_not(None)
    conditions: list[ColumnElement[bool]] = []
    if visibility.operator_ids:
        conditions.append(TeamRow.operator_id.in_(visibility.operator_ids))
    if visibility.team_ids:
        conditions.append(TeamRow.id.in_(visibility.team_ids))
    return or_(*conditions) if conditions else false()


def _paged(statement: Select[*Ts], id_column: Any, page: Page) -> Select[*Ts]:
    return statement.where(id_column > page.after_id).order_by(id_column).limit(page.limit)


class SqlOperators:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, name: str, created_at: datetime) -> Operator:
        row = OperatorRow(name=name, created_at=created_at)
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise Conflict("name", "an operator with this name exists already") from error
        return Operator(row.id, row.name)

    async def get(self, operator_id: int) -> Operator | None:
        row = await self._session.get(OperatorRow, operator_id)
        return Operator(row.id, row.name) if row else None

    async def list_by_ids(self, operator_ids: Sequence[int] | None, page: Page) -> list[Operator]:
        statement = select(OperatorRow)
        if operator_ids is not None:
            statement = statement.where(OperatorRow.id.in_(operator_ids))
        rows = await self._session.scalars(_paged(statement, OperatorRow.id, page))
        return [Operator(row.id, row.name) for row in rows]

    async def rename(self, operator_id: int, name: str) -> None:
        try:
            await self._session.execute(
                update(OperatorRow).where(OperatorRow.id == operator_id).values(name=name)
            )
        except IntegrityError as error:
            raise Conflict("name", "an operator with this name exists already") from error

    async def delete(self, operator_id: int) -> None:
        await self._session.execute(delete(OperatorRow).where(OperatorRow.id == operator_id))


class SqlTeams:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, operator_id: int, name: str, created_at: datetime) -> Team:
        row = TeamRow(operator_id=operator_id, name=name, created_at=created_at)
        self._session.add(row)
        await self._session.flush()
        return Team(row.id, row.operator_id, row.name)

    async def get(self, team_id: int) -> Team | None:
        row = await self._session.get(TeamRow, team_id)
        return Team(row.id, row.operator_id, row.name) if row else None

    async def list_visible(
        self, operator_id: int, visibility: Visibility, page: Page
    ) -> list[Team]:
        statement = select(TeamRow).where(
            TeamRow.operator_id == operator_id, visible_teams(visibility)
        )
        rows = await self._session.scalars(_paged(statement, TeamRow.id, page))
        return [Team(row.id, row.operator_id, row.name) for row in rows]

    async def rename(self, team_id: int, name: str) -> None:
        await self._session.execute(update(TeamRow).where(TeamRow.id == team_id).values(name=name))

    async def delete(self, team_id: int) -> None:
        await self._session.execute(delete(TeamRow).where(TeamRow.id == team_id))


def _site(row: SiteRow, operator_id: int) -> Site:
    spec = SiteSpec(
        name=row.name,
        country=row.country,
        bidding_zone=row.bidding_zone,
        time_zone=row.time_zone,
        address=Address(row.street, row.postal_code, row.city),
    )
    return Site(row.id, row.team_id, operator_id, spec)


def _site_values(spec: SiteSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "country": spec.country,
        "bidding_zone": spec.bidding_zone,
        "time_zone": spec.time_zone,
        "street": spec.address.street,
        "postal_code": spec.address.postal_code,
        "city": spec.address.city,
    }


class SqlSites:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, team_id: int, spec: SiteSpec, created_at: datetime) -> Site:
        row = SiteRow(team_id=team_id, created_at=created_at, **_site_values(spec))
        self._session.add(row)
        await self._session.flush()
        team = await self._session.get(TeamRow, team_id)
        assert team is not None
        return _site(row, team.operator_id)

    async def get(self, site_id: int) -> Site | None:
        result = await self._session.execute(
            select(SiteRow, TeamRow.operator_id).join(TeamRow).where(SiteRow.id == site_id)
        )
        found = result.first()
        return _site(found[0], found[1]) if found else None

    async def list_visible(self, visibility: Visibility, page: Page) -> list[Site]:
        statement = (
            select(SiteRow, TeamRow.operator_id).join(TeamRow).where(visible_teams(visibility))
        )
        result = await self._session.execute(_paged(statement, SiteRow.id, page))
        return [_site(row, operator_id) for row, operator_id in result]

    async def update(self, site_id: int, spec: SiteSpec) -> None:
        await self._session.execute(
            update(SiteRow).where(SiteRow.id == site_id).values(**_site_values(spec))
        )

    async def delete(self, site_id: int) -> None:
        await self._session.execute(delete(SiteRow).where(SiteRow.id == site_id))

    async def count_charge_points(self, site_id: int) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(ChargePointRow)
            .where(ChargePointRow.site_id == site_id)
        )
        return int(count or 0)

    async def list_ids_of_team(self, team_id: int) -> list[int]:
        return list(
            await self._session.scalars(select(SiteRow.id).where(SiteRow.team_id == team_id))
        )


def _connector_spec(row: ConnectorRow) -> ConnectorSpec:
    return ConnectorSpec(
        connector_id=row.connector_id,
        phases=row.phases,
        phase_rotation=PhaseRotation(row.phase_rotation),
        min_current_a=row.min_current_a,
        max_current_a=row.max_current_a,
        priority=row.priority,
    )


class SqlChargePoints:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _select(self) -> Select[ChargePointRow, int, int]:
        return (
            select(ChargePointRow, SiteRow.team_id, TeamRow.operator_id)
            .join(SiteRow, ChargePointRow.site_id == SiteRow.id)
            .join(TeamRow, SiteRow.team_id == TeamRow.id)
        )

    async def _connectors(self, ids: Sequence[int]) -> dict[int, list[ConnectorSpec]]:
        by_charge_point: dict[int, list[ConnectorSpec]] = {cp_id: [] for cp_id in ids}
        if ids:
            rows = await self._session.scalars(
                select(ConnectorRow)
                .where(ConnectorRow.charge_point_id.in_(ids))
                .order_by(ConnectorRow.charge_point_id, ConnectorRow.connector_id)
            )
            for row in rows:
                by_charge_point[row.charge_point_id].append(_connector_spec(row))
        return by_charge_point

    async def _build(self, found: Sequence[Any]) -> list[ChargePoint]:
        connectors = await self._connectors([row.id for row, _, _ in found])
        return [
            ChargePoint(
                id=row.id,
                site_id=row.site_id,
                team_id=team_id,
                operator_id=operator_id,
                spec=ChargePointSpec(
                    ocpp_identity=row.ocpp_identity,
                    serial_number=row.serial_number,
                    connectors=tuple(connectors[row.id]),
                    brand=row.brand,
                    model=row.model,
                    firmware_version=row.firmware_version,
                    address=Address(row.street, row.postal_code, row.city),
                ),
                created_at=row.created_at,
            )
            for row, team_id, operator_id in found
        ]

    async def add(self, site_id: int, spec: ChargePointSpec, created_at: datetime) -> ChargePoint:
        row = ChargePointRow(site_id=site_id, created_at=created_at, **self._values(spec))
        self._session.add(row)
        await self._session.flush()
        self._add_connectors(row.id, spec)
        await self._session.flush()
        created = await self.get(row.id)
        assert created is not None
        return created

    @staticmethod
    def _values(spec: ChargePointSpec) -> dict[str, Any]:
        return {
            "ocpp_identity": spec.ocpp_identity,
            "serial_number": spec.serial_number,
            "brand": spec.brand,
            "model": spec.model,
            "firmware_version": spec.firmware_version,
            "street": spec.address.street,
            "postal_code": spec.address.postal_code,
            "city": spec.address.city,
        }

    def _add_connectors(self, charge_point_id: int, spec: ChargePointSpec) -> None:
        for connector in spec.connectors:
            self._session.add(
                ConnectorRow(
                    charge_point_id=charge_point_id,
                    connector_id=connector.connector_id,
                    phases=connector.phases,
                    phase_rotation=connector.phase_rotation.value,
                    min_current_a=connector.min_current_a,
                    max_current_a=connector.max_current_a,
                    priority=connector.priority,
                )
            )

    async def get(self, charge_point_id: int) -> ChargePoint | None:
        result = await self._session.execute(
            self._select().where(ChargePointRow.id == charge_point_id)
        )
        built = await self._build(result.all())
        return built[0] if built else None

    async def get_by_identity(self, ocpp_identity: str) -> ChargePoint | None:
        result = await self._session.execute(
            self._select().where(ChargePointRow.ocpp_identity == ocpp_identity)
        )
        built = await self._build(result.all())
        return built[0] if built else None

    async def list_visible(
        self, visibility: Visibility, search: str, page: Page, site_id: int | None = None
    ) -> list[ChargePoint]:
        statement = self._select().where(visible_teams(visibility))
        if site_id is not None:
            statement = statement.where(ChargePointRow.site_id == site_id)
        if search:
            pattern = f"%{search.lower()}%"
            statement = statement.where(
                or_(
                    func.lower(ChargePointRow.serial_number).like(pattern),
                    func.lower(ChargePointRow.ocpp_identity).like(pattern),
                    func.lower(ChargePointRow.street).like(pattern),
                    func.lower(ChargePointRow.city).like(pattern),
                    func.lower(ChargePointRow.postal_code).like(pattern),
                )
            )
        result = await self._session.execute(_paged(statement, ChargePointRow.id, page))
        return await self._build(result.all())

    async def update(self, charge_point_id: int, site_id: int, spec: ChargePointSpec) -> None:
        await self._session.execute(
            update(ChargePointRow)
            .where(ChargePointRow.id == charge_point_id)
            .values(site_id=site_id, **self._values(spec))
        )
        await self._session.execute(
            delete(ConnectorRow).where(ConnectorRow.charge_point_id == charge_point_id)
        )
        self._add_connectors(charge_point_id, spec)
        await self._session.flush()

    async def delete(self, charge_point_id: int) -> None:
        await self._session.execute(
            delete(ChargePointRow).where(ChargePointRow.id == charge_point_id)
        )

    async def identity_taken(self, ocpp_identity: str, except_id: int | None = None) -> bool:
        statement = select(ChargePointRow.id).where(ChargePointRow.ocpp_identity == ocpp_identity)
        if except_id is not None:
            statement = statement.where(ChargePointRow.id != except_id)
        return (await self._session.scalar(statement)) is not None

    async def serial_taken(self, serial_number: str, except_id: int | None = None) -> bool:
        statement = select(ChargePointRow.id).where(ChargePointRow.serial_number == serial_number)
        if except_id is not None:
            statement = statement.where(ChargePointRow.id != except_id)
        return (await self._session.scalar(statement)) is not None

    async def set_password_hash(self, charge_point_id: int, password_hash: str) -> None:
        await self._session.execute(
            update(ChargePointRow)
            .where(ChargePointRow.id == charge_point_id)
            .values(ocpp_password_hash=password_hash)
        )


class SqlUsers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, email: str, name: str, password_hash: str, created_at: datetime) -> User:
        row = UserRow(email=email, name=name, password_hash=password_hash, created_at=created_at)
        self._session.add(row)
        await self._session.flush()
        return User(row.id, row.email, row.name)

    async def get(self, user_id: int) -> User | None:
        row = await self._session.get(UserRow, user_id)
        return User(row.id, row.email, row.name) if row else None

    async def get_by_email(self, email: str) -> User | None:
        row = await self._session.scalar(select(UserRow).where(UserRow.email == email))
        return User(row.id, row.email, row.name) if row else None

    async def password_hash(self, user_id: int) -> str | None:
        return await self._session.scalar(
            select(UserRow.password_hash).where(UserRow.id == user_id)
        )

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )


def _membership(row: MembershipRow) -> Membership:
    return Membership(
        user_id=row.user_id,
        operator_id=row.operator_id,
        team_id=row.team_id,
        role=Role(row.role),
        can_configure_charge_points=row.can_configure_charge_points,
    )


def _membership_key(
    user_id: int, operator_id: int, team_id: int | None
) -> tuple[ColumnElement[bool], ...]:
    team_condition = (
        MembershipRow.team_id.is_(None) if team_id is None else MembershipRow.team_id == team_id
    )
    return (
        MembershipRow.user_id == user_id,
        MembershipRow.operator_id == operator_id,
        team_condition,
    )


class SqlMemberships:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, membership: Membership) -> None:
        self._session.add(
            MembershipRow(
                user_id=membership.user_id,
                operator_id=membership.operator_id,
                team_id=membership.team_id,
                role=membership.role.value,
                can_configure_charge_points=membership.can_configure_charge_points,
            )
        )
        await self._session.flush()

    async def of_user(self, user_id: int) -> list[Membership]:
        rows = await self._session.scalars(
            select(MembershipRow).where(MembershipRow.user_id == user_id).order_by(MembershipRow.id)
        )
        return [_membership(row) for row in rows]

    async def of_operator(self, operator_id: int) -> list[Membership]:
        rows = await self._session.scalars(
            select(MembershipRow)
            .where(MembershipRow.operator_id == operator_id)
            .order_by(MembershipRow.id)
        )
        return [_membership(row) for row in rows]

    async def find(self, user_id: int, operator_id: int, team_id: int | None) -> Membership | None:
        row = await self._session.scalar(
            select(MembershipRow).where(*_membership_key(user_id, operator_id, team_id))
        )
        return _membership(row) if row else None

    async def remove(self, user_id: int, operator_id: int, team_id: int | None) -> bool:
        result = await self._session.execute(
            delete(MembershipRow).where(*_membership_key(user_id, operator_id, team_id))
        )
        return bool(getattr(result, "rowcount", 0))

    async def count_with_role(self, operator_id: int, role: Role) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(MembershipRow)
            .where(MembershipRow.operator_id == operator_id, MembershipRow.role == role.value)
        )
        return int(count or 0)


def _token(row: ApiTokenRow) -> StoredToken:
    return StoredToken(
        row.id, row.user_id, row.label, row.created_at, row.expires_at, row.revoked_at
    )


class SqlTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        user_id: int,
        token_hash: str,
        label: str,
        created_at: datetime,
        expires_at: datetime | None,
    ) -> StoredToken:
        row = ApiTokenRow(
            user_id=user_id,
            token_hash=token_hash,
            label=label,
            created_at=created_at,
            expires_at=expires_at,
            revoked_at=None,
        )
        self._session.add(row)
        await self._session.flush()
        return _token(row)

    async def find_active(self, token_hash: str, now: datetime) -> StoredToken | None:
        row = await self._session.scalar(
            select(ApiTokenRow).where(
                ApiTokenRow.token_hash == token_hash,
                ApiTokenRow.revoked_at.is_(None),
                or_(ApiTokenRow.expires_at.is_(None), ApiTokenRow.expires_at > now),
            )
        )
        return _token(row) if row else None

    async def revoke(self, token_id: int, user_id: int, at: datetime) -> bool:
        result = await self._session.execute(
            update(ApiTokenRow)
            .where(
                ApiTokenRow.id == token_id,
                ApiTokenRow.user_id == user_id,
                ApiTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def of_user(self, user_id: int) -> list[StoredToken]:
        rows = await self._session.scalars(
            select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(ApiTokenRow.id)
        )
        return [_token(row) for row in rows]


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, entry: AuditEntry) -> None:
        self._session.add(
            AuditRow(
                at=entry.at,
                user_id=entry.user_id,
                actor=entry.actor,
                operator_id=entry.operator_id,
                team_id=entry.team_id,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                old_value=entry.old_value,
                new_value=entry.new_value,
                note=entry.note,
            )
        )
        await self._session.flush()

    async def list_visible(self, visibility: Visibility, page: Page) -> list[StoredAuditEntry]:
        """Newest first; ``page.after_id`` pages backwards (entries older than that id)."""
        statement = select(AuditRow)
        if not visibility.everything:
            conditions: list[ColumnElement[bool]] = []
            if visibility.operator_ids:
                conditions.append(AuditRow.operator_id.in_(visibility.operator_ids))
            if visibility.team_ids:
                conditions.append(AuditRow.team_id.in_(visibility.team_ids))
            statement = statement.where(or_(*conditions) if conditions else false())
        if page.after_id:
            statement = statement.where(AuditRow.id < page.after_id)
        rows = await self._session.scalars(statement.order_by(AuditRow.id.desc()).limit(page.limit))
        return [
            StoredAuditEntry(
                row.id,
                AuditEntry(
                    at=row.at,
                    user_id=row.user_id,
                    actor=row.actor,
                    operator_id=row.operator_id,
                    team_id=row.team_id,
                    action=row.action,
                    object_type=row.object_type,
                    object_id=row.object_id,
                    old_value=row.old_value,
                    new_value=row.new_value,
                    note=row.note,
                ),
            )
            for row in rows
        ]

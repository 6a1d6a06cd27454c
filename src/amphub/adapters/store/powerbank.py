"""PowerBank's repository, and the unit of work that carries it: rows in, domain values out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Self

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from amphub.adapters.store.powerbank_tables import (
    PowerBankCompatibilityRow,
    PowerBankEnrolmentRow,
    PowerBankFacilityIdRow,
    PowerBankOptOutRow,
    PowerBankTermsRow,
)
from amphub.adapters.store.tables import ChargePointRow, ConnectorRow, SiteRow, TeamRow
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.powerbank.ports import EnrolledPlacement, PowerBankRepository
from amphub.domain.errors import Conflict
from amphub.domain.powerbank.compatibility import CompatibilityEntry, CompatibilityRule
from amphub.domain.powerbank.enrolment import (
    Enrolment,
    EnrolmentBasis,
    EnrolmentStart,
    OptOut,
    TermsVersion,
)


def _entry(row: PowerBankCompatibilityRow) -> CompatibilityEntry:
    rule = CompatibilityRule(row.brand, row.model, row.firmware_min, row.firmware_below)
    return CompatibilityEntry(row.id, row.operator_id, rule, row.created_at)


def _terms(row: PowerBankTermsRow) -> TermsVersion:
    return TermsVersion(row.operator_id, row.version, row.text, row.published_at, row.published_by)


def _enrolment(row: PowerBankEnrolmentRow) -> Enrolment:
    return Enrolment(
        id=row.id,
        start=EnrolmentStart(
            charge_point_id=row.charge_point_id,
            basis=EnrolmentBasis(row.basis),
            at=row.enrolled_at,
            by_user_id=row.enrolled_by_user_id,
            by=row.enrolled_by,
            terms_version=row.terms_version,
            terms_accepted_at=row.terms_accepted_at,
            facility_id=row.facility_id,
            note=row.note,
        ),
        ended_at=row.ended_at,
        ended_by_user_id=row.ended_by_user_id,
        ended_by=row.ended_by,
        end_reason=row.end_reason,
    )


class SqlPowerBank:
    """Implements :class:`amphub.application.powerbank.ports.PowerBankRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- compatibility list ------------------------------------------------------------------

    async def compatibility(self, operator_id: int) -> list[CompatibilityEntry]:
        rows = await self._session.scalars(
            select(PowerBankCompatibilityRow)
            .where(PowerBankCompatibilityRow.operator_id == operator_id)
            .order_by(PowerBankCompatibilityRow.id)
        )
        return [_entry(row) for row in rows]

    async def add_compatibility(
        self, operator_id: int, rule: CompatibilityRule, created_at: datetime
    ) -> CompatibilityEntry:
        row = PowerBankCompatibilityRow(
            operator_id=operator_id,
            brand=rule.brand,
            model=rule.model,
            firmware_min=rule.firmware_min,
            firmware_below=rule.firmware_below,
            created_at=created_at,
        )
        self._session.add(row)
        await self._session.flush()
        return _entry(row)

    async def get_compatibility(self, entry_id: int) -> CompatibilityEntry | None:
        row = await self._session.get(PowerBankCompatibilityRow, entry_id)
        return _entry(row) if row else None

    async def remove_compatibility(self, entry_id: int) -> None:
        await self._session.execute(
            delete(PowerBankCompatibilityRow).where(PowerBankCompatibilityRow.id == entry_id)
        )

    # -- terms -------------------------------------------------------------------------------

    async def terms(self, operator_id: int) -> list[TermsVersion]:
        rows = await self._session.scalars(
            select(PowerBankTermsRow)
            .where(PowerBankTermsRow.operator_id == operator_id)
            .order_by(PowerBankTermsRow.version.desc())
        )
        return [_terms(row) for row in rows]

    async def current_terms(self, operator_id: int) -> TermsVersion | None:
        row = await self._session.scalar(
            select(PowerBankTermsRow)
            .where(PowerBankTermsRow.operator_id == operator_id)
            .order_by(PowerBankTermsRow.version.desc())
            .limit(1)
        )
        return _terms(row) if row else None

    async def add_terms(self, terms: TermsVersion) -> None:
        self._session.add(
            PowerBankTermsRow(
                operator_id=terms.operator_id,
                version=terms.version,
                text=terms.text,
                published_at=terms.published_at,
                published_by=terms.published_by,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise Conflict("version", "another version was published at the same time") from error

    # -- per charge point ----------------------------------------------------------------------

    async def lock(self, charge_point_ids: Sequence[int]) -> None:
        """SELECT … FOR UPDATE in id order on PostgreSQL; SQLite has one writer anyway."""
        if charge_point_ids:
            await self._session.execute(
                select(ChargePointRow.id)
                .where(ChargePointRow.id.in_(charge_point_ids))
                .order_by(ChargePointRow.id)
                .with_for_update()
            )

    async def facility_ids(self, charge_point_ids: Sequence[int]) -> dict[int, str]:
        rows = await self._session.scalars(
            select(PowerBankFacilityIdRow).where(
                PowerBankFacilityIdRow.charge_point_id.in_(charge_point_ids)
            )
        )
        return {row.charge_point_id: row.facility_id for row in rows}

    async def set_facility_id(
        self, charge_point_id: int, facility_id: str, at: datetime, by: str
    ) -> None:
        row = await self._session.get(PowerBankFacilityIdRow, charge_point_id)
        if row is None:
            self._session.add(
                PowerBankFacilityIdRow(
                    charge_point_id=charge_point_id,
                    facility_id=facility_id,
                    updated_at=at,
                    updated_by=by,
                )
            )
        else:
            row.facility_id, row.updated_at, row.updated_by = facility_id, at, by
        await self._session.flush()

    async def active_enrolments(self, charge_point_ids: Sequence[int]) -> dict[int, Enrolment]:
        rows = await self._session.scalars(
            select(PowerBankEnrolmentRow).where(
                PowerBankEnrolmentRow.charge_point_id.in_(charge_point_ids),
                PowerBankEnrolmentRow.ended_at.is_(None),
            )
        )
        return {row.charge_point_id: _enrolment(row) for row in rows}

    async def history(self, charge_point_id: int) -> list[Enrolment]:
        rows = await self._session.scalars(
            select(PowerBankEnrolmentRow)
            .where(PowerBankEnrolmentRow.charge_point_id == charge_point_id)
            .order_by(PowerBankEnrolmentRow.id.desc())
        )
        return [_enrolment(row) for row in rows]

    async def enrol(self, start: EnrolmentStart) -> Enrolment:
        row = PowerBankEnrolmentRow(
            charge_point_id=start.charge_point_id,
            basis=start.basis.value,
            enrolled_at=start.at,
            enrolled_by_user_id=start.by_user_id,
            enrolled_by=start.by,
            terms_version=start.terms_version,
            terms_accepted_at=start.terms_accepted_at,
            facility_id=start.facility_id,
            note=start.note,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise Conflict(
                "charge_point", f"charge point {start.charge_point_id} was enrolled meanwhile"
            ) from error
        return _enrolment(row)

    async def end(
        self, enrolment_id: int, at: datetime, by_user_id: int | None, by: str, reason: str
    ) -> None:
        await self._session.execute(
            update(PowerBankEnrolmentRow)
            .where(PowerBankEnrolmentRow.id == enrolment_id)
            .values(ended_at=at, ended_by_user_id=by_user_id, ended_by=by, end_reason=reason)
        )

    async def opt_outs(self, charge_point_ids: Sequence[int]) -> dict[int, OptOut]:
        rows = await self._session.scalars(
            select(PowerBankOptOutRow).where(
                PowerBankOptOutRow.charge_point_id.in_(charge_point_ids)
            )
        )
        return {
            row.charge_point_id: OptOut(
                row.charge_point_id, row.opted_out_at, row.user_id, row.opted_out_by
            )
            for row in rows
        }

    async def add_opt_out(self, opt_out: OptOut) -> None:
        self._session.add(
            PowerBankOptOutRow(
                charge_point_id=opt_out.charge_point_id,
                opted_out_at=opt_out.at,
                user_id=opt_out.by_user_id,
                opted_out_by=opt_out.by,
            )
        )
        await self._session.flush()

    async def withdraw_opt_out(self, charge_point_id: int) -> None:
        await self._session.execute(
            delete(PowerBankOptOutRow).where(PowerBankOptOutRow.charge_point_id == charge_point_id)
        )

    # -- look-ups for the programme ------------------------------------------------------------

    async def charge_point_ids_at_sites(self, site_ids: Sequence[int]) -> list[int]:
        rows = await self._session.scalars(
            select(ChargePointRow.id)
            .where(ChargePointRow.site_id.in_(site_ids))
            .order_by(ChargePointRow.id)
        )
        return list(rows)

    async def not_enrolled_in_zones(self, operator_id: int, zones: Sequence[str]) -> list[int]:
        open_enrolment = exists().where(
            PowerBankEnrolmentRow.charge_point_id == ChargePointRow.id,
            PowerBankEnrolmentRow.ended_at.is_(None),
        )
        rows = await self._session.scalars(
            select(ChargePointRow.id)
            .join(SiteRow, ChargePointRow.site_id == SiteRow.id)
            .join(TeamRow, SiteRow.team_id == TeamRow.id)
            .where(
                TeamRow.operator_id == operator_id,
                SiteRow.bidding_zone.in_(zones),
                ~open_enrolment,
            )
            .order_by(ChargePointRow.id)
        )
        return list(rows)

    async def enrolled_in_zone(self, bidding_zone: str) -> list[EnrolledPlacement]:
        found = (
            await self._session.execute(
                select(ChargePointRow.id, TeamRow.operator_id, SiteRow.id)
                .join(
                    PowerBankEnrolmentRow,
                    PowerBankEnrolmentRow.charge_point_id == ChargePointRow.id,
                )
                .join(SiteRow, ChargePointRow.site_id == SiteRow.id)
                .join(TeamRow, SiteRow.team_id == TeamRow.id)
                .where(
                    SiteRow.bidding_zone == bidding_zone,
                    PowerBankEnrolmentRow.ended_at.is_(None),
                )
                .order_by(ChargePointRow.id)
            )
        ).all()
        connectors: dict[int, list[int]] = {cp_id: [] for cp_id, _, _ in found}
        if found:
            rows = await self._session.execute(
                select(ConnectorRow.charge_point_id, ConnectorRow.connector_id)
                .where(ConnectorRow.charge_point_id.in_(connectors))
                .order_by(ConnectorRow.charge_point_id, ConnectorRow.connector_id)
            )
            for cp_id, connector_id in rows:
                connectors[cp_id].append(connector_id)
        return [
            EnrolledPlacement(cp_id, operator_id, site_id, tuple(connectors[cp_id]))
            for cp_id, operator_id, site_id in found
        ]


class SqlPowerBankUnitOfWork(SqlUnitOfWork):
    """The foundation's unit of work plus PowerBank's repository, on the same session (so the
    enrolment and its audit entry commit together)."""

    powerbank: PowerBankRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.powerbank = SqlPowerBank(self.session)
        return self

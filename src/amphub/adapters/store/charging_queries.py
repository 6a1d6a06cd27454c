"""Read models for the REST API and the upkeep of the id-tag allow list, in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.charging_rows import (
    clip,
    reading_from_row,
    store_session,
    transaction_record,
)
from amphub.adapters.store.charging_tables import (
    ChargePointStateRow,
    IdTagRow,
    MeterValueRow,
    TransactionQuarantineRow,
    TransactionRow,
)
from amphub.application.charging.ports import ConnectorReading
from amphub.application.charging.queries import (
    BootRecord,
    ChargePointState,
    QuarantinedStop,
    TransactionRecord,
)
from amphub.domain.charging import BootStatus, IdTagEntry, normalise_id_tag


class SqlChargingQueries:
    """Implements :class:`amphub.application.charging.queries.ChargingQueryStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def _session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return store_session(self._sessions)

    async def charge_point_states(
        self, charge_point_ids: Sequence[int]
    ) -> dict[int, ChargePointState]:
        if not charge_point_ids:
            return {}
        async with self._session() as session:
            rows = await session.scalars(
                select(ChargePointStateRow).where(
                    ChargePointStateRow.charge_point_id.in_(charge_point_ids)
                )
            )
            return {
                row.charge_point_id: ChargePointState(
                    charge_point_id=row.charge_point_id,
                    ocpp_version=row.ocpp_version,
                    last_boot=None
                    if row.boot_at is None or row.boot_status is None
                    else BootRecord(
                        vendor=row.vendor,
                        model=row.model,
                        serial_number=row.serial_number,
                        firmware_version=row.firmware_version,
                        status=BootStatus(row.boot_status),
                        at=row.boot_at,
                    ),
                    last_heartbeat_at=row.last_heartbeat_at,
                    last_connected_at=row.last_connected_at,
                    last_disconnected_at=row.last_disconnected_at,
                )
                for row in rows
            }

    async def transactions(
        self, charge_point_ids: Sequence[int], limit: int, after_id: int
    ) -> list[TransactionRecord]:
        if not charge_point_ids:
            return []
        async with self._session() as session:
            rows = await session.scalars(
                select(TransactionRow)
                .where(
                    TransactionRow.charge_point_id.in_(charge_point_ids),
                    TransactionRow.id > after_id,
                )
                .order_by(TransactionRow.id)
                .limit(limit)
            )
            return [transaction_record(row) for row in rows]

    async def transaction(self, transaction_id: int) -> TransactionRecord | None:
        async with self._session() as session:
            row = await session.get(TransactionRow, transaction_id)
            return None if row is None else transaction_record(row)

    async def readings_of_transaction(
        self, transaction_id: int, limit: int
    ) -> list[ConnectorReading]:
        async with self._session() as session:
            rows = await session.scalars(
                select(MeterValueRow)
                .where(MeterValueRow.transaction_id == transaction_id)
                .order_by(MeterValueRow.at, MeterValueRow.id)
                .limit(limit)
            )
            return [
                ConnectorReading(row.connector_id, reading_from_row(row), row.transaction_id)
                for row in rows
            ]

    async def quarantined_stops(
        self, charge_point_id: int, include_resolved: bool
    ) -> list[QuarantinedStop]:
        query = select(TransactionQuarantineRow).where(
            TransactionQuarantineRow.charge_point_id == charge_point_id
        )
        if not include_resolved:
            query = query.where(TransactionQuarantineRow.resolved_at.is_(None))
        async with self._session() as session:
            rows = await session.scalars(
                query.order_by(TransactionQuarantineRow.stopped_at, TransactionQuarantineRow.id)
            )
            return [quarantined_stop(row) for row in rows]

    async def quarantined_stop(self, stop_id: int) -> QuarantinedStop | None:
        async with self._session() as session:
            row = await session.get(TransactionQuarantineRow, stop_id)
            return None if row is None else quarantined_stop(row)


def quarantined_stop(row: TransactionQuarantineRow) -> QuarantinedStop:
    return QuarantinedStop(
        stop_id=row.id,
        charge_point_id=row.charge_point_id,
        transaction_ref=row.transaction_ref,
        stopped_at=row.stopped_at,
        meter_stop_wh=row.meter_stop_wh,
        reason=row.reason,
        id_tag=row.id_tag,
        received_at=row.received_at,
        resolved_at=row.resolved_at,
        note=row.note,
    )


class SqlIdTags:
    """A team's id-tag allow list on one session (the unit of work's, so that a change and
    its audit entry commit together)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, entry: IdTagEntry, at: datetime) -> None:
        tag = normalise_id_tag(entry.id_tag)
        row = await self._session.scalar(
            select(IdTagRow).where(IdTagRow.team_id == entry.team_id, IdTagRow.id_tag == tag)
        )
        if row is None:
            row = IdTagRow(team_id=entry.team_id, id_tag=tag, created_at=at)
            self._session.add(row)
        row.blocked = entry.blocked
        row.expires_at = entry.expires_at
        row.label = clip(entry.label, 100)
        await self._session.flush()

    async def remove(self, team_id: int, id_tag: str) -> bool:
        result = await self._session.execute(
            delete(IdTagRow).where(
                IdTagRow.team_id == team_id, IdTagRow.id_tag == normalise_id_tag(id_tag)
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def get(self, team_id: int, id_tag: str) -> IdTagEntry | None:
        row = await self._session.scalar(
            select(IdTagRow).where(
                IdTagRow.team_id == team_id, IdTagRow.id_tag == normalise_id_tag(id_tag)
            )
        )
        return None if row is None else _id_tag(row)

    async def list_of_team(self, team_id: int) -> list[IdTagEntry]:
        rows = await self._session.scalars(
            select(IdTagRow).where(IdTagRow.team_id == team_id).order_by(IdTagRow.id_tag)
        )
        return [_id_tag(row) for row in rows]


def _id_tag(row: IdTagRow) -> IdTagEntry:
    return IdTagEntry(row.team_id, row.id_tag, row.blocked, row.expires_at, row.label)


class SqlIdTagAllowList:
    """Implements :class:`amphub.application.charging.ports.IdTagAllowList`, one
    transaction per call (on SQLite behind the charging store's writer lock)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._write_lock = asyncio.Lock()

    def _session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return store_session(self._sessions, write_lock=self._write_lock)

    async def put_id_tag(self, entry: IdTagEntry, at: datetime) -> None:
        async with self._session() as session:
            await SqlIdTags(session).put(entry, at)
            await session.commit()

    async def remove_id_tag(self, team_id: int, id_tag: str) -> bool:
        async with self._session() as session:
            removed = await SqlIdTags(session).remove(team_id, id_tag)
            await session.commit()
            return removed

    async def list_id_tags(self, team_id: int) -> list[IdTagEntry]:
        async with self._session() as session:
            return await SqlIdTags(session).list_of_team(team_id)

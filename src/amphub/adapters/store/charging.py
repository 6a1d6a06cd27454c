"""SQL repositories of the charging use cases, on SQLite and PostgreSQL.

:class:`SqlChargingStore` implements the directory and the transaction store of
:mod:`amphub.application.charging`, and inherits the read models of
:mod:`.charging_queries` (where the allow list's upkeep lives too). Each method is one
database transaction, committed before it returns (meter values in a group commit, see
:mod:`.charging_writer`). Whatever goes wrong on the way to the database surfaces as
:class:`StoreUnavailable`: the OCPP gateway answers InternalError and the charger retries
the message later, which the natural keys make harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.charging_queries import SqlChargingQueries, quarantined_stop
from amphub.adapters.store.charging_rows import (
    clip,
    insert_new,
    reading_values,
    store_session,
    summary_from_json,
    summary_to_json,
    upsert,
)
from amphub.adapters.store.charging_tables import (
    ChargePointStateRow,
    ConnectorStatusRow,
    IdTagRow,
    MeterValueRow,
    SecurityEventRow,
    TransactionEventRow,
    TransactionQuarantineRow,
    TransactionRow,
)
from amphub.adapters.store.charging_writer import MeterValuesWrite, MeterValuesWriter
from amphub.adapters.store.tables import ChargePointRow, ConnectorRow, SiteRow, TeamRow
from amphub.application.charging.ports import (
    ActiveTransaction,
    BootReport,
    ChargePointRecord,
    ConnectorRecord,
    EventResult,
    SecurityEvent,
    StartResult,
    StatusReport,
    StopResult,
)
from amphub.application.charging.queries import QuarantinedStop
from amphub.domain.charging import (
    AuthorizationStatus,
    BootStatus,
    IdTagEntry,
    MeterReading,
    StartTransaction,
    StopOutcome,
    StopTransaction,
    TransactionEvent,
    merge_event,
    normalise_id_tag,
)

V16 = "1.6"
V201 = "2.0.1"
_EMPTY_STATE: dict[str, Any] = {
    "connected": False, "boot_reason": "", "vendor": "", "model": "", "serial_number": "",
    "firmware_version": "", "iccid": "", "imsi": "", "meter_type": "", "meter_serial_number": "",
}  # fmt: skip


def _active(row: TransactionRow) -> ActiveTransaction:
    return ActiveTransaction(
        row.id, row.charge_point_id, row.connector_id, row.transaction_ref or ""
    )


class SqlChargingStore(SqlChargingQueries):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)
        self._write_lock = asyncio.Lock()
        self._meter_values = MeterValuesWriter(self._writing, self._write_meter_values)
        self._transaction_ids: dict[tuple[int, str], int] = {}
        """(charge point, charger's transaction reference) → id: never changes once found."""

    def _writing(self) -> AbstractAsyncContextManager[AsyncSession]:
        return store_session(self._sessions, write_lock=self._write_lock)

    @staticmethod
    async def _state(session: AsyncSession, charge_point_id: int) -> ChargePointStateRow:
        row = await session.get(ChargePointStateRow, charge_point_id)
        if row is None:
            row = ChargePointStateRow(charge_point_id=charge_point_id, **_EMPTY_STATE)
            session.add(row)
        return row

    async def _store_readings(
        self,
        session: AsyncSession,
        charge_point_id: int,
        connector_id: int,
        transaction_id: int | None,
        readings: Sequence[MeterReading],
        received_at: datetime,
    ) -> None:
        rows = [
            reading_values(charge_point_id, connector_id, transaction_id, reading, received_at)
            for reading in readings
        ]
        keys = ("charge_point_id", "connector_id", "at", "context")
        await insert_new(session, MeterValueRow.__table__, rows, keys)  # type: ignore[arg-type]

    # -- directory ---------------------------------------------------------------------------

    async def find_by_identity(self, identity: str) -> ChargePointRecord | None:
        """One query (the handshake of every charger runs it; a reconnect storm runs it
        thousands of times a minute)."""
        async with self._session() as session:
            rows = (
                await session.execute(
                    select(
                        ChargePointRow.id,
                        ChargePointRow.site_id,
                        SiteRow.team_id,
                        TeamRow.operator_id,
                        ChargePointRow.ocpp_password_hash,
                        ConnectorRow.connector_id,
                        ConnectorRow.phases,
                        ConnectorRow.max_current_a,
                    )
                    .join(SiteRow, ChargePointRow.site_id == SiteRow.id)
                    .join(TeamRow, SiteRow.team_id == TeamRow.id)
                    .outerjoin(ConnectorRow, ConnectorRow.charge_point_id == ChargePointRow.id)
                    .where(ChargePointRow.ocpp_identity == identity)
                    .order_by(ConnectorRow.connector_id)
                )
            ).all()
        if not rows:
            return None
        first = rows[0]
        return ChargePointRecord(
            charge_point_id=first.id,
            identity=identity,
            site_id=first.site_id,
            team_id=first.team_id,
            operator_id=first.operator_id,
            password_hash=first.ocpp_password_hash,
            connectors=tuple(
                ConnectorRecord(row.connector_id, row.phases, row.max_current_a)
                for row in rows
                if row.connector_id is not None
            ),
        )

    # -- charger state -----------------------------------------------------------------------

    async def _upsert_state(self, charge_point_id: int, **values: Any) -> None:
        """One statement, no read: connections and heartbeats come by the thousand."""
        async with self._writing() as session:
            await upsert(
                session,
                ChargePointStateRow.__table__,  # type: ignore[arg-type]
                {**_EMPTY_STATE, "charge_point_id": charge_point_id, **values},
                ("charge_point_id",),
                tuple(values),
            )
            await session.commit()

    async def record_connection(
        self, charge_point_id: int, ocpp_version: str, connected: bool, at: datetime
    ) -> None:
        moment = {"last_connected_at": at} if connected else {"last_disconnected_at": at}
        await self._upsert_state(
            charge_point_id, ocpp_version=ocpp_version, connected=connected, **moment
        )

    async def record_boot(
        self, charge_point_id: int, boot: BootReport, status: BootStatus, at: datetime
    ) -> None:
        """Also overwrites the charge point's brand, model and firmware (SPEC §1)."""
        async with self._writing() as session:
            state = await self._state(session, charge_point_id)
            state.boot_status = status.value
            state.boot_at = at
            state.boot_reason = clip(boot.reason, 40)
            state.vendor = clip(boot.vendor, 50)
            state.model = clip(boot.model, 50)
            state.serial_number = clip(boot.serial_number, 50)
            state.firmware_version = clip(boot.firmware_version, 50)
            state.iccid = clip(boot.iccid, 20)
            state.imsi = clip(boot.imsi, 20)
            state.meter_type = clip(boot.meter_type, 25)
            state.meter_serial_number = clip(boot.meter_serial_number, 25)
            charge_point = await session.get(ChargePointRow, charge_point_id)
            if charge_point is not None:
                charge_point.brand = state.vendor
                charge_point.model = state.model
                charge_point.firmware_version = state.firmware_version
            await session.commit()

    async def record_heartbeat(self, charge_point_id: int, at: datetime) -> None:
        await self._upsert_state(charge_point_id, last_heartbeat_at=at)

    async def record_status(
        self, charge_point_id: int, report: StatusReport, received_at: datetime
    ) -> None:
        """Keeps the newest status per connector; an older one (sent offline) is ignored."""
        async with self._writing() as session:
            row = await session.get(ConnectorStatusRow, (charge_point_id, report.connector_id))
            if row is None:
                row = ConnectorStatusRow(
                    charge_point_id=charge_point_id, connector_id=report.connector_id
                )
                session.add(row)
            elif row.at > report.at:
                return
            row.status = report.status.value
            row.error_code = clip(report.error_code, 50)
            row.info = clip(report.info, 50)
            row.vendor_error_code = clip(report.vendor_error_code, 255)
            row.at = report.at
            row.received_at = received_at
            await session.commit()

    async def record_security_event(
        self, charge_point_id: int, event: SecurityEvent, received_at: datetime
    ) -> None:
        async with self._writing() as session:
            row = {
                "charge_point_id": charge_point_id,
                "kind": clip(event.kind, 50),
                "at": event.at,
                "tech_info": event.tech_info,
                "received_at": received_at,
            }
            table = SecurityEventRow.__table__
            await insert_new(session, table, [row], ("charge_point_id", "kind", "at"))  # type: ignore[arg-type]
            await session.commit()

    # -- id tags -----------------------------------------------------------------------------

    async def find_id_tag(self, team_id: int, id_tag: str) -> IdTagEntry | None:
        async with self._session() as session:
            row = await session.scalar(
                select(IdTagRow).where(
                    IdTagRow.team_id == team_id, IdTagRow.id_tag == normalise_id_tag(id_tag)
                )
            )
            if row is None:
                return None
            return IdTagEntry(row.team_id, row.id_tag, row.blocked, row.expires_at, row.label)

    # -- transactions ------------------------------------------------------------------------

    async def active_transaction_of_tag(
        self, team_id: int, id_tag: str
    ) -> ActiveTransaction | None:
        async with self._session() as session:
            row = await session.scalar(
                select(TransactionRow)
                .join(ChargePointRow, TransactionRow.charge_point_id == ChargePointRow.id)
                .join(SiteRow, ChargePointRow.site_id == SiteRow.id)
                .where(
                    SiteRow.team_id == team_id,
                    TransactionRow.id_tag == normalise_id_tag(id_tag),
                    TransactionRow.stopped_at.is_(None),
                )
                .order_by(TransactionRow.id.desc())
                .limit(1)
            )
            return None if row is None else _active(row)

    async def find_transaction(
        self, charge_point_id: int, transaction_id: int
    ) -> ActiveTransaction | None:
        async with self._session() as session:
            row = await session.get(TransactionRow, transaction_id)
            if row is None or row.charge_point_id != charge_point_id:
                return None
            return _active(row)

    async def start_transaction(
        self,
        charge_point_id: int,
        start: StartTransaction,
        id_tag_status: AuthorizationStatus,
        received_at: datetime,
    ) -> StartResult:
        key = start.idempotency_key()
        async with self._writing() as session:
            existing = await session.scalar(
                select(TransactionRow).where(
                    TransactionRow.charge_point_id == charge_point_id,
                    TransactionRow.start_key == key,
                )
            )
            if existing is not None:
                status = AuthorizationStatus(existing.id_tag_status or id_tag_status)
                return StartResult(existing.id, False, status)
            row = TransactionRow(
                charge_point_id=charge_point_id,
                connector_id=start.connector_id,
                ocpp_version=V16,
                start_key=key,
                id_tag=normalise_id_tag(start.id_tag),
                id_tag_status=id_tag_status.value,
                started_at=start.timestamp,
                meter_start_wh=start.meter_start_wh,
                stop_reason="",
                created_at=received_at,
                updated_at=received_at,
            )
            session.add(row)
            await session.flush()
            row.transaction_ref = str(row.id)
            await session.commit()
            return StartResult(row.id, True, id_tag_status)

    async def stop_transaction(
        self,
        charge_point_id: int,
        stop: StopTransaction,
        readings: Sequence[MeterReading],
        received_at: datetime,
    ) -> StopResult:
        async with self._writing() as session:
            row = None
            if stop.transaction_id.isdigit():
                row = await session.get(TransactionRow, int(stop.transaction_id))
            if row is None or row.charge_point_id != charge_point_id or row.ocpp_version != V16:
                quarantined = {
                    "charge_point_id": charge_point_id,
                    "transaction_ref": clip(stop.transaction_id, 64),
                    "stopped_at": stop.timestamp,
                    "meter_stop_wh": stop.meter_stop_wh,
                    "reason": clip(stop.reason, 40),
                    "id_tag": None if stop.id_tag is None else normalise_id_tag(stop.id_tag),
                    "received_at": received_at,
                    "note": "",
                }
                keys = ("charge_point_id", "transaction_ref", "stopped_at")
                table = TransactionQuarantineRow.__table__
                await insert_new(session, table, [quarantined], keys)  # type: ignore[arg-type]
                await session.commit()
                return StopResult(StopOutcome.QUARANTINED, None, None)
            outcome = StopOutcome.ALREADY_STOPPED
            if row.stopped_at is None:
                outcome = StopOutcome.STOPPED
                row.stopped_at = stop.timestamp
                row.meter_stop_wh = stop.meter_stop_wh
                row.stop_reason = clip(stop.reason, 40)
                row.stop_id_tag = None if stop.id_tag is None else normalise_id_tag(stop.id_tag)
                row.updated_at = received_at
            await self._store_readings(
                session, charge_point_id, row.connector_id, row.id, readings, received_at
            )
            await session.commit()
            return StopResult(outcome, row.id, row.connector_id)

    async def record_transaction_event(
        self,
        charge_point_id: int,
        event: TransactionEvent,
        readings: Sequence[MeterReading],
        id_tag_status: AuthorizationStatus | None,
        received_at: datetime,
    ) -> EventResult:
        async with self._writing() as session:
            row = await session.scalar(
                select(TransactionRow).where(
                    TransactionRow.charge_point_id == charge_point_id,
                    TransactionRow.ocpp_version == V201,
                    TransactionRow.transaction_ref == event.transaction_ref,
                )
            )
            if row is None:
                row = TransactionRow(
                    charge_point_id=charge_point_id,
                    connector_id=event.connector_id or 0,
                    ocpp_version=V201,
                    transaction_ref=event.transaction_ref,
                    started_at=event.timestamp,
                    stop_reason="",
                    created_at=received_at,
                    updated_at=received_at,
                )
                session.add(row)
                await session.flush()
            else:
                seen = await session.scalar(
                    select(TransactionEventRow.id).where(
                        TransactionEventRow.transaction_id == row.id,
                        TransactionEventRow.seq_no == event.seq_no,
                    )
                )
                if seen is not None and row.summary is not None:
                    return EventResult(row.id, True, summary_from_json(row.summary), id_tag_status)
            session.add(
                TransactionEventRow(
                    transaction_id=row.id,
                    seq_no=event.seq_no,
                    event_type=event.event_type.value,
                    at=event.timestamp,
                    trigger_reason=clip(event.trigger_reason, 40),
                    offline=event.offline,
                    charging_state=event.charging_state.value if event.charging_state else None,
                    id_tag=None if event.id_tag is None else normalise_id_tag(event.id_tag),
                    energy_wh=event.energy_wh,
                    stopped_reason=clip(event.stopped_reason, 40),
                    received_at=received_at,
                )
            )
            previous = None if row.summary is None else summary_from_json(row.summary)
            summary = merge_event(previous, event)
            row.summary = summary_to_json(summary)
            row.connector_id = summary.connector_id.value if summary.connector_id else 0
            row.id_tag = None if summary.id_tag is None else normalise_id_tag(summary.id_tag.value)
            if id_tag_status is not None and row.id_tag_status is None:
                row.id_tag_status = id_tag_status.value
            row.started_at = summary.started_at
            row.stopped_at = summary.ended_at
            row.stop_reason = clip(summary.ended.value, 40) if summary.ended else ""
            row.meter_start_wh = summary.meter_start_wh.value if summary.meter_start_wh else None
            last_wh = summary.meter_last_wh.value if summary.meter_last_wh else None
            row.meter_stop_wh = None if summary.ended is None else last_wh
            row.updated_at = received_at
            await self._store_readings(
                session, charge_point_id, row.connector_id, row.id, readings, received_at
            )
            await session.commit()
            return EventResult(row.id, False, summary, id_tag_status)

    async def record_meter_values(
        self,
        charge_point_id: int,
        connector_id: int,
        transaction_ref: str | None,
        readings: Sequence[MeterReading],
        received_at: datetime,
    ) -> int | None:
        """Committed in a batch with other chargers' meter values (see charging_writer)."""
        write = MeterValuesWrite(
            charge_point_id, connector_id, transaction_ref, readings, received_at
        )
        return await self._meter_values.write(write)

    async def _write_meter_values(
        self, session: AsyncSession, batch: Sequence[MeterValuesWrite]
    ) -> list[int | None]:
        found: dict[tuple[int, str], int | None] = {}
        for write in batch:
            ref = write.transaction_ref
            key = (write.charge_point_id, ref or "")
            if ref is None or key in found:
                continue
            found[key] = self._transaction_ids.get(key) or await session.scalar(
                select(TransactionRow.id)
                .where(
                    TransactionRow.charge_point_id == write.charge_point_id,
                    TransactionRow.transaction_ref == ref,
                )
                .order_by(TransactionRow.id.desc())
                .limit(1)
            )
        rows: list[dict[str, Any]] = []
        ids: list[int | None] = []
        for write in batch:
            key = (write.charge_point_id, write.transaction_ref or "")
            transaction_id = found.get(key) if write.transaction_ref is not None else None
            if transaction_id is not None and len(self._transaction_ids) < 100_000:
                self._transaction_ids[key] = transaction_id
            ids.append(transaction_id)
            rows.extend(
                reading_values(
                    write.charge_point_id,
                    write.connector_id,
                    transaction_id,
                    reading,
                    write.received_at,
                )
                for reading in write.readings
            )
        keys = ("charge_point_id", "connector_id", "at", "context")
        await insert_new(session, MeterValueRow.__table__, rows, keys)  # type: ignore[arg-type]
        return ids

    async def resolve_quarantined_stop(
        self, stop_id: int, note: str, at: datetime
    ) -> QuarantinedStop | None:
        async with self._writing() as session:
            row = await session.get(TransactionQuarantineRow, stop_id)
            if row is None or row.resolved_at is not None:
                return None
            row.resolved_at = at
            row.note = note
            await session.commit()
            return quarantined_stop(row)

    async def close(self) -> None:
        """Stop the meter values writer (waiting callers fail with StoreUnavailable)."""
        await self._meter_values.close()

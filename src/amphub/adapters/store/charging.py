"""SQL repositories of the charging use cases, on SQLite and PostgreSQL.

:class:`SqlChargingStore` implements the directory, the transaction store, the id-tag allow
list and the read models of :mod:`amphub.application.charging`. Each method is one database
transaction, committed before it returns. Whatever goes wrong on the way to the database
surfaces as :class:`StoreUnavailable`: the OCPP gateway answers InternalError and the
charger retries the message later, which the natural keys make harmless.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.charging_rows import (
    reading_from_row,
    reading_values,
    summary_from_json,
    summary_to_json,
    transaction_record,
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
from amphub.adapters.store.tables import ChargePointRow, ConnectorRow, SiteRow, TeamRow
from amphub.application.charging.errors import StoreUnavailable
from amphub.application.charging.ports import (
    ActiveTransaction,
    BootReport,
    ChargePointRecord,
    ConnectorReading,
    ConnectorRecord,
    EventResult,
    SecurityEvent,
    StartResult,
    StatusReport,
    StopResult,
)
from amphub.application.charging.queries import BootRecord, ChargePointState, TransactionRecord
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


def _clip(text: str, length: int) -> str:
    return text[:length]


def _active(row: TransactionRow) -> ActiveTransaction:
    return ActiveTransaction(
        row.id, row.charge_point_id, row.connector_id, row.transaction_ref or ""
    )


class SqlChargingStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions() as session:
                yield session
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error

    @staticmethod
    async def _insert_new(
        session: AsyncSession, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]
    ) -> None:
        """Insert rows, skipping those whose natural key is stored already (a retry)."""
        if not rows:
            return
        dialect = session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        await session.execute(insert(table).on_conflict_do_nothing(index_elements=keys), rows)

    @staticmethod
    async def _state(session: AsyncSession, charge_point_id: int) -> ChargePointStateRow:
        row = await session.get(ChargePointStateRow, charge_point_id)
        if row is None:
            row = ChargePointStateRow(
                charge_point_id=charge_point_id, connected=False, boot_reason="", vendor="",
                model="", serial_number="", firmware_version="", iccid="", imsi="",
                meter_type="", meter_serial_number="",
            )  # fmt: skip
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
        await self._insert_new(session, MeterValueRow.__table__, rows, keys)  # type: ignore[arg-type]

    # -- directory ---------------------------------------------------------------------------

    async def find_by_identity(self, identity: str) -> ChargePointRecord | None:
        async with self._session() as session:
            found = (
                await session.execute(
                    select(ChargePointRow, SiteRow.team_id, TeamRow.operator_id)
                    .join(SiteRow, ChargePointRow.site_id == SiteRow.id)
                    .join(TeamRow, SiteRow.team_id == TeamRow.id)
                    .where(ChargePointRow.ocpp_identity == identity)
                )
            ).first()
            if found is None:
                return None
            row, team_id, operator_id = found
            connectors = await session.scalars(
                select(ConnectorRow)
                .where(ConnectorRow.charge_point_id == row.id)
                .order_by(ConnectorRow.connector_id)
            )
            return ChargePointRecord(
                charge_point_id=row.id,
                identity=row.ocpp_identity,
                site_id=row.site_id,
                team_id=team_id,
                operator_id=operator_id,
                password_hash=row.ocpp_password_hash,
                connectors=tuple(
                    ConnectorRecord(c.connector_id, c.phases, c.max_current_a) for c in connectors
                ),
            )

    # -- charger state -----------------------------------------------------------------------

    async def record_connection(
        self, charge_point_id: int, ocpp_version: str, connected: bool, at: datetime
    ) -> None:
        async with self._session() as session:
            state = await self._state(session, charge_point_id)
            state.ocpp_version = ocpp_version
            state.connected = connected
            if connected:
                state.last_connected_at = at
            else:
                state.last_disconnected_at = at
            await session.commit()

    async def record_boot(
        self, charge_point_id: int, boot: BootReport, status: BootStatus, at: datetime
    ) -> None:
        """Also overwrites the charge point's brand, model and firmware (SPEC §1)."""
        async with self._session() as session:
            state = await self._state(session, charge_point_id)
            state.boot_status = status.value
            state.boot_at = at
            state.boot_reason = _clip(boot.reason, 40)
            state.vendor = _clip(boot.vendor, 50)
            state.model = _clip(boot.model, 50)
            state.serial_number = _clip(boot.serial_number, 50)
            state.firmware_version = _clip(boot.firmware_version, 50)
            state.iccid = _clip(boot.iccid, 20)
            state.imsi = _clip(boot.imsi, 20)
            state.meter_type = _clip(boot.meter_type, 25)
            state.meter_serial_number = _clip(boot.meter_serial_number, 25)
            charge_point = await session.get(ChargePointRow, charge_point_id)
            if charge_point is not None:
                charge_point.brand = state.vendor
                charge_point.model = state.model
                charge_point.firmware_version = state.firmware_version
            await session.commit()

    async def record_heartbeat(self, charge_point_id: int, at: datetime) -> None:
        async with self._session() as session:
            state = await self._state(session, charge_point_id)
            state.last_heartbeat_at = at
            await session.commit()

    async def record_status(
        self, charge_point_id: int, report: StatusReport, received_at: datetime
    ) -> None:
        """Keeps the newest status per connector; an older one (sent offline) is ignored."""
        async with self._session() as session:
            row = await session.get(ConnectorStatusRow, (charge_point_id, report.connector_id))
            if row is None:
                row = ConnectorStatusRow(
                    charge_point_id=charge_point_id, connector_id=report.connector_id
                )
                session.add(row)
            elif row.at > report.at:
                return
            row.status = report.status.value
            row.error_code = _clip(report.error_code, 50)
            row.info = _clip(report.info, 50)
            row.vendor_error_code = _clip(report.vendor_error_code, 255)
            row.at = report.at
            row.received_at = received_at
            await session.commit()

    async def record_security_event(
        self, charge_point_id: int, event: SecurityEvent, received_at: datetime
    ) -> None:
        async with self._session() as session:
            row = {
                "charge_point_id": charge_point_id,
                "kind": _clip(event.kind, 50),
                "at": event.at,
                "tech_info": event.tech_info,
                "received_at": received_at,
            }
            table = SecurityEventRow.__table__
            await self._insert_new(session, table, [row], ("charge_point_id", "kind", "at"))  # type: ignore[arg-type]
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

    async def put_id_tag(self, entry: IdTagEntry, at: datetime) -> None:
        tag = normalise_id_tag(entry.id_tag)
        async with self._session() as session:
            row = await session.scalar(
                select(IdTagRow).where(IdTagRow.team_id == entry.team_id, IdTagRow.id_tag == tag)
            )
            if row is None:
                row = IdTagRow(team_id=entry.team_id, id_tag=tag, created_at=at)
                session.add(row)
            row.blocked = entry.blocked
            row.expires_at = entry.expires_at
            row.label = _clip(entry.label, 100)
            await session.commit()

    async def remove_id_tag(self, team_id: int, id_tag: str) -> bool:
        async with self._session() as session:
            result = await session.execute(
                delete(IdTagRow).where(
                    IdTagRow.team_id == team_id, IdTagRow.id_tag == normalise_id_tag(id_tag)
                )
            )
            await session.commit()
            return bool(getattr(result, "rowcount", 0))

    async def list_id_tags(self, team_id: int) -> list[IdTagEntry]:
        async with self._session() as session:
            rows = await session.scalars(
                select(IdTagRow).where(IdTagRow.team_id == team_id).order_by(IdTagRow.id_tag)
            )
            return [IdTagEntry(r.team_id, r.id_tag, r.blocked, r.expires_at, r.label) for r in rows]

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
        async with self._session() as session:
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
        async with self._session() as session:
            row = None
            if stop.transaction_id.isdigit():
                row = await session.get(TransactionRow, int(stop.transaction_id))
            if row is None or row.charge_point_id != charge_point_id or row.ocpp_version != V16:
                quarantined = {
                    "charge_point_id": charge_point_id,
                    "transaction_ref": _clip(stop.transaction_id, 64),
                    "stopped_at": stop.timestamp,
                    "meter_stop_wh": stop.meter_stop_wh,
                    "reason": _clip(stop.reason, 40),
                    "id_tag": None if stop.id_tag is None else normalise_id_tag(stop.id_tag),
                    "received_at": received_at,
                    "note": "",
                }
                keys = ("charge_point_id", "transaction_ref", "stopped_at")
                table = TransactionQuarantineRow.__table__
                await self._insert_new(session, table, [quarantined], keys)  # type: ignore[arg-type]
                await session.commit()
                return StopResult(StopOutcome.QUARANTINED, None, None)
            outcome = StopOutcome.ALREADY_STOPPED
            if row.stopped_at is None:
                outcome = StopOutcome.STOPPED
                row.stopped_at = stop.timestamp
                row.meter_stop_wh = stop.meter_stop_wh
                row.stop_reason = _clip(stop.reason, 40)
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
        async with self._session() as session:
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
                    trigger_reason=_clip(event.trigger_reason, 40),
                    offline=event.offline,
                    charging_state=event.charging_state.value if event.charging_state else None,
                    id_tag=None if event.id_tag is None else normalise_id_tag(event.id_tag),
                    energy_wh=event.energy_wh,
                    stopped_reason=_clip(event.stopped_reason, 40),
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
            row.stop_reason = _clip(summary.ended.value, 40) if summary.ended else ""
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
        async with self._session() as session:
            transaction_id = None
            if transaction_ref is not None:
                transaction_id = await session.scalar(
                    select(TransactionRow.id)
                    .where(
                        TransactionRow.charge_point_id == charge_point_id,
                        TransactionRow.transaction_ref == transaction_ref,
                    )
                    .order_by(TransactionRow.id.desc())
                    .limit(1)
                )
            await self._store_readings(
                session, charge_point_id, connector_id, transaction_id, readings, received_at
            )
            await session.commit()
            return transaction_id

    # -- read models -------------------------------------------------------------------------

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

"""Helpers of the charging repositories: the session that turns database trouble into
StoreUnavailable, insert-unless-stored, and conversions between rows and domain values."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.charging_tables import MeterValueRow, TransactionRow
from amphub.application.charging.errors import StoreUnavailable
from amphub.application.charging.queries import TransactionRecord
from amphub.domain.charging import (
    AuthorizationStatus,
    ConnectorStatus,
    EventKey,
    Keyed,
    MeterReading,
    TransactionSummary,
)
from amphub.domain.units import PhaseCurrents

T = TypeVar("T")


@asynccontextmanager
async def store_session(
    sessions: async_sessionmaker[AsyncSession], *, write_lock: asyncio.Lock | None = None
) -> AsyncIterator[AsyncSession]:
    """A session; any failure on the way to the database becomes StoreUnavailable.

    A writing session (``write_lock`` given) on SQLite waits for the lock, then starts with
    ``BEGIN IMMEDIATE``. SQLite has one writer at a time: queueing writers here, in
    asyncio, keeps them from holding pooled connections while they wait (readers, such as
    the handshake's lookup, would starve), and taking the write lock first keeps a
    deferred transaction from reading under a snapshot and then failing at once with
    "database is locked" when it wants to write. PostgreSQL needs neither.
    """
    try:
        async with contextlib.AsyncExitStack() as stack:
            session = await stack.enter_async_context(sessions())
            if write_lock is not None and session.get_bind().dialect.name == "sqlite":
                await stack.enter_async_context(write_lock)
                await session.execute(text("BEGIN IMMEDIATE"))
            yield session
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise StoreUnavailable(f"{type(error).__name__}: {error}") from error


async def insert_new(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert rows, skipping those whose natural key is stored already (a retry)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    await session.execute(insert(table).on_conflict_do_nothing(index_elements=keys), rows)


async def upsert(
    session: AsyncSession,
    table: Table,
    values: dict[str, Any],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update ``update`` columns of the row with the same ``keys``."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(table).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    )


def clip(text: str, length: int) -> str:
    return text[:length]


def reading_values(
    charge_point_id: int,
    connector_id: int,
    transaction_id: int | None,
    reading: MeterReading,
    received_at: datetime,
) -> dict[str, Any]:
    current = reading.current_a
    return {
        "charge_point_id": charge_point_id,
        "connector_id": connector_id,
        "transaction_id": transaction_id,
        "at": reading.at,
        "context": reading.context[:60],
        "current_l1_a": None if current is None else current.l1_a,
        "current_l2_a": None if current is None else current.l2_a,
        "current_l3_a": None if current is None else current.l3_a,
        "current_unphased_a": reading.current_unphased_a,
        "offered_a": reading.offered_a,
        "power_w": reading.power_w,
        "energy_wh": reading.energy_wh,
        "voltage_v": reading.voltage_v,
        "soc_percent": reading.soc_percent,
        "received_at": received_at,
    }


def reading_from_row(row: MeterValueRow) -> MeterReading:
    phases = (row.current_l1_a, row.current_l2_a, row.current_l3_a)
    return MeterReading(
        at=row.at,
        context=row.context,
        current_a=None
        if all(value is None for value in phases)
        else PhaseCurrents(*(value or 0.0 for value in phases)),
        current_unphased_a=row.current_unphased_a,
        offered_a=row.offered_a,
        power_w=row.power_w,
        energy_wh=row.energy_wh,
        voltage_v=row.voltage_v,
        soc_percent=row.soc_percent,
    )


def transaction_record(row: TransactionRow) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=row.id,
        charge_point_id=row.charge_point_id,
        connector_id=row.connector_id,
        transaction_ref=row.transaction_ref or str(row.id),
        id_tag=row.id_tag,
        id_tag_status=None if row.id_tag_status is None else AuthorizationStatus(row.id_tag_status),
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        meter_start_wh=row.meter_start_wh,
        meter_stop_wh=row.meter_stop_wh,
        stop_reason=row.stop_reason,
    )


# -- the 2.0.1 fold as JSON -------------------------------------------------------------------


def _key_json(key: EventKey) -> list[Any]:
    return [key[0].isoformat(), key[1]]


def _key_from(raw: list[Any]) -> EventKey:
    return (datetime.fromisoformat(raw[0]), int(raw[1]))


def _keyed_json(keyed: Keyed[Any] | None) -> dict[str, Any] | None:
    if keyed is None:
        return None
    value = keyed.value.value if isinstance(keyed.value, ConnectorStatus) else keyed.value
    return {"key": _key_json(keyed.key), "value": value}


def _keyed_from(raw: dict[str, Any] | None, convert: Callable[[Any], T]) -> Keyed[T] | None:
    if raw is None:
        return None
    return Keyed(_key_from(raw["key"]), convert(raw["value"]))


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "connector_id": int,
    "id_tag": str,
    "charging_state": ConnectorStatus,
    "meter_start_wh": float,
    "meter_last_wh": float,
    "remote_start_id": int,
    "ended": str,
}


def summary_to_json(summary: TransactionSummary) -> dict[str, Any]:
    data: dict[str, Any] = {"first": _key_json(summary.first), "last": _key_json(summary.last)}
    for name in _FIELDS:
        data[name] = _keyed_json(getattr(summary, name))
    return data


def summary_from_json(data: dict[str, Any]) -> TransactionSummary:
    fields = {name: _keyed_from(data.get(name), convert) for name, convert in _FIELDS.items()}
    return TransactionSummary(
        first=_key_from(data["first"]), last=_key_from(data["last"]), **fields
    )

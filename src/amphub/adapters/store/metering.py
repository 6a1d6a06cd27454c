"""The metering ports in SQL: the meter directory ingestion looks serials up in, and the
recorder that persists accepted readings (raw + per-minute aggregates) and status changes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.metering_tables import (
    MeterMinuteRow,
    MeterReadingRow,
    MeterRow,
    MeterStatusEventRow,
)
from amphub.application.metering import AcceptedReading, MeterStatusEvent
from amphub.domain.metering import MeterConfig, MeterStatus, MeterTransport

RAW_RETENTION = timedelta(hours=48)
MINUTE_RETENTION = timedelta(days=400)
PRUNE_EVERY = timedelta(minutes=10)


def _config(row: MeterRow) -> MeterConfig:
    return MeterConfig(
        meter_id=row.id,
        site_id=row.site_id,
        serial=row.serial,
        main_fuse_a=row.main_fuse_a,
        transport=MeterTransport(row.transport),
        timeout=timedelta(seconds=row.timeout_s),
        frozen_after_n=row.frozen_after_n,
        status=MeterStatus(row.status),
    )


class SqlMeterDirectory:
    """Implements ``MeterDirectory`` and gives the HTTP route the PIN hash to check."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def find_by_serial(self, serial: str) -> MeterConfig | None:
        async with self._sessions() as session:
            row = await session.scalar(select(MeterRow).where(MeterRow.serial == serial))
            return _config(row) if row else None

    async def list_meters(self) -> Sequence[MeterConfig]:
        async with self._sessions() as session:
            return [_config(row) for row in await session.scalars(select(MeterRow))]

    async def pin_hash(self, serial: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(select(MeterRow.pin_hash).where(MeterRow.serial == serial))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MINUTE = timedelta(minutes=1)


_RAW = MeterReadingRow.metadata.tables[MeterReadingRow.__tablename__]
_MINUTES = MeterMinuteRow.metadata.tables[MeterMinuteRow.__tablename__]
_INSERT_RAW = insert(_RAW)
_METERS = MeterRow.metadata.tables[MeterRow.__tablename__]
_INSERT_EVENT = insert(MeterStatusEventRow.metadata.tables[MeterStatusEventRow.__tablename__])
_UPDATE_STATUS = (
    update(_METERS)
    .where(_METERS.c.id == bindparam("meter"))
    .values(status=bindparam("new_status"), status_since=bindparam("since"))
)


def _raw_row(item: AcceptedReading) -> dict[str, Any]:
    reading = item.reading
    currents = reading.currents_a
    voltages = reading.voltages_v
    return {
        "meter_id": item.meter_id, "measured_at": reading.measured_at,
        "received_at": item.received_at,
        "l1_a": currents.l1_a, "l2_a": currents.l2_a, "l3_a": currents.l3_a,
        "l1_v": voltages.l1_v if voltages else None,
        "l2_v": voltages.l2_v if voltages else None,
        "l3_v": voltages.l3_v if voltages else None,
        "power_w": reading.power_w, "energy_import_wh": reading.energy_import_wh,
        "energy_export_wh": reading.energy_export_wh,
    }  # fmt: skip


class SqlReadingRecorder:
    """Implements ``ReadingRecorder``: one transaction per batch.

    A batch is two statements, each executed once with all its rows (executemany): the raw
    readings, and the upsert of the per-minute aggregates. Through the ORM, a row object per
    reading and an upsert statement built and compiled per meter and minute cost more than
    the HTTP push that brought the reading in.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._last_prune: datetime | None = None

    async def record_readings(self, readings: Sequence[AcceptedReading]) -> None:
        if not readings:
            return
        async with self._sessions() as session, session.begin():
            connection = await session.connection()
            await connection.execute(_INSERT_RAW, [_raw_row(item) for item in readings])
            await connection.execute(
                _minute_upsert(connection.dialect.name), _minute_aggregates(readings)
            )
            newest = max(item.received_at for item in readings)
            if self._last_prune is None or newest - self._last_prune >= PRUNE_EVERY:
                await connection.execute(
                    delete(MeterReadingRow).where(
                        MeterReadingRow.received_at < newest - RAW_RETENTION
                    )
                )
                await connection.execute(
                    delete(MeterMinuteRow).where(MeterMinuteRow.minute < newest - MINUTE_RETENTION)
                )
                self._last_prune = newest

    async def record_status_events(self, events: Sequence[MeterStatusEvent]) -> None:
        """The transitions, and each meter's status as of its last one (in order: the last
        row of a meter's updates wins)."""
        if not events:
            return
        async with self._sessions() as session, session.begin():
            connection = await session.connection()
            await connection.execute(
                _INSERT_EVENT,
                [
                    {
                        "meter_id": event.meter_id,
                        "from_status": event.transition.from_status.value,
                        "to_status": event.transition.to_status.value,
                        "at": event.transition.at,
                    }
                    for event in events
                ],
            )
            await connection.execute(
                _UPDATE_STATUS,
                [
                    {
                        "meter": event.meter_id,
                        "new_status": event.transition.to_status.value,
                        "since": event.transition.at,
                    }
                    for event in events
                ],
            )


@dataclass(slots=True)
class _Minute:
    """One meter's readings in one minute, folded."""

    count: int
    sum_l1_a: float
    sum_l2_a: float
    sum_l3_a: float
    min_l1_a: float
    min_l2_a: float
    min_l3_a: float
    max_l1_a: float
    max_l2_a: float
    max_l3_a: float
    energy_import_wh: float | None
    energy_export_wh: float | None

    def row(self, meter_id: int, minute: datetime) -> dict[str, Any]:
        return {
            "meter_id": meter_id, "minute": minute, "count": self.count,
            "sum_l1_a": self.sum_l1_a, "sum_l2_a": self.sum_l2_a, "sum_l3_a": self.sum_l3_a,
            "min_l1_a": self.min_l1_a, "min_l2_a": self.min_l2_a, "min_l3_a": self.min_l3_a,
            "max_l1_a": self.max_l1_a, "max_l2_a": self.max_l2_a, "max_l3_a": self.max_l3_a,
            "energy_import_wh": self.energy_import_wh, "energy_export_wh": self.energy_export_wh,
        }  # fmt: skip


def _minute_aggregates(readings: Sequence[AcceptedReading]) -> list[dict[str, Any]]:
    # Minutes as whole minutes since the epoch (timedelta // timedelta is exact), and plain
    # attributes: every reading passes here, and datetime.replace and f-string keys per
    # reading cost more than the rest of the batch's Python work together.
    groups: dict[tuple[int, int], _Minute] = {}
    for item in sorted(readings, key=lambda r: r.reading.measured_at):
        reading = item.reading
        key = (item.meter_id, (reading.measured_at - _EPOCH) // _ONE_MINUTE)
        l1, l2, l3 = reading.currents_a.as_tuple()
        agg = groups.get(key)
        if agg is None:
            groups[key] = _Minute(
                1, l1, l2, l3, l1, l2, l3, l1, l2, l3,
                reading.energy_import_wh, reading.energy_export_wh,
            )  # fmt: skip
            continue
        agg.count += 1
        agg.sum_l1_a += l1
        agg.sum_l2_a += l2
        agg.sum_l3_a += l3
        agg.min_l1_a = min(agg.min_l1_a, l1)
        agg.min_l2_a = min(agg.min_l2_a, l2)
        agg.min_l3_a = min(agg.min_l3_a, l3)
        agg.max_l1_a = max(agg.max_l1_a, l1)
        agg.max_l2_a = max(agg.max_l2_a, l2)
        agg.max_l3_a = max(agg.max_l3_a, l3)
        if reading.energy_import_wh is not None:
            agg.energy_import_wh = reading.energy_import_wh
        if reading.energy_export_wh is not None:
            agg.energy_export_wh = reading.energy_export_wh
    return [
        agg.row(meter_id, _EPOCH + minute * _ONE_MINUTE)
        for (meter_id, minute), agg in groups.items()
    ]


@functools.cache
def _minute_upsert(dialect: str) -> Any:
    """Merge into the minute's row: sums and counts add, minima and maxima fold, the energy
    counters keep the latest known value. Built once per dialect, executed with one parameter
    set per meter and minute."""
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = upsert(_MINUTES)
    table = _MINUTES.c
    excluded = statement.excluded
    merged: dict[str, Any] = {"count": table.count + excluded.count}
    for phase in ("l1", "l2", "l3"):
        merged[f"sum_{phase}_a"] = table[f"sum_{phase}_a"] + excluded[f"sum_{phase}_a"]
        merged[f"min_{phase}_a"] = _least(
            dialect, table[f"min_{phase}_a"], excluded[f"min_{phase}_a"]
        )
        merged[f"max_{phase}_a"] = _greatest(
            dialect, table[f"max_{phase}_a"], excluded[f"max_{phase}_a"]
        )
    for counter in ("energy_import_wh", "energy_export_wh"):
        merged[counter] = func.coalesce(excluded[counter], table[counter])
    return statement.on_conflict_do_update(index_elements=["meter_id", "minute"], set_=merged)


def _least(dialect: str, a: Any, b: Any) -> Any:
    return func.least(a, b) if dialect == "postgresql" else func.min(a, b)


def _greatest(dialect: str, a: Any, b: Any) -> Any:
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)

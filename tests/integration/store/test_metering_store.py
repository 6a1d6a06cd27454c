"""The meter recorder and directory on SQLite and PostgreSQL: raw readings, per-minute
aggregates that merge across batches, status events, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.store.database import session_factory
from amphub.adapters.store.metering import SqlMeterDirectory, SqlReadingRecorder
from amphub.adapters.store.metering_tables import MeterMinuteRow, MeterReadingRow, MeterRow
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.metering import AcceptedReading, MeterStatusEvent
from amphub.application.site_equipment import MeterSpec
from amphub.domain.metering import (
    MeterReading,
    MeterStatus,
    MeterTransport,
    StatusTransition,
)
from amphub.domain.tenancy import SiteSpec
from amphub.domain.units import PhaseCurrents

T0 = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


async def a_meter(engine: AsyncEngine) -> tuple[int, int, str]:
    async with SqlUnitOfWork(session_factory(engine)) as uow:
        operator = await uow.operators.add("Op", T0)
        team = await uow.teams.add(operator.id, "T", T0)
        site = await uow.sites.add(team.id, SiteSpec("S", "DK", "DK2", "Europe/Copenhagen"), T0)
        meter = await uow.meters.add(
            site.id, "AMH-AAAA-BBBB-CCCC-DDDD", "hash",
            MeterSpec("Main", 63.0, MeterTransport.HTTP), T0,
        )  # fmt: skip
        await uow.commit()
    return meter.id, site.id, meter.serial


def accepted(
    meter_id: int, site_id: int, at: datetime, l1: float, energy: float
) -> AcceptedReading:
    reading = MeterReading(at, PhaseCurrents(l1, l1 + 1, l1 + 2), energy_import_wh=energy)
    return AcceptedReading(
        meter_id, site_id, reading, at + timedelta(milliseconds=50), MeterTransport.HTTP
    )


async def test_minute_aggregates_merge_across_batches(engine: AsyncEngine) -> None:
    meter_id, site_id, _ = await a_meter(engine)
    recorder = SqlReadingRecorder(session_factory(engine))
    first = [
        accepted(meter_id, site_id, T0 + timedelta(seconds=s), 10.0 + s, 1000 + s) for s in (0, 10)
    ]
    second = [
        accepted(meter_id, site_id, T0 + timedelta(seconds=s), 5.0, 1000 + s) for s in (20, 70)
    ]
    await recorder.record_readings(first)
    await recorder.record_readings(second)
    async with session_factory(engine)() as session:
        raw = await session.scalar(select(func.count()).select_from(MeterReadingRow))
        minutes = list(
            await session.scalars(select(MeterMinuteRow).order_by(MeterMinuteRow.minute))
        )
    assert raw == 4
    assert [m.minute for m in minutes] == [T0, T0 + timedelta(minutes=1)]
    first_minute = minutes[0]
    assert first_minute.count == 3
    assert first_minute.sum_l1_a == 10 + 20 + 5
    assert (first_minute.min_l1_a, first_minute.max_l1_a) == (5.0, 20.0)
    assert (first_minute.min_l3_a, first_minute.max_l3_a) == (7.0, 22.0)
    assert first_minute.energy_import_wh == 1020
    assert minutes[1].count == 1


async def test_old_raw_readings_are_pruned_and_aggregates_kept(engine: AsyncEngine) -> None:
    meter_id, site_id, _ = await a_meter(engine)
    recorder = SqlReadingRecorder(session_factory(engine))
    await recorder.record_readings([accepted(meter_id, site_id, T0, 1.0, 1.0)])
    later = T0 + timedelta(hours=49)
    await recorder.record_readings([accepted(meter_id, site_id, later, 2.0, 2.0)])
    async with session_factory(engine)() as session:
        raw = list(await session.scalars(select(MeterReadingRow.measured_at)))
        minutes = await session.scalar(select(func.count()).select_from(MeterMinuteRow))
    assert raw == [later]
    assert minutes == 2


async def test_status_events_update_the_meter_and_the_directory(engine: AsyncEngine) -> None:
    meter_id, site_id, serial = await a_meter(engine)
    sessions = session_factory(engine)
    recorder = SqlReadingRecorder(sessions)
    directory = SqlMeterDirectory(sessions)
    assert (await directory.find_by_serial(serial)).status is MeterStatus.NEVER_SEEN  # type: ignore[union-attr]
    await recorder.record_status_events(
        [
            MeterStatusEvent(
                meter_id, site_id, StatusTransition(MeterStatus.NEVER_SEEN, MeterStatus.ACTIVE, T0)
            ),
            MeterStatusEvent(
                meter_id,
                site_id,
                StatusTransition(
                    MeterStatus.ACTIVE, MeterStatus.INACTIVE, T0 + timedelta(seconds=30)
                ),
            ),
        ]
    )
    config = await directory.find_by_serial(serial)
    assert config is not None and config.status is MeterStatus.INACTIVE
    assert await directory.pin_hash(serial) == "hash"
    assert await directory.find_by_serial("AMH-ZZZZ-ZZZZ-ZZZZ-ZZZZ") is None
    async with SqlUnitOfWork(sessions) as uow:
        events = await uow.meters.status_events(meter_id, 10)
    assert [(e.from_status, e.to_status) for e in events] == [
        (MeterStatus.ACTIVE, MeterStatus.INACTIVE),
        (MeterStatus.NEVER_SEEN, MeterStatus.ACTIVE),
    ]
    async with sessions() as session:
        row = await session.get(MeterRow, meter_id)
        assert row is not None and row.status_since == T0 + timedelta(seconds=30)

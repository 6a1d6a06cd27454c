"""The charging repositories on SQLite and on PostgreSQL (every test runs on both): natural
keys make retries harmless, transaction ids never repeat, offline 2.0.1 events fold in
timestamp order, and an unreachable database surfaces as StoreUnavailable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.store.charging import SqlChargingStore
from amphub.adapters.store.charging_queries import SqlIdTagAllowList
from amphub.adapters.store.charging_tables import (
    MeterValueRow,
    TransactionEventRow,
    TransactionQuarantineRow,
    TransactionRow,
)
from amphub.adapters.store.database import create_engine, session_factory
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.access import Actor
from amphub.application.charging.errors import StoreUnavailable
from amphub.application.charging.ports import BootReport, ChargePointRecord, StatusReport
from amphub.application.tenancy import TenancyService
from amphub.domain.charging import (
    AuthorizationStatus,
    BootStatus,
    ConnectorStatus,
    IdTagEntry,
    MeterReading,
    StartTransaction,
    StopOutcome,
    StopTransaction,
    TransactionEvent,
    TransactionEventType,
)
from amphub.domain.tenancy import ChargePointSpec, ConnectorSpec, SiteSpec
from amphub.domain.units import PhaseCurrents

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


async def seed(
    engine: AsyncEngine, identity: str = "CP-1"
) -> tuple[SqlChargingStore, ChargePointRecord]:
    sessions = session_factory(engine)
    tenancy = TenancyService(lambda: SqlUnitOfWork(sessions), FixedClock())
    system = Actor.system()
    operator = await tenancy.create_operator(system, f"Operator {identity}")
    team = await tenancy.create_team(system, operator.id, "Team")
    site = await tenancy.create_site(
        system, team.id, SiteSpec("Garage", "DK", "DK2", "Europe/Copenhagen")
    )
    spec = ChargePointSpec(
        identity,
        f"SN-{identity}",
        (ConnectorSpec(1), ConnectorSpec(2, phases=1, max_current_a=16.0)),
    )
    await tenancy.create_charge_point(system, site.id, spec, "sha256$00$00")
    store = SqlChargingStore(sessions)
    OPEN.append(store)
    record = await store.find_by_identity(identity)
    assert record is not None
    return store, record


@pytest.fixture(autouse=True)
async def _close_stores() -> AsyncIterator[None]:
    yield
    while OPEN:
        await OPEN.pop().close()


OPEN: list[SqlChargingStore] = []


async def count(engine: AsyncEngine, row: type) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(row)) or 0)


async def test_the_directory_finds_a_charge_point_with_its_tenancy(engine: AsyncEngine) -> None:
    store, record = await seed(engine)
    assert record.identity == "CP-1"
    assert record.password_hash == "sha256$00$00"
    assert [(c.connector_id, c.phases, c.max_current_a) for c in record.connectors] == [
        (1, 3, 32.0),
        (2, 1, 16.0),
    ]
    assert record.team_id > 0
    assert record.operator_id > 0
    assert await store.find_by_identity("cp-1") is None
    assert await store.find_by_identity("nobody") is None


async def test_a_retried_start_gets_the_same_id_and_ids_never_repeat(engine: AsyncEngine) -> None:
    store, record = await seed(engine)
    cp = record.charge_point_id
    start = StartTransaction(1, "tag-a", 1000.0, NOW)
    first = await store.start_transaction(cp, start, AuthorizationStatus.ACCEPTED, NOW)
    again = await store.start_transaction(cp, start, AuthorizationStatus.INVALID, NOW)
    assert first.created
    assert not again.created
    assert again.transaction_id == first.transaction_id
    assert again.id_tag_status is AuthorizationStatus.ACCEPTED
    second = await store.start_transaction(
        cp, StartTransaction(2, "tag-b", 5.0, NOW), AuthorizationStatus.ACCEPTED, NOW
    )
    assert second.transaction_id > first.transaction_id
    async with engine.begin() as connection:
        await connection.execute(
            delete(TransactionRow).where(TransactionRow.id == second.transaction_id)
        )
    third = await store.start_transaction(
        cp, StartTransaction(2, "tag-b", 6.0, NOW), AuthorizationStatus.ACCEPTED, NOW
    )
    assert third.transaction_id > second.transaction_id
    found = await store.find_transaction(cp, first.transaction_id)
    assert found is not None
    assert found.transaction_ref == str(first.transaction_id)
    assert await store.find_transaction(cp + 1000, first.transaction_id) is None


async def test_stop_is_idempotent_and_an_unknown_stop_is_quarantined_once(
    engine: AsyncEngine,
) -> None:
    store, record = await seed(engine)
    cp = record.charge_point_id
    started = await store.start_transaction(
        cp, StartTransaction(1, "tag-a", 1000.0, NOW), AuthorizationStatus.ACCEPTED, NOW
    )
    reading = MeterReading(NOW + timedelta(minutes=30), "Transaction.End", energy_wh=8000.0)
    stop = StopTransaction(str(started.transaction_id), 8000.0, NOW + timedelta(hours=1), "Local")
    first = await store.stop_transaction(cp, stop, [reading], NOW)
    assert (first.outcome, first.transaction_id, first.connector_id) == (
        StopOutcome.STOPPED,
        started.transaction_id,
        1,
    )
    changed = StopTransaction(stop.transaction_id, 9999.0, NOW + timedelta(hours=2), "Other")
    again = await store.stop_transaction(cp, changed, [reading], NOW)
    assert again.outcome is StopOutcome.ALREADY_STOPPED
    stored = await store.transaction(started.transaction_id)
    assert stored is not None
    assert stored.meter_stop_wh == 8000.0
    assert stored.stopped_at == NOW + timedelta(hours=1)
    assert stored.energy_wh == 7000.0
    assert await count(engine, MeterValueRow) == 1
    unknown = StopTransaction("424242", 10.0, NOW, "PowerLoss")
    for _ in range(2):
        result = await store.stop_transaction(cp, unknown, [], NOW)
        assert result.outcome is StopOutcome.QUARANTINED
    garbage = await store.stop_transaction(cp, StopTransaction("-1", 10.0, NOW), [], NOW)
    assert garbage.outcome is StopOutcome.QUARANTINED
    assert await count(engine, TransactionQuarantineRow) == 2
    assert await store.active_transaction_of_tag(record.team_id, "TAG-A") is None


def _event(seq: int, minute: int, kind: TransactionEventType, **fields: object) -> TransactionEvent:
    return TransactionEvent(
        "tx-abc",
        seq,
        kind,
        NOW + timedelta(minutes=minute),
        "Trigger",
        **fields,  # type: ignore[arg-type]
    )


async def test_transaction_events_deduplicate_and_fold_in_timestamp_order(
    engine: AsyncEngine,
) -> None:
    store, record = await seed(engine)
    cp = record.charge_point_id
    started = _event(
        0,
        0,
        TransactionEventType.STARTED,
        connector_id=2,
        id_tag="card",
        energy_wh=100.0,
        charging_state=ConnectorStatus.CHARGING,
    )
    offline = _event(
        1,
        10,
        TransactionEventType.UPDATED,
        offline=True,
        charging_state=ConnectorStatus.SUSPENDED_EV,
        energy_wh=500.0,
    )
    ended = _event(
        2,
        20,
        TransactionEventType.ENDED,
        stopped_reason="Local",
        energy_wh=900.0,
        charging_state=ConnectorStatus.AVAILABLE,
    )
    first = await store.record_transaction_event(cp, started, [], AuthorizationStatus.ACCEPTED, NOW)
    active = await store.active_transaction_of_tag(record.team_id, "CARD")
    assert active is not None
    assert (active.transaction_id, active.transaction_ref) == (first.transaction_id, "tx-abc")
    readings = [MeterReading(NOW + timedelta(minutes=20), energy_wh=900.0)]
    await store.record_transaction_event(cp, ended, readings, None, NOW)
    late = await store.record_transaction_event(cp, offline, [], None, NOW)
    assert not late.duplicate
    repeat = await store.record_transaction_event(cp, offline, [], None, NOW)
    assert repeat.duplicate
    assert repeat.transaction_id == first.transaction_id
    assert await count(engine, TransactionEventRow) == 3
    summary = repeat.summary
    assert summary.charging_state is not None
    assert summary.charging_state.value is ConnectorStatus.AVAILABLE
    stored = await store.transaction(first.transaction_id)
    assert stored is not None
    assert (stored.connector_id, stored.id_tag, stored.id_tag_status) == (
        2,
        "CARD",
        AuthorizationStatus.ACCEPTED,
    )
    assert (stored.meter_start_wh, stored.meter_stop_wh, stored.stop_reason) == (
        100.0,
        900.0,
        "Local",
    )
    assert stored.stopped_at == NOW + timedelta(minutes=20)
    assert [
        r.reading.energy_wh for r in await store.readings_of_transaction(first.transaction_id, 10)
    ] == [900.0]
    assert await store.active_transaction_of_tag(record.team_id, "card") is None


async def test_meter_values_are_stored_once_with_their_transaction(engine: AsyncEngine) -> None:
    store, record = await seed(engine)
    cp = record.charge_point_id
    started = await store.start_transaction(
        cp, StartTransaction(1, "t", 0.0, NOW), AuthorizationStatus.ACCEPTED, NOW
    )
    readings = [
        MeterReading(
            NOW + timedelta(minutes=2),
            "Sample.Periodic",
            current_a=PhaseCurrents(16, 15.5, 15),
            power_w=10_900.0,
            energy_wh=400.0,
        ),
        MeterReading(
            NOW + timedelta(minutes=1), "Sample.Periodic", current_unphased_a=8.0, energy_wh=200.0
        ),
    ]
    ref = str(started.transaction_id)
    assert await store.record_meter_values(cp, 1, ref, readings, NOW) == started.transaction_id
    assert await store.record_meter_values(cp, 1, ref, readings, NOW) == started.transaction_id
    assert (
        await store.record_meter_values(cp, 1, "nope", [MeterReading(NOW, energy_wh=1.0)], NOW)
        is None
    )
    assert await count(engine, MeterValueRow) == 3
    stored = await store.readings_of_transaction(started.transaction_id, 10)
    assert [r.reading for r in stored] == sorted(readings, key=lambda r: r.at)
    listed = await store.transactions([cp], limit=10, after_id=0)
    assert [t.transaction_id for t in listed] == [started.transaction_id]
    assert await store.transactions([cp], limit=10, after_id=started.transaction_id) == []


async def test_meter_values_of_many_chargers_commit_together_and_fail_alone(
    engine: AsyncEngine,
) -> None:
    store, record = await seed(engine)
    cp = record.charge_point_id
    started = await store.start_transaction(
        cp, StartTransaction(1, "t", 0.0, NOW), AuthorizationStatus.ACCEPTED, NOW
    )

    async def send(n: int, charge_point_id: int) -> int | None:
        reading = MeterReading(NOW + timedelta(seconds=n), energy_wh=float(n))
        return await store.record_meter_values(
            charge_point_id, 1 + n % 2, str(started.transaction_id), [reading], NOW
        )

    results = await asyncio.gather(
        *(send(n, cp if n != 17 else cp + 999) for n in range(200)), return_exceptions=True
    )
    assert isinstance(results[17], StoreUnavailable)  # no such charge point: fails alone
    assert all(r == started.transaction_id for i, r in enumerate(results) if i != 17)
    assert await count(engine, MeterValueRow) == 199


async def test_boot_heartbeat_connection_and_status_are_remembered(engine: AsyncEngine) -> None:
    store, record = await seed(engine)
    cp = record.charge_point_id
    assert await store.charge_point_states([cp]) == {}
    await store.record_connection(cp, "2.0.1", True, NOW)
    boot = BootReport("Vendor", "Model X", "SER-9", "1.2.3", reason="PowerUp")
    await store.record_boot(cp, boot, BootStatus.ACCEPTED, NOW)
    await store.record_heartbeat(cp, NOW + timedelta(minutes=5))
    await store.record_connection(cp, "2.0.1", False, NOW + timedelta(minutes=6))
    state = (await store.charge_point_states([cp]))[cp]
    assert state.ocpp_version == "2.0.1"
    assert state.last_boot is not None
    assert (state.last_boot.vendor, state.last_boot.model, state.last_boot.serial_number) == (
        "Vendor",
        "Model X",
        "SER-9",
    )
    assert state.last_boot.status is BootStatus.ACCEPTED
    assert state.last_heartbeat_at == NOW + timedelta(minutes=5)
    assert state.last_disconnected_at == NOW + timedelta(minutes=6)
    sessions = session_factory(engine)
    async with SqlUnitOfWork(sessions) as uow:
        charge_point = await uow.charge_points.get(cp)
    assert charge_point is not None
    assert (
        charge_point.spec.brand,
        charge_point.spec.model,
        charge_point.spec.firmware_version,
    ) == ("Vendor", "Model X", "1.2.3")
    await store.record_status(
        cp, StatusReport(1, ConnectorStatus.CHARGING, NOW + timedelta(minutes=2)), NOW
    )
    await store.record_status(cp, StatusReport(1, ConnectorStatus.AVAILABLE, NOW), NOW)
    await store.record_status(cp, StatusReport(0, ConnectorStatus.AVAILABLE, NOW, "NoError"), NOW)


async def test_the_allow_list(engine: AsyncEngine) -> None:
    store, record = await seed(engine)
    team = record.team_id
    allow_list = SqlIdTagAllowList(session_factory(engine))
    await allow_list.put_id_tag(IdTagEntry(team, "card-1", label="Anna"), NOW)
    await allow_list.put_id_tag(IdTagEntry(team, "CARD-1", blocked=True, label="Anna (lost)"), NOW)
    await allow_list.put_id_tag(IdTagEntry(team, "card-2", expires_at=NOW), NOW)
    found = await store.find_id_tag(team, "Card-1")
    assert found == IdTagEntry(team, "CARD-1", blocked=True, label="Anna (lost)")
    assert [e.id_tag for e in await allow_list.list_id_tags(team)] == ["CARD-1", "CARD-2"]
    assert await store.find_id_tag(team + 1, "card-1") is None
    assert await allow_list.remove_id_tag(team, "card-1")
    assert not await allow_list.remove_id_tag(team, "card-1")


async def test_an_unreachable_database_is_store_unavailable() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    store = SqlChargingStore(session_factory(engine))
    OPEN.append(store)
    try:
        with pytest.raises(StoreUnavailable):
            await store.record_heartbeat(1, NOW)
        with pytest.raises(StoreUnavailable):
            await store.record_meter_values(1, 1, "5", [MeterReading(NOW, energy_wh=1.0)], NOW)
        with pytest.raises(StoreUnavailable):
            await store.find_by_identity("CP-1")
    finally:
        await engine.dispose()

"""The server stops in the middle of a transaction and starts again on the same SQLite
file: the charger reconnects, its StopTransaction still lands, a retried StartTransaction
still gets its id, and new transaction ids never repeat an old one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from amphub.adapters.store.database import create_engine, session_factory

from .chargers import charger_16
from .conftest import Harness
from .test_v16 import iso, until

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def test_a_restart_in_the_middle_of_a_transaction(harness: Harness, sqlite_url: str) -> None:
    cp, password = await harness.add_charge_point("CP-R")
    start = call.StartTransaction(connector_id=1, id_tag="T-1", meter_start=100, timestamp=iso(T0))
    async with charger_16(harness.url("CP-R"), "CP-R", password) as charger:
        await charger.call(
            call.BootNotification(charge_point_model="M", charge_point_vendor="V"), suppress=False
        )
        first = (await charger.call(start, suppress=False)).transaction_id
        second = (
            await charger.call(
                call.StartTransaction(
                    connector_id=2, id_tag="T-2", meter_start=5, timestamp=iso(T0)
                ),
                suppress=False,
            )
        ).transaction_id
        await harness.stop()
        await charger._connection.wait_closed()
        assert charger._connection.close_code == 1001

    engine = create_engine(sqlite_url)  # a new process would open the file afresh
    restarted = await harness.start(sessions=session_factory(engine))
    try:
        async with charger_16(harness.url("CP-R"), "CP-R", password) as charger:
            retried = await charger.call(start, suppress=False)
            assert retried.transaction_id == first
            stop = call.StopTransaction(
                meter_stop=7100,
                timestamp=iso(T0 + timedelta(hours=1)),
                transaction_id=first,
                reason="EVDisconnected",
            )
            await charger.call(stop, suppress=False)
            await charger.call(stop, suppress=False)
            third = (
                await charger.call(
                    call.StartTransaction(
                        connector_id=1,
                        id_tag="T-3",
                        meter_start=7100,
                        timestamp=iso(T0 + timedelta(hours=2)),
                    ),
                    suppress=False,
                )
            ).transaction_id
            assert third > second > first
            await until(lambda: restarted.live.charge_point(cp) is not None)
        stored = await restarted.store.transaction(first)
        assert stored is not None
        assert (stored.meter_start_wh, stored.meter_stop_wh) == (100.0, 7100.0)
        assert stored.stopped_at == T0 + timedelta(hours=1)
        still_running = await restarted.store.transaction(second)
        assert still_running is not None
        assert still_running.stopped_at is None
    finally:
        await restarted.gateway.stop()
        await restarted.store.close()
        await engine.dispose()

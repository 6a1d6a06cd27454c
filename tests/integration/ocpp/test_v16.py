"""A 1.6J charger (the ``ocpp`` library's ChargePoint) through a whole session: boot,
capabilities read back, status, authorisation, a retried start, meter values into the live
state, stops that are repeated or unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ocpp.v16 import call
from sqlalchemy import func, select

from amphub.adapters.store.charging_tables import TransactionQuarantineRow
from amphub.domain.charging import BootStatus, ConnectorStatus
from amphub.domain.smart_charging import ChargingRateUnit, SmartChargingCapabilities
from amphub.domain.units import PhaseCurrents

from .chargers import charger_16
from .conftest import Harness

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def sample(value: str, measurand: str, unit: str, phase: str | None = None) -> dict[str, str]:
    item = {"value": value, "measurand": measurand, "unit": unit}
    return item | ({"phase": phase} if phase else {})


async def test_a_whole_session(harness: Harness) -> None:
    cp_id, password = await harness.add_charge_point("CP-16")
    await harness.allow("CARD-1")
    live = harness.current.live
    async with charger_16(harness.url("CP-16"), "CP-16", password) as charger:
        boot = await charger.call(
            call.BootNotification(
                charge_point_model="Wallbox",
                charge_point_vendor="Acme",
                firmware_version="1.0.0",
                charge_point_serial_number="S-1",
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        assert boot.interval == 300
        await until(
            lambda: (
                (live.charge_point(cp_id) or object()).__getattribute__("capabilities") is not None
            )
        )
        point = live.charge_point(cp_id)
        assert point is not None
        assert point.connected
        assert point.ocpp_version == "1.6"
        assert point.boot_status is BootStatus.ACCEPTED
        assert point.capabilities == SmartChargingCapabilities(
            3, frozenset({ChargingRateUnit.AMPERES, ChargingRateUnit.WATTS})
        )
        assert charger.answers.received[0] == (
            "GetConfiguration",
            {"key": ["ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit"]},
        )

        await charger.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing", timestamp=iso(T0)
            ),
            suppress=False,
        )
        assert live.connector(cp_id, 1).status is ConnectorStatus.PREPARING  # type: ignore[union-attr]

        assert (await charger.call(call.Authorize(id_tag="card-1"), suppress=False)).id_tag_info[
            "status"
        ] == "Accepted"
        assert (await charger.call(call.Authorize(id_tag="stranger"), suppress=False)).id_tag_info[
            "status"
        ] == "Invalid"

        start = call.StartTransaction(
            connector_id=1, id_tag="CARD-1", meter_start=1000, timestamp=iso(T0)
        )
        started = await charger.call(start, suppress=False)
        retried = await charger.call(start, suppress=False)
        assert retried.transaction_id == started.transaction_id
        assert started.id_tag_info["status"] == "Accepted"
        assert live.connector(cp_id, 1).transaction_id == started.transaction_id  # type: ignore[union-attr]
        other = await charger.call(
            call.StartTransaction(
                connector_id=2, id_tag="CARD-1", meter_start=0, timestamp=iso(T0)
            ),
            suppress=False,
        )
        assert other.id_tag_info["status"] == "ConcurrentTx"
        assert other.transaction_id > started.transaction_id

        await charger.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=1)),
                        "sampledValue": [
                            sample("16.1", "Current.Import", "A", "L1"),
                            sample("15.9", "Current.Import", "A", "L2"),
                            sample("16.0", "Current.Import", "A", "L3"),
                            sample("11.1", "Power.Active.Import", "kW"),
                            sample("1.2", "Energy.Active.Import.Register", "kWh"),
                        ],
                    }
                ],
            ),
            suppress=False,
        )
        connector = live.connector(cp_id, 1)
        assert connector is not None
        assert connector.current_a == PhaseCurrents(16.1, 15.9, 16.0)
        assert connector.power_w == 11_100.0
        assert connector.energy_wh == 1200.0
        # An old reading (queued offline) is stored but does not replace the live one.
        await charger.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {"timestamp": iso(T0), "sampledValue": [sample("3", "Current.Import", "A")]}
                ],
            ),
            suppress=False,
        )
        assert live.connector(cp_id, 1).current_a == PhaseCurrents(16.1, 15.9, 16.0)  # type: ignore[union-attr]

        stop = call.StopTransaction(
            meter_stop=9000,
            timestamp=iso(T0 + timedelta(hours=1)),
            transaction_id=started.transaction_id,
            reason="EVDisconnected",
            id_tag="CARD-1",
        )
        assert (await charger.call(stop, suppress=False)).id_tag_info["status"] == "Accepted"
        assert (await charger.call(stop, suppress=False)).id_tag_info["status"] == "Accepted"
        assert live.connector(cp_id, 1).transaction_id is None  # type: ignore[union-attr]
        unknown = call.StopTransaction(meter_stop=1, timestamp=iso(T0), transaction_id=987654)
        assert await charger.call(unknown, suppress=False) is not None

        heartbeat = await charger.call(call.Heartbeat(), suppress=False)
        assert heartbeat.current_time.endswith("Z")
        transfer = await charger.call(
            call.DataTransfer(vendor_id="com.acme", message_id="x"), suppress=False
        )
        assert transfer.status == "UnknownVendorId"
        await charger.call(
            call.SecurityEventNotification(
                type="FirmwareUpdated", timestamp=iso(T0), tech_info="v2"
            ),
            suppress=False,
        )

    stored = await harness.current.store.transaction(started.transaction_id)
    assert stored is not None
    assert (stored.meter_start_wh, stored.meter_stop_wh, stored.stop_reason) == (
        1000.0,
        9000.0,
        "EVDisconnected",
    )
    readings = await harness.current.store.readings_of_transaction(started.transaction_id, 10)
    assert len(readings) == 1
    async with harness.engine.connect() as connection:
        assert (
            await connection.scalar(select(func.count()).select_from(TransactionQuarantineRow)) == 1
        )
    await until(lambda: not live.charge_point(cp_id).connected)  # type: ignore[union-attr]
    states = await harness.current.store.charge_point_states([cp_id])
    assert states[cp_id].last_boot is not None
    assert states[cp_id].last_boot.firmware_version == "1.0.0"

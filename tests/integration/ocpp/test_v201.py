"""A 2.0.1 station (the ``ocpp`` library's ChargePoint): boot, device-model capabilities,
TransactionEvents deduplicated by seqNo and folded in timestamp order, meter values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call
from sqlalchemy import func, select

from amphub.adapters.store.charging_tables import TransactionEventRow
from amphub.domain.charging import ConnectorStatus
from amphub.domain.smart_charging import ChargingRateUnit, SmartChargingCapabilities
from amphub.domain.units import PhaseCurrents

from .chargers import charger_201
from .conftest import Harness
from .test_v16 import iso, until

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def meter(at: datetime, energy_wh: float, amps: float | None = None) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = [
        {
            "value": energy_wh,
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "kWh", "multiplier": -3},
        },
    ]
    if amps is not None:
        values += [
            {"value": amps, "measurand": "Current.Import", "phase": phase}
            for phase in ("L1", "L2", "L3")
        ]
    return [{"timestamp": iso(at), "sampledValue": values}]


def event(kind: str, seq: int, at: datetime, **extra: Any) -> call.TransactionEvent:
    info = {"transactionId": "TX-9f3a", **extra.pop("info", {})}
    return call.TransactionEvent(
        event_type=kind,
        timestamp=iso(at),
        trigger_reason=extra.pop("trigger", "MeterValuePeriodic"),
        seq_no=seq,
        transaction_info=info,
        **extra,
    )


async def test_a_whole_session(harness: Harness) -> None:
    cp_id, password = await harness.add_charge_point("CS-201")
    await harness.allow("RFID-7")
    live = harness.current.live
    store = harness.current.store
    async with charger_201(harness.url("CS-201"), "CS-201", password) as station:
        boot = await station.call(
            call.BootNotification(
                charging_station={
                    "model": "AC22",
                    "vendorName": "Acme",
                    "firmwareVersion": "2.0",
                    "serialNumber": "S9",
                },
                reason="PowerUp",
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        await until(lambda: live.charge_point(cp_id).capabilities is not None)  # type: ignore[union-attr]
        assert live.charge_point(cp_id).capabilities == SmartChargingCapabilities(  # type: ignore[union-attr]
            3, frozenset({ChargingRateUnit.AMPERES})
        )
        await station.call(
            call.StatusNotification(
                timestamp=iso(T0), connector_status="Occupied", evse_id=1, connector_id=1
            ),
            suppress=False,
        )
        assert live.connector(cp_id, 1).status is ConnectorStatus.OCCUPIED  # type: ignore[union-attr]
        authorized = await station.call(
            call.Authorize(id_token={"idToken": "rfid-7", "type": "ISO14443"}), suppress=False
        )
        assert authorized.id_token_info["status"] == "Accepted"

        started = await station.call(
            event(
                "Started",
                0,
                T0,
                trigger="Authorized",
                evse={"id": 1, "connectorId": 1},
                id_token={"idToken": "RFID-7", "type": "ISO14443"},
                meter_value=meter(T0, 1000.0),
                info={"chargingState": "EVConnected"},
            ),
            suppress=False,
        )
        assert started.id_token_info["status"] == "Accepted"
        charging = event(
            "Updated",
            1,
            T0 + timedelta(minutes=1),
            meter_value=meter(T0 + timedelta(minutes=1), 1200.0, 16.0),
            info={"chargingState": "Charging"},
        )
        await station.call(charging, suppress=False)
        await station.call(charging, suppress=False)  # a retry: deduplicated
        connector = live.connector(cp_id, 1)
        assert connector is not None
        assert connector.status is ConnectorStatus.CHARGING
        assert connector.current_a == PhaseCurrents.uniform(16.0)
        assert connector.energy_wh == 1200.0
        # Ended arrives, then an offline Updated with an older timestamp: applied in order.
        await station.call(
            event(
                "Ended",
                3,
                T0 + timedelta(minutes=30),
                trigger="EVCommunicationLost",
                meter_value=meter(T0 + timedelta(minutes=30), 9000.0),
                info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"},
            ),
            suppress=False,
        )
        await station.call(
            event(
                "Updated",
                2,
                T0 + timedelta(minutes=10),
                offline=True,
                meter_value=meter(T0 + timedelta(minutes=10), 4000.0, 10.0),
                info={"chargingState": "SuspendedEV"},
            ),
            suppress=False,
        )
        assert live.connector(cp_id, 1).transaction_id is None  # type: ignore[union-attr]
        assert live.connector(cp_id, 1).energy_wh == 9000.0  # type: ignore[union-attr]

        await station.call(
            call.MeterValues(evse_id=1, meter_value=meter(T0 + timedelta(hours=1), 9000.0, 0.0)),
            suppress=False,
        )
        transfer = await station.call(call.DataTransfer(vendor_id="com.acme"), suppress=False)
        assert transfer.status == "UnknownVendorId"
        await station.call(call.Heartbeat(), suppress=False)

    transactions = await store.transactions([cp_id], limit=10, after_id=0)
    assert len(transactions) == 1
    stored = transactions[0]
    assert stored.transaction_ref == "TX-9f3a"
    assert (stored.connector_id, stored.id_tag, stored.stop_reason) == (
        1,
        "RFID-7",
        "EVDisconnected",
    )
    assert (stored.meter_start_wh, stored.meter_stop_wh) == (1000.0, 9000.0)
    assert stored.stopped_at == T0 + timedelta(minutes=30)
    async with harness.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(TransactionEventRow)) == 4
    readings = await store.readings_of_transaction(stored.transaction_id, 10)
    assert [r.reading.energy_wh for r in readings] == [1000.0, 1200.0, 4000.0, 9000.0]

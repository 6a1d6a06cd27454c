"""The simulated chargers' OCPP side against a small central system built on the same
``ocpp`` library (server side), over real WebSockets on loopback: what they send, how they
answer, and that a profile set over the wire limits them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Central16Base
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Central201Base
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.server import ServerConnection

from amphub.domain.units import PhaseRotation
from amphub_sim.charger import SimCharger
from amphub_sim.ev import Ev, EvSpec
from amphub_sim.ocpp16 import Client16
from amphub_sim.ocpp201 import Client201
from amphub_sim.ocpp_link import ChargerLink
from amphub_sim.scenario import ChargerConfig
from amphub_sim.sessions import PlannedSession
from amphub_sim.wire import timestamp
from tests.support.waiting import eventually

NOW = "2026-01-05T12:00:00Z"


class Central16(Central16Base):  # type: ignore[misc]
    def __init__(self, identity: str, connection: ServerConnection) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.seen: list[tuple[str, dict[str, Any]]] = []

    @on(Action16.boot_notification)
    def boot(self, **p: Any) -> result16.BootNotification:
        self.seen.append(("BootNotification", p))
        return result16.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on(Action16.status_notification)
    def status(self, **p: Any) -> result16.StatusNotification:
        self.seen.append(("StatusNotification", p))
        return result16.StatusNotification()

    @on(Action16.start_transaction)
    def start_tx(self, **p: Any) -> result16.StartTransaction:
        self.seen.append(("StartTransaction", p))
        return result16.StartTransaction(transaction_id=42, id_tag_info={"status": "Accepted"})

    @on(Action16.meter_values)
    def meter_values(self, **p: Any) -> result16.MeterValues:
        self.seen.append(("MeterValues", p))
        return result16.MeterValues()


class Central201(Central201Base):  # type: ignore[misc]
    def __init__(self, identity: str, connection: ServerConnection) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.seen: list[tuple[str, dict[str, Any]]] = []

    @on(Action201.boot_notification)
    def boot(self, **p: Any) -> result201.BootNotification:
        self.seen.append(("BootNotification", p))
        return result201.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on(Action201.status_notification)
    def status(self, **p: Any) -> result201.StatusNotification:
        self.seen.append(("StatusNotification", p))
        return result201.StatusNotification()

    @on(Action201.transaction_event)
    def transaction_event(self, **p: Any) -> result201.TransactionEvent:
        self.seen.append(("TransactionEvent", p))
        return result201.TransactionEvent()


class Central:
    def __init__(self) -> None:
        self.stations: dict[str, Any] = {}
        self.authorization: str | None = None
        self.port = 0

    async def handle(self, connection: ServerConnection) -> None:
        identity = connection.request.path.rsplit("/", 1)[-1]
        self.authorization = connection.request.headers.get("Authorization")
        cls = Central16 if connection.subprotocol == "ocpp1.6" else Central201
        station = cls(identity, connection)
        self.stations[identity] = station
        with contextlib.suppress(websockets.ConnectionClosed):
            await station.start()

    def actions(self, identity: str) -> list[str]:
        return [action for action, _ in self.stations[identity].seen]


@pytest.fixture
async def central() -> AsyncIterator[Central]:
    system = Central()
    async with websockets.serve(
        system.handle,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
    ) as server:
        system.port = next(iter(server.sockets)).getsockname()[1]
        yield system


@pytest.fixture
async def running() -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def charger(version: str) -> SimCharger:
    return SimCharger(ChargerConfig("SIM-01", version, 3, 16.0, PhaseRotation.L1L2L3, lag_s=0.0))


def plug(sim: SimCharger) -> None:
    car = EvSpec(60, 16, 3)
    sim.plug_in(PlannedSession(1, "TRD-X", 0, 3600, 9000, car), Ev.arriving(car, 9000),
                datetime.now(UTC))  # fmt: skip


async def test_16_boots_reports_and_takes_a_profile(
    central: Central, running: list[asyncio.Task[None]]
) -> None:
    sim = charger("1.6")
    link = ChargerLink(sim, f"ws://127.0.0.1:{central.port}/ocpp", "s3cret-password", Client16)
    running.append(asyncio.create_task(link.run()))
    await eventually(lambda: link.connected, 10)
    expected = base64.b64encode(b"SIM-01:s3cret-password").decode()
    assert central.authorization == f"Basic {expected}"
    station = central.stations["SIM-01"]
    # Connected means booted; the two StatusNotifications follow it on the wire.
    await eventually(lambda: len(central.actions("SIM-01")) >= 3, 10)
    assert central.actions("SIM-01")[:3] == [
        "BootNotification", "StatusNotification", "StatusNotification",
    ]  # fmt: skip

    config = await station.call(call16.GetConfiguration(key=["ChargeProfileMaxStackLevel"]))
    assert config.configuration_key == [
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "3"}
    ]
    start = datetime.now(UTC)
    reply = await station.call(
        call16.SetChargingProfile(
            connector_id=1,
            cs_charging_profiles={
                "chargingProfileId": 7, "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A", "duration": 60, "startSchedule": timestamp(start),
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
                },
            },
        )
    )  # fmt: skip
    assert reply.status == "Accepted"
    composite = await station.call(call16.GetCompositeSchedule(connector_id=1, duration=120))
    periods = composite.charging_schedule["charging_schedule_period"]
    assert (periods[0]["start_period"], periods[0]["limit"]) == (0, 10.0)
    assert periods[-1]["limit"] == 16.0  # the lapse: back to the hardware maximum

    plug(sim)
    link.wake()
    await eventually(lambda: "StartTransaction" in central.actions("SIM-01"), 10)
    await eventually(lambda: sim.connectors[1].transaction_id == "42", 10)
    trigger = await station.call(call16.TriggerMessage(requested_message="MeterValues"))
    assert trigger.status == "Accepted"
    await eventually(lambda: "MeterValues" in central.actions("SIM-01"), 10)
    values = next(p for a, p in station.seen if a == "MeterValues")
    measurands = {
        (v["measurand"], v.get("phase")) for v in values["meter_value"][0]["sampled_value"]
    }
    assert {("Current.Import", "L1"), ("Current.Import", "L3")} <= measurands
    assert values["transaction_id"] == 42


async def test_201_reads_variables_and_refuses_an_absolute_profile_without_start(
    central: Central, running: list[asyncio.Task[None]]
) -> None:
    sim = charger("2.0.1")
    link = ChargerLink(sim, f"ws://127.0.0.1:{central.port}/ocpp", "s3cret-password", Client201)
    running.append(asyncio.create_task(link.run()))
    await eventually(lambda: link.connected, 10)
    station = central.stations["SIM-01"]
    variables = await station.call(
        call201.GetVariables(
            get_variable_data=[
                {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}},
                {"component": {"name": "Nope"}, "variable": {"name": "Nothing"}},
            ]
        )
    )
    results = variables.get_variable_result
    assert (results[0]["attribute_status"], results[0]["attribute_value"]) == ("Accepted", "A,W")
    assert results[1]["attribute_status"] == "UnknownComponent"

    profile: dict[str, Any] = {
        "id": 9, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [{"id": 9, "chargingRateUnit": "W",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4140.0}]}],
    }  # fmt: skip
    refused = await station.call(call201.SetChargingProfile(evse_id=1, charging_profile=profile))
    assert refused.status == "Rejected"  # K01.FR.40: Absolute needs startSchedule
    profile["chargingSchedule"][0]["startSchedule"] = timestamp(
        datetime.now(UTC) - timedelta(seconds=1)
    )
    accepted = await station.call(call201.SetChargingProfile(evse_id=1, charging_profile=profile))
    assert accepted.status == "Accepted"
    sim.update_limits(datetime.now(UTC))
    assert sim.connectors[1].target_a == pytest.approx(6.0)  # 4140 W / (3 × 230 V)

    plug(sim)
    link.wake()
    await eventually(lambda: "TransactionEvent" in central.actions("SIM-01"), 10)
    started = next(p for a, p in station.seen if a == "TransactionEvent")
    assert started["event_type"] == "Started"
    assert started["transaction_info"]["transaction_id"] == sim.connectors[1].transaction_id
    assert started["id_token"] == {"id_token": "TRD-X", "type": "Local"}
    assert started["seq_no"] == 0

"""Chargers for the tests, built on the ``ocpp`` library's ChargePoint (the client side of
the same library the gateway uses): they answer amphub's calls and remember what they got."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection


def basic(identity: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Answers:
    """What a test charger answers; a test changes it to provoke refusals or timeouts."""

    def __init__(self) -> None:
        self.status = "Accepted"
        self.delay_s = 0.0
        self.max_stack_level = "3"
        self.rate_units = "Current,Power"
        self.fail = False
        self.answered = 0
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def note(self, action: str, payload: dict[str, Any]) -> None:
        """Remember the call; then wait or fail (the library answers a failure with a
        CALLERROR InternalError)."""
        self.received.append((action, payload))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.answered += 1
        if self.fail:
            raise RuntimeError("the charger failed")

    def actions(self) -> list[str]:
        return [action for action, _ in self.received]


class Charger16(ChargePoint16):
    def __init__(self, identity: str, connection: ClientConnection) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.answers = Answers()

    @on(Action16.get_configuration)
    async def on_get_configuration(self, **payload: Any) -> result16.GetConfiguration:
        await self.answers.note("GetConfiguration", payload)
        values = {
            "ChargeProfileMaxStackLevel": self.answers.max_stack_level,
            "ChargingScheduleAllowedChargingRateUnit": self.answers.rate_units,
        }
        keys = payload.get("key") or list(values)
        return result16.GetConfiguration(
            configuration_key=[
                {"key": key, "readonly": True, "value": values[key]}
                for key in keys
                if key in values
            ],
            unknown_key=[key for key in keys if key not in values],
        )

    @on(Action16.change_configuration)
    async def on_change_configuration(self, **payload: Any) -> result16.ChangeConfiguration:
        await self.answers.note("ChangeConfiguration", payload)
        return result16.ChangeConfiguration(status=self.answers.status)

    @on(Action16.set_charging_profile)
    async def on_set_charging_profile(self, **payload: Any) -> result16.SetChargingProfile:
        await self.answers.note("SetChargingProfile", payload)
        return result16.SetChargingProfile(status=self.answers.status)

    @on(Action16.clear_charging_profile)
    async def on_clear_charging_profile(self, **payload: Any) -> result16.ClearChargingProfile:
        await self.answers.note("ClearChargingProfile", payload)
        return result16.ClearChargingProfile(status=self.answers.status)

    @on(Action16.get_composite_schedule)
    async def on_get_composite_schedule(self, **payload: Any) -> result16.GetCompositeSchedule:
        await self.answers.note("GetCompositeSchedule", payload)
        return result16.GetCompositeSchedule(
            status=self.answers.status,
            connector_id=payload["connector_id"],
            schedule_start="2026-11-21T12:00:00Z",
            charging_schedule={
                "duration": payload["duration"],
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}],
            },
        )

    @on(Action16.remote_start_transaction)
    async def on_remote_start(self, **payload: Any) -> result16.RemoteStartTransaction:
        await self.answers.note("RemoteStartTransaction", payload)
        return result16.RemoteStartTransaction(status=self.answers.status)

    @on(Action16.remote_stop_transaction)
    async def on_remote_stop(self, **payload: Any) -> result16.RemoteStopTransaction:
        await self.answers.note("RemoteStopTransaction", payload)
        return result16.RemoteStopTransaction(status=self.answers.status)

    @on(Action16.trigger_message)
    async def on_trigger_message(self, **payload: Any) -> result16.TriggerMessage:
        await self.answers.note("TriggerMessage", payload)
        return result16.TriggerMessage(status=self.answers.status)

    @on(Action16.reset)
    async def on_reset(self, **payload: Any) -> result16.Reset:
        await self.answers.note("Reset", payload)
        return result16.Reset(status=self.answers.status)


class Charger201(ChargePoint201):
    def __init__(self, identity: str, connection: ClientConnection) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.answers = Answers()

    @on(Action201.get_variables)
    async def on_get_variables(self, **payload: Any) -> result201.GetVariables:
        await self.answers.note("GetVariables", payload)
        values = {
            ("SmartChargingCtrlr", "ProfileStackLevel"): self.answers.max_stack_level,
            ("SmartChargingCtrlr", "RateUnit"): "A",
        }
        results = []
        for item in payload["get_variable_data"]:
            key = (item["component"]["name"], item["variable"]["name"])
            result = {"component": item["component"], "variable": item["variable"]}
            if key in values:
                result |= {"attribute_status": "Accepted", "attribute_value": values[key]}
            else:
                result |= {"attribute_status": "UnknownVariable"}
            results.append(result)
        return result201.GetVariables(get_variable_result=results)

    @on(Action201.set_variables)
    async def on_set_variables(self, **payload: Any) -> result201.SetVariables:
        await self.answers.note("SetVariables", payload)
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": self.answers.status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in payload["set_variable_data"]
            ]
        )

    @on(Action201.set_charging_profile)
    async def on_set_charging_profile(self, **payload: Any) -> result201.SetChargingProfile:
        await self.answers.note("SetChargingProfile", payload)
        return result201.SetChargingProfile(status=self.answers.status)

    @on(Action201.clear_charging_profile)
    async def on_clear_charging_profile(self, **payload: Any) -> result201.ClearChargingProfile:
        await self.answers.note("ClearChargingProfile", payload)
        return result201.ClearChargingProfile(status=self.answers.status)

    @on(Action201.get_composite_schedule)
    async def on_get_composite_schedule(self, **payload: Any) -> result201.GetCompositeSchedule:
        await self.answers.note("GetCompositeSchedule", payload)
        return result201.GetCompositeSchedule(
            status=self.answers.status,
            schedule={
                "evse_id": payload["evse_id"],
                "duration": payload["duration"],
                "schedule_start": "2026-11-21T12:00:00Z",
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
            },
        )

    @on(Action201.request_start_transaction)
    async def on_request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        await self.answers.note("RequestStartTransaction", payload)
        return result201.RequestStartTransaction(status=self.answers.status)

    @on(Action201.request_stop_transaction)
    async def on_request_stop(self, **payload: Any) -> result201.RequestStopTransaction:
        await self.answers.note("RequestStopTransaction", payload)
        return result201.RequestStopTransaction(status=self.answers.status)

    @on(Action201.trigger_message)
    async def on_trigger_message(self, **payload: Any) -> result201.TriggerMessage:
        await self.answers.note("TriggerMessage", payload)
        return result201.TriggerMessage(status=self.answers.status)

    @on(Action201.reset)
    async def on_reset(self, **payload: Any) -> result201.Reset:
        await self.answers.note("Reset", payload)
        return result201.Reset(status=self.answers.status)


@contextlib.asynccontextmanager
async def raw(
    url: str, identity: str, password: str, version: str = "1.6", **options: Any
) -> AsyncIterator[ClientConnection]:
    """A bare WebSocket, to send frames byte for byte and read the replies."""
    async with websockets.connect(
        url,
        subprotocols=[f"ocpp{version}"],  # type: ignore[list-item]
        additional_headers=basic(identity, password),
        open_timeout=5,
        **options,
    ) as connection:
        yield connection


async def reply(connection: ClientConnection) -> list[Any]:
    """The next reply to the raw socket's own CALLs; CALLs from amphub (it reads a
    charger's capabilities after boot) are answered NotImplemented on the way."""
    while True:
        frame = json.loads(await connection.recv())
        if frame[0] != 2:
            return list(frame)
        await connection.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))


async def _serve(charger: ChargePoint16 | ChargePoint201) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        await charger.start()


@contextlib.asynccontextmanager
async def charger_16(
    url: str, identity: str, password: str, **options: Any
) -> AsyncIterator[Charger16]:
    """A connected 1.6 charger whose receive loop runs until the block ends."""
    async with websockets.connect(
        url,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=basic(identity, password),
        open_timeout=5,
        **options,
    ) as connection:
        charger = Charger16(identity, connection)
        task = asyncio.create_task(_serve(charger))
        try:
            yield charger
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def charger_201(url: str, identity: str, password: str) -> AsyncIterator[Charger201]:
    async with websockets.connect(
        url,
        subprotocols=["ocpp2.0.1"],
        additional_headers=basic(identity, password),
        open_timeout=5,
    ) as connection:
        charger = Charger201(identity, connection)
        task = asyncio.create_task(_serve(charger))
        try:
            yield charger
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

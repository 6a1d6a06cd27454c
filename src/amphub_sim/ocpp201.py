"""The simulated charger as an OCPP 2.0.1 client (``ocpp`` library, client side). One
connector per EVSE, so an EVSE id equals the simulator's connector id."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from amphub_sim.charger import Connector, Event, EventKind, Status
from amphub_sim.ocpp_client import SimulatedStation
from amphub_sim.ocpp_link import BootRefused, after, on
from amphub_sim.wire import profile_201, purpose_of, sampled_values_201, timestamp

LOGGER = logging.getLogger(__name__)
CHARGING_STATE = {
    Status.PREPARING: "EVConnected",
    Status.CHARGING: "Charging",
    Status.SUSPENDED_EV: "SuspendedEV",
    Status.SUSPENDED_EVSE: "SuspendedEVSE",
    Status.FINISHING: "EVConnected",
    Status.AVAILABLE: "Idle",
}
_STOP = {  # the simulator's 1.6-style reasons → (triggerReason, stoppedReason)
    "EVDisconnected": ("EVCommunicationLost", "EVDisconnected"),
    "Remote": ("RemoteStop", "Remote"),
    "HardReset": ("ResetCommand", "ImmediateReset"),
    "SoftReset": ("ResetCommand", "Reboot"),
}


class Client201(SimulatedStation, ChargePoint):  # type: ignore[misc]
    # -- outgoing ----------------------------------------------------------------------------

    async def boot(self, reason: str) -> float:
        config = self.sim.config
        reply = await self.call(
            call.BootNotification(
                charging_station={
                    "model": f"Sim{config.phases}P{config.max_a:.0f}A",
                    "vendor_name": "amphub-sim",
                    "serial_number": config.identity,
                    "firmware_version": "sim-1.0",
                },
                reason=reason,
            ),
            suppress=False,
        )
        if reply.status != "Accepted":
            raise BootRefused(f"BootNotification answered {reply.status}")
        return float(reply.interval or 300)

    async def heartbeat(self) -> None:
        await self._ask(call.Heartbeat())

    async def _status(self, evse_id: int, occupied: bool, at: str) -> None:
        await self._ask(
            call.StatusNotification(
                timestamp=at,
                connector_status="Occupied" if occupied else "Available",
                evse_id=evse_id,
                connector_id=1,
            )
        )

    async def statuses(self) -> None:
        now = timestamp(self.link.clock())
        for connector in self.sim.connectors.values():
            await self._status(connector.connector_id, connector.ev is not None, now)

    def _next_seq(self, transaction_id: str) -> int:
        """seqNo counts per transaction across reconnections (amphub deduplicates by it)."""
        seq = self.sim.tx_seq.get(transaction_id, 0)
        self.sim.tx_seq[transaction_id] = seq + 1
        return seq

    async def _transaction_event(
        self,
        event_type: str,
        trigger: str,
        transaction_id: str,
        at: datetime,
        info: dict[str, Any],
        connector: Connector | None = None,
        context: str | None = None,
        **extra: Any,
    ) -> None:
        payload: dict[str, Any] = {
            "event_type": event_type,
            "timestamp": timestamp(at),
            "trigger_reason": trigger,
            "seq_no": self._next_seq(transaction_id),
            "transaction_info": {"transaction_id": transaction_id, **info},
            **extra,
        }
        if connector is not None and context is not None:
            values = sampled_values_201(connector, connector.ev.soc if connector.ev else None)
            if context != "Sample.Periodic":
                values = [
                    {**v, "context": context}
                    for v in values
                    if v["measurand"] == "Energy.Active.Import.Register"
                ]
            payload["meter_value"] = [{"timestamp": timestamp(at), "sampled_value": values}]
        booted = self.link.connected_at
        if booted is not None and at < booted:
            payload["offline"] = True  # queued while the connection was down
        await self._ask(call.TransactionEvent(**payload))

    async def deliver(self, event: Event) -> None:
        at = event.at
        connector = self.sim.connectors[event.connector_id]
        tx = event.transaction_id
        if event.kind is EventKind.PLUGGED and tx is not None:
            await self._status(event.connector_id, True, timestamp(at))
            await self._transaction_event(
                "Started",
                "CablePluggedIn",
                tx,
                at,
                {"charging_state": "EVConnected"},
                connector,
                "Transaction.Begin",
                evse={"id": event.connector_id, "connector_id": 1},
                id_token={"id_token": event.id_tag or "SIM", "type": "Local"},
            )
        elif event.kind is EventKind.STATUS and tx is not None and event.status is not None:
            await self._transaction_event(
                "Updated",
                "ChargingStateChanged",
                tx,
                at,
                {"charging_state": CHARGING_STATE[event.status]},
            )
        elif event.kind in (EventKind.STOPPED, EventKind.UNPLUGGED):
            if tx is not None:
                trigger, stopped = _STOP.get(event.reason, ("AbnormalCondition", "Other"))
                if event.kind is EventKind.UNPLUGGED:
                    trigger = "EVDeparted"
                state = "Idle" if event.kind is EventKind.UNPLUGGED else "EVConnected"
                await self._transaction_event(
                    "Ended",
                    trigger,
                    tx,
                    at,
                    {"charging_state": state, "stopped_reason": stopped},
                    connector,
                    "Transaction.End",
                )
                self.sim.tx_seq.pop(tx, None)
            if event.kind is EventKind.UNPLUGGED:
                await self._status(event.connector_id, False, timestamp(at))

    async def meter_values(self, connector: Connector) -> None:
        if connector.transaction_id is None:
            return
        await self._transaction_event(
            "Updated",
            "MeterValuePeriodic",
            connector.transaction_id,
            self.link.clock(),
            {},
            connector,
            "Sample.Periodic",
        )

    async def triggered(self, message: str, connector_id: int | None) -> None:
        if message == "BootNotification":
            await self.boot("Triggered")
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            await self.statuses()
        elif message in ("MeterValues", "TransactionEvent"):
            for connector in self.sim.connectors.values():
                if connector_id in (None, 0, connector.connector_id) and connector.charging_ready:
                    await self.meter_values(connector)

    # -- incoming ----------------------------------------------------------------------------

    def _variables(self) -> dict[tuple[str, str], tuple[str, bool]]:
        sim = self.sim
        return {
            ("SmartChargingCtrlr", "ProfileStackLevel"): (str(sim.config.max_stack_level), True),
            ("SmartChargingCtrlr", "RateUnit"): (",".join(sim.config.rate_units), True),
            ("SmartChargingCtrlr", "PeriodsPerSchedule"): ("24", True),
            ("OCPPCommCtrlr", "HeartbeatInterval"): (str(int(sim.heartbeat_s)), False),
            ("SampledDataCtrlr", "TxUpdatedInterval"): (str(int(sim.meter_values_s)), False),
        }

    @staticmethod
    def _result(item: dict[str, Any], status: str, value: str | None = None) -> dict[str, Any]:
        result = {
            "component": item["component"],
            "variable": item["variable"],
            "attribute_status": status,
        }
        if value is not None:
            result["attribute_value"] = value
        return result

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]]) -> Any:
        known = self._variables()
        results = []
        for item in get_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            if key in known:
                results.append(self._result(item, "Accepted", known[key][0]))
            elif key[0] in {name for name, _ in known} or key[0] == "SecurityCtrlr":
                results.append(self._result(item, "UnknownVariable"))
            else:
                results.append(self._result(item, "UnknownComponent"))
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]]) -> Any:
        known = self._variables()
        results = []
        for item in set_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            value = str(item["attribute_value"])
            if key == ("SecurityCtrlr", "BasicAuthPassword"):
                self.sim.password = value
                results.append(self._result(item, "Accepted"))
            elif key not in known:
                results.append(self._result(item, "UnknownVariable"))
            elif known[key][1] or not value.isdigit():
                results.append(self._result(item, "Rejected"))
            else:
                if key[1] == "HeartbeatInterval":
                    self.sim.heartbeat_s = max(float(value), 1.0)
                else:
                    self.sim.meter_values_s = max(float(value), 1.0)
                results.append(self._result(item, "Accepted"))
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any]) -> Any:
        status = self._take_profile(evse_id, lambda: profile_201(evse_id, charging_profile))
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        cleared = self.sim.profiles.clear(
            charging_profile_id,
            criteria.get("evse_id"),
            None if purpose is None else purpose_of(purpose),
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None
    ) -> Any:
        composite = self._composite(evse_id, duration, charging_rate_unit)
        if composite is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": composite.start,
                "charging_rate_unit": composite.unit,
                "charging_schedule_period": composite.periods,
            },
        )

    @on(Action.request_start_transaction)
    def on_request_start(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        connector = self.sim.connector(evse_id or 1)
        if connector is None or (connector.transaction_id is not None and not connector.tx_done):
            return call_result.RequestStartTransaction(status="Rejected")
        if connector.ev is not None:
            connector.id_tag = id_token["id_token"]
            self.sim.resume_after_boot(self.link.clock())
        else:
            self.sim.remote_tag = id_token["id_token"]
        self.link.wake()
        return call_result.RequestStartTransaction(status="Accepted")

    @on(Action.request_stop_transaction)
    def on_request_stop(self, transaction_id: str) -> Any:
        return call_result.RequestStopTransaction(status=self._stop_on_request(transaction_id))

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, evse: dict[str, Any] | None = None) -> Any:
        if requested_message not in (
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "TransactionEvent",
        ):
            return call_result.TriggerMessage(status="NotImplemented")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None
    ) -> None:
        self.link.trigger(requested_message, None if evse is None else evse.get("id"))

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None) -> Any:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, evse_id: int | None = None) -> None:
        self.link.request_reset(type)

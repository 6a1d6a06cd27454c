"""The simulated charger as an OCPP 1.6J client (``ocpp`` library, client side)."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from amphub_sim.charger import Connector, Event, EventKind, Status
from amphub_sim.ocpp_client import SimulatedStation
from amphub_sim.ocpp_link import BootRefused, after, on
from amphub_sim.wire import profile_16, purpose_of, sampled_values, timestamp

LOGGER = logging.getLogger(__name__)
_READ_ONLY = {
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "NumberOfConnectors",
    "ChargingScheduleMaxPeriods",
}
_UNITS_16 = {"A": "Current", "W": "Power"}


class Client16(SimulatedStation, ChargePoint):  # type: ignore[misc]
    # -- outgoing ----------------------------------------------------------------------------

    async def boot(self, reason: str) -> float:
        config = self.sim.config
        reply = await self.call(
            call.BootNotification(
                charge_point_model=f"Sim{config.phases}P{config.max_a:.0f}A",
                charge_point_vendor="amphub-sim",
                charge_point_serial_number=config.identity,
                firmware_version="sim-1.0",
            ),
            suppress=False,
        )
        if reply.status != "Accepted":
            raise BootRefused(f"BootNotification answered {reply.status}")
        return float(reply.interval or 300)

    async def heartbeat(self) -> None:
        await self._ask(call.Heartbeat())

    async def _status(self, connector_id: int, status: Status, at: str) -> None:
        await self._ask(
            call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status=status.value, timestamp=at
            )
        )

    async def statuses(self) -> None:
        now = timestamp(self.link.clock())
        await self._status(0, Status.AVAILABLE, now)
        for connector in self.sim.connectors.values():
            await self._status(connector.connector_id, connector.status, now)

    async def deliver(self, event: Event) -> None:
        at = timestamp(event.at)
        if event.kind is EventKind.PLUGGED:
            await self._status(event.connector_id, Status.PREPARING, at)
            reply = await self._ask(
                call.StartTransaction(
                    connector_id=event.connector_id,
                    id_tag=event.id_tag or "SIM",
                    meter_start=int(event.energy_wh),
                    timestamp=at,
                )
            )
            connector = self.sim.connectors[event.connector_id]
            if reply is not None and connector.ev is not None and connector.transaction_id is None:
                # Charging goes on whatever idTagInfo says (StopTransactionOnInvalidId=false).
                self.sim.transaction_started(
                    event.connector_id, str(reply.transaction_id), self.link.clock()
                )
        elif event.kind is EventKind.STATUS and event.status is not None:
            await self._status(event.connector_id, event.status, at)
        elif event.kind in (EventKind.STOPPED, EventKind.UNPLUGGED):
            if event.transaction_id is not None:
                await self._ask(
                    call.StopTransaction(
                        meter_stop=int(event.energy_wh),
                        timestamp=at,
                        transaction_id=int(event.transaction_id),
                        reason=event.reason,
                        id_tag=event.id_tag,
                    )
                )
            assert event.status is not None
            await self._status(event.connector_id, event.status, at)

    async def meter_values(self, connector: Connector) -> None:
        tx = connector.transaction_id
        soc = connector.ev.soc if connector.ev is not None else None
        await self._ask(
            call.MeterValues(
                connector_id=connector.connector_id,
                transaction_id=None if tx is None else int(tx),
                meter_value=[
                    {
                        "timestamp": timestamp(self.link.clock()),
                        "sampledValue": sampled_values(connector, soc),
                    }
                ],
            )
        )

    async def triggered(self, message: str, connector_id: int | None) -> None:
        if message == "BootNotification":
            await self.boot("Triggered")
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            await self.statuses()
        elif message == "MeterValues":
            for connector in self.sim.connectors.values():
                if connector_id in (None, 0, connector.connector_id):
                    await self.meter_values(connector)

    # -- incoming ----------------------------------------------------------------------------

    def _configuration(self) -> dict[str, tuple[str, bool]]:
        sim = self.sim
        units = ",".join(_UNITS_16[u] for u in sim.config.rate_units)
        return {
            "ChargeProfileMaxStackLevel": (str(sim.config.max_stack_level), True),
            "ChargingScheduleAllowedChargingRateUnit": (units, True),
            "ChargingScheduleMaxPeriods": ("24", True),
            "NumberOfConnectors": (str(len(sim.connectors)), True),
            "HeartbeatInterval": (str(int(sim.heartbeat_s)), False),
            "MeterValueSampleInterval": (str(int(sim.meter_values_s)), False),
            "MeterValuesSampledData": (
                "Current.Import,Current.Offered,Power.Active.Import,"
                "Energy.Active.Import.Register,SoC",
                False,
            ),
            "StopTransactionOnInvalidId": ("false", False),
        }

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        known = self._configuration()
        keys = key or list(known)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": known[k][1], "value": known[k][0]}
                for k in keys
                if k in known
            ],
            unknown_key=[k for k in keys if k not in known and k != "AuthorizationKey"] or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        if key == "AuthorizationKey":
            self.sim.password = value  # used from the next connection on
            return call_result.ChangeConfiguration(status="Accepted")
        known = self._configuration()
        if key not in known:
            return call_result.ChangeConfiguration(status="NotSupported")
        if (
            known[key][1]
            or not value.isdigit()
            or key not in ("HeartbeatInterval", "MeterValueSampleInterval")
        ):
            return call_result.ChangeConfiguration(status="Rejected")
        seconds = max(float(value), 1.0)
        if key == "HeartbeatInterval":
            self.sim.heartbeat_s = seconds
        else:
            self.sim.meter_values_s = seconds
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> call_result.SetChargingProfile:
        status = self._take_profile(
            connector_id, lambda: profile_16(connector_id, cs_charging_profiles)
        )
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
    ) -> call_result.ClearChargingProfile:
        purpose = None if charging_profile_purpose is None else purpose_of(charging_profile_purpose)
        cleared = self.sim.profiles.clear(id, connector_id, purpose, stack_level)
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None
    ) -> call_result.GetCompositeSchedule:
        composite = self._composite(connector_id, duration, charging_rate_unit)
        if composite is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=composite.start,
            charging_schedule={
                "duration": duration,
                "start_schedule": composite.start,
                "charging_rate_unit": composite.unit,
                "charging_schedule_period": composite.periods,
            },
        )

    @on(Action.remote_start_transaction)
    def on_remote_start(
        self, id_tag: str, connector_id: int | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        connector = self.sim.connector(connector_id or 1)
        if connector is None or connector.transaction_id is not None:
            return call_result.RemoteStartTransaction(status="Rejected")
        if connector.ev is not None and connector.tx_done:
            connector.id_tag = id_tag
            self.sim.resume_after_boot(self.link.clock())
        else:
            self.sim.remote_tag = id_tag  # for the next car plugged in
        self.link.wake()
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        return call_result.RemoteStopTransaction(status=self._stop_on_request(str(transaction_id)))

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> call_result.TriggerMessage:
        if requested_message not in (
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
        ):
            return call_result.TriggerMessage(status="NotImplemented")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> None:
        self.link.trigger(requested_message, connector_id)

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str) -> None:
        self.link.request_reset(type)

"""OCPP 2.0.1: the messages a charging station sends, routed with the ``ocpp`` library's
``@on``. amphub's connector id is the station's EVSE id (one connector per EVSE, which is
what AC chargers have)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocpp.routing import create_route_map
from ocpp.v201.enums import Action

from amphub.adapters.ocpp.connection import on
from amphub.adapters.ocpp.convert import format_timestamp, parse_timestamp, sampled_value_201
from amphub.adapters.ocpp.v16 import AUTHORIZATION, REGISTRATION
from amphub.application.charging.ports import BootReport, SecurityEvent, StatusReport
from amphub.application.charging.service import ChargerSession, ChargingService
from amphub.domain.charging import (
    ConnectorStatus,
    MeterReading,
    TransactionEvent,
    TransactionEventType,
    reading_from_samples,
)

CONNECTOR_STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Occupied": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}
CHARGING_STATE = {
    "Charging": ConnectorStatus.CHARGING,
    "EVConnected": ConnectorStatus.PREPARING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "Idle": ConnectorStatus.PREPARING,
}
EVENT_TYPE = {
    "Started": TransactionEventType.STARTED,
    "Updated": TransactionEventType.UPDATED,
    "Ended": TransactionEventType.ENDED,
}


def readings(meter_values: Sequence[dict[str, Any]]) -> list[MeterReading]:
    return [
        reading_from_samples(
            parse_timestamp(meter_value["timestamp"], "meterValue.timestamp"),
            [sampled_value_201(raw) for raw in meter_value["sampledValue"]],
        )
        for meter_value in meter_values
    ]


def _token(p: dict[str, Any]) -> str | None:
    """The id token, unless the station started without authorisation."""
    token = p.get("idToken")
    if token is None or token.get("type") == "NoAuthorization":
        return None
    return str(token["idToken"])


class Handlers201:
    def __init__(self, service: ChargingService) -> None:
        self._service = service
        self.route_map = create_route_map(self)

    @on(Action.boot_notification)
    async def boot_notification(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        station = p["chargingStation"]
        modem = station.get("modem", {})
        report = BootReport(
            vendor=station["vendorName"],
            model=station["model"],
            serial_number=station.get("serialNumber", ""),
            firmware_version=station.get("firmwareVersion", ""),
            iccid=modem.get("iccid", ""),
            imsi=modem.get("imsi", ""),
            reason=p["reason"],
        )
        decision = await self._service.boot(session, report)
        return {
            "currentTime": format_timestamp(decision.at),
            "interval": decision.interval_s,
            "status": REGISTRATION[decision.status],
        }

    @on(Action.heartbeat)
    async def heartbeat(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": format_timestamp(await self._service.heartbeat(session))}

    @on(Action.status_notification)
    async def status_notification(
        self, session: ChargerSession, p: dict[str, Any]
    ) -> dict[str, Any]:
        report = StatusReport(
            connector_id=p["evseId"],
            status=CONNECTOR_STATUS[p["connectorStatus"]],
            at=parse_timestamp(p["timestamp"]),
        )
        await self._service.status(session, report)
        return {}

    @on(Action.authorize)
    async def authorize(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        token = _token(p)
        if token is None:
            return {"idTokenInfo": {"status": "Accepted"}}
        status = await self._service.authorize(session, token)
        return {"idTokenInfo": {"status": AUTHORIZATION[status]}}

    @on(Action.transaction_event)
    async def transaction_event(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        info = p["transactionInfo"]
        evse = p.get("evse")
        values = readings(p.get("meterValue", []))
        energies = [(r.at, r.energy_wh) for r in values if r.energy_wh is not None]
        state = info.get("chargingState")
        event = TransactionEvent(
            transaction_ref=info["transactionId"],
            seq_no=p["seqNo"],
            event_type=EVENT_TYPE[p["eventType"]],
            timestamp=parse_timestamp(p["timestamp"]),
            trigger_reason=p["triggerReason"],
            connector_id=None if evse is None else evse["id"],
            offline=p.get("offline", False),
            charging_state=None if state is None else CHARGING_STATE[state],
            stopped_reason=info.get("stoppedReason", "Local" if p["eventType"] == "Ended" else ""),
            id_tag=_token(p),
            energy_wh=max(energies)[1] if energies else None,
            remote_start_id=info.get("remoteStartId"),
        )
        status = await self._service.transaction_event(session, event, values)
        return {} if status is None else {"idTokenInfo": {"status": AUTHORIZATION[status]}}

    @on(Action.meter_values)
    async def meter_values(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        await self._service.meter_values(session, p["evseId"], None, readings(p["meterValue"]))
        return {}

    @on(Action.data_transfer)
    async def data_transfer(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        self._service.data_transfer(session, p["vendorId"], p.get("messageId"))
        return {"status": "UnknownVendorId"}

    @on(Action.security_event_notification)
    async def security_event(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        event = SecurityEvent(p["type"], parse_timestamp(p["timestamp"]), p.get("techInfo", ""))
        await self._service.security_event(session, event)
        return {}

    @on(Action.notify_event)
    async def notify_event(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        self._service.note(session, "NotifyEvent", f"{len(p['eventData'])} events")
        return {}

    @on(Action.notify_report)
    async def notify_report(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        self._service.note(session, "NotifyReport", f"request {p['requestId']} part {p['seqNo']}")
        return {}

    @on(Action.firmware_status_notification)
    async def firmware_status(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        self._service.note(session, "FirmwareStatusNotification", p["status"])
        return {}

    @on(Action.log_status_notification)
    async def log_status(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        self._service.note(session, "LogStatusNotification", p["status"])
        return {}

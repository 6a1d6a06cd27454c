"""OCPP 1.6J: the messages a charge point sends, routed with the ``ocpp`` library's ``@on``.

Each handler receives the charger's session and the payload exactly as validated against
the official schema (camelCase, as on the wire), turns it into domain values, calls the
charging service and returns the reply payload. Handlers never send calls themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocpp.routing import create_route_map
from ocpp.v16.enums import Action

from amphub.adapters.ocpp.connection import on
from amphub.adapters.ocpp.convert import format_timestamp, number, parse_timestamp, sampled_value_16
from amphub.application.charging.ports import BootReport, SecurityEvent, StatusReport
from amphub.application.charging.service import ChargerSession, ChargingService
from amphub.domain.charging import (
    AuthorizationStatus,
    BootStatus,
    ConnectorStatus,
    MeterReading,
    StartTransaction,
    StopTransaction,
    reading_from_samples,
)

STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.PREPARING,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "Finishing": ConnectorStatus.FINISHING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}
AUTHORIZATION = {
    AuthorizationStatus.ACCEPTED: "Accepted",
    AuthorizationStatus.BLOCKED: "Blocked",
    AuthorizationStatus.EXPIRED: "Expired",
    AuthorizationStatus.INVALID: "Invalid",
    AuthorizationStatus.CONCURRENT_TX: "ConcurrentTx",
}
REGISTRATION = {
    BootStatus.ACCEPTED: "Accepted",
    BootStatus.PENDING: "Pending",
    BootStatus.REJECTED: "Rejected",
}


def readings(meter_values: Sequence[dict[str, Any]]) -> list[MeterReading]:
    result = []
    for meter_value in meter_values:
        samples = (sampled_value_16(raw) for raw in meter_value["sampledValue"])
        at = parse_timestamp(meter_value["timestamp"], "meterValue.timestamp")
        result.append(reading_from_samples(at, [s for s in samples if s is not None]))
    return result


def _id_tag_info(status: AuthorizationStatus) -> dict[str, Any]:
    return {"status": AUTHORIZATION[status]}


class Handlers16:
    """One instance per gateway; stateless apart from the service it calls."""

    def __init__(self, service: ChargingService) -> None:
        self._service = service
        self.route_map = create_route_map(self)

    @on(Action.boot_notification)
    async def boot_notification(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        report = BootReport(
            vendor=p["chargePointVendor"],
            model=p["chargePointModel"],
            serial_number=p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber", ""),
            firmware_version=p.get("firmwareVersion", ""),
            iccid=p.get("iccid", ""),
            imsi=p.get("imsi", ""),
            meter_type=p.get("meterType", ""),
            meter_serial_number=p.get("meterSerialNumber", ""),
        )
        decision = await self._service.boot(session, report)
        return {
            "status": REGISTRATION[decision.status],
            "currentTime": format_timestamp(decision.at),
            "interval": decision.interval_s,
        }

    @on(Action.heartbeat)
    async def heartbeat(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": format_timestamp(await self._service.heartbeat(session))}

    @on(Action.status_notification)
    async def status_notification(
        self, session: ChargerSession, p: dict[str, Any]
    ) -> dict[str, Any]:
        at = parse_timestamp(p["timestamp"]) if "timestamp" in p else self._service.now()
        report = StatusReport(
            connector_id=p["connectorId"],
            status=STATUS[p["status"]],
            at=at,
            error_code=p["errorCode"],
            info=p.get("info", ""),
            vendor_error_code=p.get("vendorErrorCode", ""),
        )
        await self._service.status(session, report)
        return {}

    @on(Action.authorize)
    async def authorize(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        return {"idTagInfo": _id_tag_info(await self._service.authorize(session, p["idTag"]))}

    @on(Action.start_transaction)
    async def start_transaction(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        start = StartTransaction(
            connector_id=p["connectorId"],
            id_tag=p["idTag"],
            meter_start_wh=float(p["meterStart"]),
            timestamp=parse_timestamp(p["timestamp"]),
            reservation_id=p.get("reservationId"),
        )
        result = await self._service.start_transaction(session, start)
        return {
            "transactionId": result.transaction_id,
            "idTagInfo": _id_tag_info(result.id_tag_status),
        }

    @on(Action.stop_transaction)
    async def stop_transaction(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        stop = StopTransaction(
            transaction_id=str(p["transactionId"]),
            meter_stop_wh=number(p["meterStop"], "meterStop"),
            timestamp=parse_timestamp(p["timestamp"]),
            reason=p.get("reason", "Local"),
            id_tag=p.get("idTag"),
        )
        _, status = await self._service.stop_transaction(
            session, stop, readings(p.get("transactionData", []))
        )
        return {} if status is None else {"idTagInfo": _id_tag_info(status)}

    @on(Action.meter_values)
    async def meter_values(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        transaction_id = p.get("transactionId")
        await self._service.meter_values(
            session,
            p["connectorId"],
            None if transaction_id is None else str(transaction_id),
            readings(p["meterValue"]),
        )
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

    @on(Action.firmware_status_notification)
    async def firmware_status(self, session: ChargerSession, p: dict[str, Any]) -> dict[str, Any]:
        self._service.note(session, "FirmwareStatusNotification", p["status"])
        return {}

    @on(Action.diagnostics_status_notification)
    async def diagnostics_status(
        self, session: ChargerSession, p: dict[str, Any]
    ) -> dict[str, Any]:
        self._service.note(session, "DiagnosticsStatusNotification", p["status"])
        return {}

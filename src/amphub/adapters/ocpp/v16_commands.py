"""OCPP 1.6J: the calls amphub sends, translated from the version-neutral commands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from amphub.adapters.ocpp.convert import format_timestamp, number, parse_timestamp
from amphub.application.charging.errors import CommandNotSupported, CommandRejected
from amphub.application.charging.ports import (
    ConfigChange,
    ConfigKey,
    ConfigValue,
    ProfileCriteria,
    ResetKind,
    ResetOutcome,
    TriggerableMessage,
)
from amphub.domain.smart_charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    CompositeSchedule,
    RecurrencyKind,
    SchedulePeriod,
)


class Caller(Protocol):
    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]: ...


PURPOSE = {
    ChargingProfilePurpose.CHARGER_MAX: "ChargePointMaxProfile",
    ChargingProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    ChargingProfilePurpose.TX: "TxProfile",
}
KIND = {
    ChargingProfileKind.ABSOLUTE: "Absolute",
    ChargingProfileKind.RECURRING: "Recurring",
    ChargingProfileKind.RELATIVE: "Relative",
}
RECURRENCY = {RecurrencyKind.DAILY: "Daily", RecurrencyKind.WEEKLY: "Weekly"}
TRIGGER = {
    TriggerableMessage.BOOT_NOTIFICATION: "BootNotification",
    TriggerableMessage.HEARTBEAT: "Heartbeat",
    TriggerableMessage.METER_VALUES: "MeterValues",
    TriggerableMessage.STATUS_NOTIFICATION: "StatusNotification",
    TriggerableMessage.FIRMWARE_STATUS_NOTIFICATION: "FirmwareStatusNotification",
}


def require_status(action: str, reply: dict[str, Any], *accepted: str) -> str:
    status = str(reply["status"])
    if status not in accepted:
        raise CommandRejected(action, status)
    return status


def schedule_payload(schedule: ChargingSchedule, decimals: int | None) -> dict[str, Any]:
    """A chargingSchedule; 1.6 limits are multiples of 0.1 (``decimals=1``)."""

    def limit(value: float) -> float:
        return value if decimals is None else round(value, decimals)

    periods = []
    for period in schedule.periods:
        item: dict[str, Any] = {"startPeriod": period.start_s, "limit": limit(period.limit)}
        if period.number_phases is not None:
            item["numberPhases"] = period.number_phases
        periods.append(item)
    payload: dict[str, Any] = {
        "chargingRateUnit": schedule.rate_unit.value,
        "chargingSchedulePeriod": periods,
    }
    if schedule.duration_s is not None:
        payload["duration"] = schedule.duration_s
    if schedule.start_at is not None:
        payload["startSchedule"] = format_timestamp(schedule.start_at)
    if schedule.min_rate is not None:
        payload["minChargingRate"] = limit(schedule.min_rate)
    return payload


def profile_payload(profile: ChargingProfile) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "chargingProfileId": profile.profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": PURPOSE[profile.purpose],
        "chargingProfileKind": KIND[profile.kind],
        "chargingSchedule": schedule_payload(profile.schedule, decimals=1),
    }
    if profile.transaction_ref is not None:
        if not profile.transaction_ref.isdigit():
            raise CommandNotSupported("a 1.6 transaction id is an integer")
        payload["transactionId"] = int(profile.transaction_ref)
    if profile.recurrency is not None:
        payload["recurrencyKind"] = RECURRENCY[profile.recurrency]
    if profile.valid_from is not None:
        payload["validFrom"] = format_timestamp(profile.valid_from)
    if profile.valid_to is not None:
        payload["validTo"] = format_timestamp(profile.valid_to)
    return payload


def parse_schedule(raw: dict[str, Any], duration_s: int | None = None) -> ChargingSchedule:
    """A chargingSchedule as a charger reports it (both versions share the shape)."""
    return ChargingSchedule(
        rate_unit=ChargingRateUnit(raw["chargingRateUnit"]),
        periods=tuple(
            SchedulePeriod(
                int(p["startPeriod"]), number(p["limit"], "limit"), p.get("numberPhases")
            )
            for p in raw["chargingSchedulePeriod"]
        ),
        duration_s=raw.get("duration", duration_s),
        start_at=parse_timestamp(raw["startSchedule"]) if "startSchedule" in raw else None,
        min_rate=None if raw.get("minChargingRate") is None else float(raw["minChargingRate"]),
    )


class VersionCommands:
    """What the commands of both versions share: one connection's caller, and a call whose
    reply must carry one of the ``accepted`` statuses."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def _call(self, action: str, payload: dict[str, Any], *accepted: str) -> dict[str, Any]:
        reply = await self._caller.call(action, payload)
        if accepted:
            require_status(action, reply, *accepted)
        return reply


class Commands16(VersionCommands):
    """The commands for one 1.6 connection."""

    async def set_charging_profile(self, connector_id: int, profile: ChargingProfile) -> None:
        payload = {"connectorId": connector_id, "csChargingProfiles": profile_payload(profile)}
        await self._call("SetChargingProfile", payload, "Accepted")

    async def clear_charging_profile(self, criteria: ProfileCriteria) -> bool:
        payload: dict[str, Any] = {}
        if criteria.profile_id is not None:
            payload["id"] = criteria.profile_id
        if criteria.connector_id is not None:
            payload["connectorId"] = criteria.connector_id
        if criteria.purpose is not None:
            payload["chargingProfilePurpose"] = PURPOSE[criteria.purpose]
        if criteria.stack_level is not None:
            payload["stackLevel"] = criteria.stack_level
        reply = await self._call("ClearChargingProfile", payload, "Accepted", "Unknown")
        return bool(reply["status"] == "Accepted")

    async def get_composite_schedule(
        self, connector_id: int, duration_s: int, rate_unit: ChargingRateUnit | None
    ) -> CompositeSchedule | None:
        payload: dict[str, Any] = {"connectorId": connector_id, "duration": duration_s}
        if rate_unit is not None:
            payload["chargingRateUnit"] = rate_unit.value
        reply = await self._call("GetCompositeSchedule", payload, "Accepted")
        raw = reply.get("chargingSchedule")
        if raw is None:
            return None
        if "startSchedule" not in raw and "scheduleStart" in reply:
            raw = {**raw, "startSchedule": reply["scheduleStart"]}
        return CompositeSchedule(reply.get("connectorId", connector_id), parse_schedule(raw))

    async def remote_start(
        self,
        id_tag: str,
        connector_id: int | None,
        profile: ChargingProfile | None,
        remote_start_id: int,
    ) -> None:
        payload: dict[str, Any] = {"idTag": id_tag}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        if profile is not None:
            payload["chargingProfile"] = profile_payload(profile)
        await self._call("RemoteStartTransaction", payload, "Accepted")

    async def remote_stop(self, transaction_ref: str) -> None:
        if not transaction_ref.isdigit():
            raise CommandNotSupported("a 1.6 transaction id is an integer")
        await self._call(
            "RemoteStopTransaction", {"transactionId": int(transaction_ref)}, "Accepted"
        )

    async def get_configuration(self, keys: Sequence[ConfigKey]) -> list[ConfigValue]:
        payload = {"key": [key.key for key in keys]} if keys else {}
        reply = await self._call("GetConfiguration", payload)
        known = {item["key"]: item for item in reply.get("configurationKey", [])}
        if not keys:
            return [
                ConfigValue(ConfigKey(name), item.get("value"), bool(item["readonly"]))
                for name, item in known.items()
            ]
        return [
            ConfigValue(key, known[key.key].get("value"), bool(known[key.key]["readonly"]))
            if key.key in known
            else ConfigValue(key, None)
            for key in keys
        ]

    async def change_configuration(self, key: ConfigKey, value: str) -> ConfigChange:
        payload = {"key": key.key, "value": value}
        reply = await self._call("ChangeConfiguration", payload, "Accepted", "RebootRequired")
        return (
            ConfigChange.ACCEPTED if reply["status"] == "Accepted" else ConfigChange.REBOOT_REQUIRED
        )

    async def trigger_message(self, message: TriggerableMessage, connector_id: int | None) -> None:
        payload: dict[str, Any] = {"requestedMessage": TRIGGER[message]}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        await self._call("TriggerMessage", payload, "Accepted")

    async def reset(self, kind: ResetKind) -> ResetOutcome:
        await self._call(
            "Reset", {"type": "Hard" if kind is ResetKind.HARD else "Soft"}, "Accepted"
        )
        return ResetOutcome.ACCEPTED

"""OCPP 2.0.1: the calls amphub sends, translated from the version-neutral commands.

Configuration is the device model: a setting is a (component, variable) pair read with
GetVariables and written with SetVariables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amphub.adapters.ocpp.convert import format_timestamp
from amphub.adapters.ocpp.v16_commands import (
    KIND,
    RECURRENCY,
    TRIGGER,
    VersionCommands,
    parse_schedule,
    schedule_payload,
)
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
    ChargingProfilePurpose,
    ChargingRateUnit,
    CompositeSchedule,
)

PURPOSE = {
    ChargingProfilePurpose.CHARGER_MAX: "ChargingStationMaxProfile",
    ChargingProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    ChargingProfilePurpose.TX: "TxProfile",
}


def profile_payload(profile: ChargingProfile) -> dict[str, Any]:
    schedule = {"id": profile.profile_id, **schedule_payload(profile.schedule, decimals=None)}
    payload: dict[str, Any] = {
        "id": profile.profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": PURPOSE[profile.purpose],
        "chargingProfileKind": KIND[profile.kind],
        "chargingSchedule": [schedule],
    }
    if profile.transaction_ref is not None:
        payload["transactionId"] = profile.transaction_ref
    if profile.recurrency is not None:
        payload["recurrencyKind"] = RECURRENCY[profile.recurrency]
    if profile.valid_from is not None:
        payload["validFrom"] = format_timestamp(profile.valid_from)
    if profile.valid_to is not None:
        payload["validTo"] = format_timestamp(profile.valid_to)
    return payload


def _variable(key: ConfigKey) -> dict[str, Any]:
    if key.component is None:
        raise CommandNotSupported(f"{key.key}: a 2.0.1 setting needs its component")
    component: dict[str, Any] = {"name": key.component}
    if key.instance is not None:
        component["instance"] = key.instance
    return {"component": component, "variable": {"name": key.variable_name}}


def _same(key: ConfigKey, result: dict[str, Any]) -> bool:
    return bool(
        result["component"]["name"] == key.component
        and result["variable"]["name"] == key.variable_name
        and result["component"].get("instance") == key.instance
    )


class Commands201(VersionCommands):
    """The commands for one 2.0.1 connection."""

    async def set_charging_profile(self, connector_id: int, profile: ChargingProfile) -> None:
        payload = {"evseId": connector_id, "chargingProfile": profile_payload(profile)}
        await self._call("SetChargingProfile", payload, "Accepted")

    async def clear_charging_profile(self, criteria: ProfileCriteria) -> bool:
        payload: dict[str, Any] = {}
        if criteria.profile_id is not None:
            payload["chargingProfileId"] = criteria.profile_id
        filters: dict[str, Any] = {}
        if criteria.connector_id is not None:
            filters["evseId"] = criteria.connector_id
        if criteria.purpose is not None:
            filters["chargingProfilePurpose"] = PURPOSE[criteria.purpose]
        if criteria.stack_level is not None:
            filters["stackLevel"] = criteria.stack_level
        if filters:
            payload["chargingProfileCriteria"] = filters
        reply = await self._call("ClearChargingProfile", payload, "Accepted", "Unknown")
        return bool(reply["status"] == "Accepted")

    async def get_composite_schedule(
        self, connector_id: int, duration_s: int, rate_unit: ChargingRateUnit | None
    ) -> CompositeSchedule | None:
        payload: dict[str, Any] = {"evseId": connector_id, "duration": duration_s}
        if rate_unit is not None:
            payload["chargingRateUnit"] = rate_unit.value
        reply = await self._call("GetCompositeSchedule", payload, "Accepted")
        raw = reply.get("schedule")
        if raw is None:
            return None
        schedule = parse_schedule({**raw, "startSchedule": raw["scheduleStart"]}, raw["duration"])
        return CompositeSchedule(raw["evseId"], schedule)

    async def remote_start(
        self,
        id_tag: str,
        connector_id: int | None,
        profile: ChargingProfile | None,
        remote_start_id: int,
    ) -> None:
        payload: dict[str, Any] = {
            "idToken": {"idToken": id_tag, "type": "Central"},
            "remoteStartId": remote_start_id,
        }
        if connector_id is not None:
            payload["evseId"] = connector_id
        if profile is not None:
            payload["chargingProfile"] = profile_payload(profile)
        await self._call("RequestStartTransaction", payload, "Accepted")

    async def remote_stop(self, transaction_ref: str) -> None:
        await self._call("RequestStopTransaction", {"transactionId": transaction_ref}, "Accepted")

    async def get_configuration(self, keys: Sequence[ConfigKey]) -> list[ConfigValue]:
        if not keys:
            raise CommandNotSupported("2.0.1 reads named variables only (GetBaseReport lists all)")
        payload = {"getVariableData": [_variable(key) for key in keys]}
        results = (await self._call("GetVariables", payload))["getVariableResult"]
        values = []
        for key in keys:
            found = next((r for r in results if _same(key, r)), None)
            accepted = found is not None and found["attributeStatus"] == "Accepted"
            values.append(
                ConfigValue(key, found.get("attributeValue") if accepted and found else None)
            )
        return values

    async def change_configuration(self, key: ConfigKey, value: str) -> ConfigChange:
        payload = {"setVariableData": [{"attributeValue": value, **_variable(key)}]}
        results = (await self._call("SetVariables", payload))["setVariableResult"]
        status = next((r["attributeStatus"] for r in results if _same(key, r)), "Rejected")
        if status == "Accepted":
            return ConfigChange.ACCEPTED
        if status == "RebootRequired":
            return ConfigChange.REBOOT_REQUIRED
        raise CommandRejected("SetVariables", status)

    async def trigger_message(self, message: TriggerableMessage, connector_id: int | None) -> None:
        payload: dict[str, Any] = {"requestedMessage": TRIGGER[message]}
        if connector_id is not None:
            payload["evse"] = {"id": connector_id}
            if message is TriggerableMessage.STATUS_NOTIFICATION:
                payload["evse"]["connectorId"] = 1
        await self._call("TriggerMessage", payload, "Accepted")

    async def reset(self, kind: ResetKind) -> ResetOutcome:
        reset_type = "Immediate" if kind is ResetKind.HARD else "OnIdle"
        reply = await self._call("Reset", {"type": reset_type}, "Accepted", "Scheduled")
        return ResetOutcome.ACCEPTED if reply["status"] == "Accepted" else ResetOutcome.SCHEDULED

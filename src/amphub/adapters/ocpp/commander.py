"""The :class:`~amphub.application.charging.ports.ChargerCommander` over live connections:
find the charger's connection, speak its version."""

from __future__ import annotations

from collections.abc import Sequence

from amphub.adapters.ocpp.registry import ConnectionRegistry
from amphub.adapters.ocpp.rpc import Version
from amphub.adapters.ocpp.v16_commands import Commands16
from amphub.adapters.ocpp.v201_commands import Commands201
from amphub.application.charging.errors import ChargerOffline
from amphub.application.charging.ports import (
    ConfigChange,
    ConfigKey,
    ConfigValue,
    ProfileCriteria,
    ResetKind,
    ResetOutcome,
    TriggerableMessage,
)
from amphub.domain.smart_charging import ChargingProfile, ChargingRateUnit, CompositeSchedule


class OcppCommander:
    def __init__(self, registry: ConnectionRegistry) -> None:
        self._registry = registry

    def _commands(self, charge_point_id: int) -> Commands16 | Commands201:
        connection = self._registry.by_charge_point(charge_point_id)
        if connection is None or not connection.is_open:
            raise ChargerOffline(f"charge point {charge_point_id} is not connected")
        if connection.version is Version.V16:
            return Commands16(connection)
        return Commands201(connection)

    def ocpp_version(self, charge_point_id: int) -> str | None:
        connection = self._registry.by_charge_point(charge_point_id)
        return None if connection is None or not connection.is_open else connection.version.value

    async def set_charging_profile(
        self, charge_point_id: int, connector_id: int, profile: ChargingProfile
    ) -> None:
        await self._commands(charge_point_id).set_charging_profile(connector_id, profile)

    async def clear_charging_profile(self, charge_point_id: int, criteria: ProfileCriteria) -> bool:
        return await self._commands(charge_point_id).clear_charging_profile(criteria)

    async def get_composite_schedule(
        self,
        charge_point_id: int,
        connector_id: int,
        duration_s: int,
        rate_unit: ChargingRateUnit | None = None,
    ) -> CompositeSchedule | None:
        commands = self._commands(charge_point_id)
        return await commands.get_composite_schedule(connector_id, duration_s, rate_unit)

    async def remote_start(
        self,
        charge_point_id: int,
        id_tag: str,
        connector_id: int | None,
        profile: ChargingProfile | None,
        remote_start_id: int,
    ) -> None:
        commands = self._commands(charge_point_id)
        await commands.remote_start(id_tag, connector_id, profile, remote_start_id)

    async def remote_stop(self, charge_point_id: int, transaction_ref: str) -> None:
        await self._commands(charge_point_id).remote_stop(transaction_ref)

    async def get_configuration(
        self, charge_point_id: int, keys: Sequence[ConfigKey]
    ) -> list[ConfigValue]:
        return await self._commands(charge_point_id).get_configuration(keys)

    async def change_configuration(
        self, charge_point_id: int, key: ConfigKey, value: str
    ) -> ConfigChange:
        return await self._commands(charge_point_id).change_configuration(key, value)

    async def trigger_message(
        self, charge_point_id: int, message: TriggerableMessage, connector_id: int | None = None
    ) -> None:
        await self._commands(charge_point_id).trigger_message(message, connector_id)

    async def reset(self, charge_point_id: int, kind: ResetKind) -> ResetOutcome:
        return await self._commands(charge_point_id).reset(kind)

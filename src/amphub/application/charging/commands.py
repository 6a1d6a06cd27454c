"""Commands to chargers, version-neutral: what the REST API and the balancer call.

The caller has already checked that the actor may operate this charge point (object-level
authorisation happens before anything goes on the wire). This service adds what the wire
port does not know: the charger's reported smart-charging capabilities, the mapping of our
transaction ids to the charger's, and the remote-start authorisation of a tag.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

from amphub.application.charging.errors import CommandNotSupported
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.ports import (
    MAX_STACK_LEVEL,
    RATE_UNITS,
    ChargerCommander,
    ConfigChange,
    ConfigKey,
    ConfigValue,
    ProfileCriteria,
    ResetKind,
    ResetOutcome,
    TransactionStore,
    TriggerableMessage,
)
from amphub.application.charging.remote_starts import RemoteStarts
from amphub.application.ports import Clock
from amphub.domain.charging import normalise_id_tag
from amphub.domain.errors import InvalidValue, NotFound
from amphub.domain.smart_charging import (
    ChargingProfile,
    ChargingRateUnit,
    CompositeSchedule,
    SmartChargingCapabilities,
)

LOGGER = logging.getLogger(__name__)


async def refresh_capabilities(
    commander: ChargerCommander, live: LiveChargerState, charge_point_id: int
) -> SmartChargingCapabilities:
    """Read the charger's maximum stack level and rate units and keep them on the live
    state (the OCPP gateway does this after boot and after each reconnection)."""
    values = await commander.get_configuration(charge_point_id, [MAX_STACK_LEVEL, RATE_UNITS])
    by_key = {value.key.key: value.value for value in values}
    capabilities = SmartChargingCapabilities.from_reported(
        by_key.get(MAX_STACK_LEVEL.key), by_key.get(RATE_UNITS.key)
    )
    live.set_capabilities(charge_point_id, capabilities)
    return capabilities


class CommandService:
    def __init__(
        self,
        commander: ChargerCommander,
        live: LiveChargerState,
        store: TransactionStore,
        remote_starts: RemoteStarts,
        clock: Clock,
    ) -> None:
        self._commander = commander
        self._live = live
        self._store = store
        self._remote_starts = remote_starts
        self._clock = clock

    def _check_profile(self, charge_point_id: int, profile: ChargingProfile) -> None:
        point = self._live.charge_point(charge_point_id)
        if point is None or point.capabilities is None:
            return
        try:
            point.capabilities.check(profile)
        except InvalidValue as error:
            raise CommandNotSupported(str(error)) from error

    async def set_charging_profile(
        self, charge_point_id: int, connector_id: int, profile: ChargingProfile
    ) -> None:
        """Refused before sending if the charger reported it cannot take the profile's
        stack level or rate unit (convert with ``profile.schedule.in_unit`` first)."""
        self._check_profile(charge_point_id, profile)
        await self._commander.set_charging_profile(charge_point_id, connector_id, profile)

    async def clear_charging_profile(
        self, charge_point_id: int, criteria: ProfileCriteria | None = None
    ) -> bool:
        return await self._commander.clear_charging_profile(
            charge_point_id, criteria or ProfileCriteria()
        )

    async def get_composite_schedule(
        self,
        charge_point_id: int,
        connector_id: int,
        duration_s: int,
        rate_unit: ChargingRateUnit | None = None,
    ) -> CompositeSchedule | None:
        if duration_s <= 0:
            raise InvalidValue("duration_s", "must be positive")
        return await self._commander.get_composite_schedule(
            charge_point_id, connector_id, duration_s, rate_unit
        )

    async def remote_start(
        self,
        charge_point_id: int,
        id_tag: str,
        connector_id: int | None = None,
        profile: ChargingProfile | None = None,
    ) -> None:
        """The tag counts as authorised for this charger for a short while, so the start
        the charger then reports is accepted even if the tag is not on the allow list."""
        tag = normalise_id_tag(id_tag)
        if profile is not None:
            self._check_profile(charge_point_id, profile)
        self._remote_starts.remember(charge_point_id, tag, self._clock.now())
        remote_start_id = secrets.randbelow(2**31 - 1) + 1
        await self._commander.remote_start(
            charge_point_id, tag, connector_id, profile, remote_start_id
        )

    async def remote_stop(self, charge_point_id: int, transaction_id: int) -> None:
        """``transaction_id`` is amphub's; the charger is sent its own reference."""
        transaction = await self._store.find_transaction(charge_point_id, transaction_id)
        if transaction is None:
            raise NotFound("transaction", transaction_id)
        await self._commander.remote_stop(charge_point_id, transaction.transaction_ref)

    async def get_configuration(
        self, charge_point_id: int, keys: Sequence[ConfigKey] = ()
    ) -> list[ConfigValue]:
        """All keys the charger reports when ``keys`` is empty (1.6 only)."""
        return await self._commander.get_configuration(charge_point_id, keys)

    async def change_configuration(
        self, charge_point_id: int, key: ConfigKey, value: str
    ) -> ConfigChange:
        return await self._commander.change_configuration(charge_point_id, key, value)

    async def trigger_message(
        self, charge_point_id: int, message: TriggerableMessage, connector_id: int | None = None
    ) -> None:
        await self._commander.trigger_message(charge_point_id, message, connector_id)

    async def reset(self, charge_point_id: int, kind: ResetKind) -> ResetOutcome:
        return await self._commander.reset(charge_point_id, kind)

    async def refresh_capabilities(self, charge_point_id: int) -> SmartChargingCapabilities:
        return await refresh_capabilities(self._commander, self._live, charge_point_id)

"""Read models for the REST API: charge points with their connection and last boot, and
transactions with their meter values.

These functions do not authorise: the API first resolves which charge points the actor may
see (the tenancy service), then asks only about those ids. A transaction looked up by id
carries its ``charge_point_id`` so the API can check it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from amphub.application.charging.live import ChargePointLive, LiveChargerState
from amphub.application.charging.ports import ConnectorReading
from amphub.domain.charging import AuthorizationStatus, BootStatus


@dataclass(frozen=True, slots=True)
class BootRecord:
    vendor: str
    model: str
    serial_number: str
    firmware_version: str
    status: BootStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class ChargePointState:
    """What the store remembers of a charger's connection."""

    charge_point_id: int
    ocpp_version: str | None
    last_boot: BootRecord | None
    last_heartbeat_at: datetime | None
    last_connected_at: datetime | None
    last_disconnected_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChargePointStatus:
    charge_point_id: int
    connected: bool
    stored: ChargePointState | None
    live: ChargePointLive | None
    """Connectors' status, measured currents and smart-charging capabilities (in memory:
    None if the charger never connected to this process)."""


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    transaction_id: int
    charge_point_id: int
    connector_id: int
    transaction_ref: str
    id_tag: str | None
    id_tag_status: AuthorizationStatus | None
    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    stop_reason: str

    @property
    def energy_wh(self) -> float | None:
        if self.meter_start_wh is None or self.meter_stop_wh is None:
            return None
        return self.meter_stop_wh - self.meter_start_wh


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    transaction: TransactionRecord
    readings: list[ConnectorReading]


@dataclass(frozen=True, slots=True)
class QuarantinedStop:
    """A 1.6 StopTransaction for a transaction amphub did not know (started while amphub
    was unreachable, or lost): answered to the charger, kept here for a person to
    reconcile with the charger's own log or the billing system, then marked resolved."""

    stop_id: int
    charge_point_id: int
    transaction_ref: str
    stopped_at: datetime
    meter_stop_wh: float
    reason: str
    id_tag: str | None
    received_at: datetime
    resolved_at: datetime | None
    note: str


class ChargingQueryStore(Protocol):
    async def charge_point_states(
        self, charge_point_ids: Sequence[int]
    ) -> dict[int, ChargePointState]: ...

    async def transactions(
        self, charge_point_ids: Sequence[int], limit: int, after_id: int
    ) -> list[TransactionRecord]:
        """Transactions of these charge points with an id above ``after_id``, oldest first."""
        ...

    async def transaction(self, transaction_id: int) -> TransactionRecord | None: ...

    async def readings_of_transaction(
        self, transaction_id: int, limit: int
    ) -> list[ConnectorReading]:
        """The first ``limit`` readings, by their own timestamps."""
        ...

    async def quarantined_stops(
        self, charge_point_id: int, include_resolved: bool
    ) -> list[QuarantinedStop]:
        """Oldest first."""
        ...

    async def quarantined_stop(self, stop_id: int) -> QuarantinedStop | None: ...

    async def resolve_quarantined_stop(
        self, stop_id: int, note: str, at: datetime
    ) -> QuarantinedStop | None:
        """Mark it resolved with ``note``; None if it is unknown or resolved already."""
        ...


class ChargingQueries:
    def __init__(self, store: ChargingQueryStore, live: LiveChargerState) -> None:
        self._store = store
        self._live = live

    async def charge_points(self, charge_point_ids: Sequence[int]) -> list[ChargePointStatus]:
        stored = await self._store.charge_point_states(charge_point_ids)
        result = []
        for charge_point_id in charge_point_ids:
            live = self._live.charge_point(charge_point_id)
            result.append(
                ChargePointStatus(
                    charge_point_id=charge_point_id,
                    connected=live is not None and live.connected,
                    stored=stored.get(charge_point_id),
                    live=live,
                )
            )
        return result

    async def transactions(
        self, charge_point_ids: Sequence[int], limit: int = 50, after_id: int = 0
    ) -> list[TransactionRecord]:
        return await self._store.transactions(charge_point_ids, min(max(limit, 1), 500), after_id)

    async def quarantined_stops(
        self, charge_point_id: int, include_resolved: bool = False
    ) -> list[QuarantinedStop]:
        return await self._store.quarantined_stops(charge_point_id, include_resolved)

    async def quarantined_stop(self, stop_id: int) -> QuarantinedStop | None:
        return await self._store.quarantined_stop(stop_id)

    async def resolve_quarantined_stop(
        self, stop_id: int, note: str, at: datetime
    ) -> QuarantinedStop | None:
        return await self._store.resolve_quarantined_stop(stop_id, note, at)

    async def transaction(
        self, transaction_id: int, readings_limit: int = 10_000
    ) -> TransactionDetail | None:
        transaction = await self._store.transaction(transaction_id)
        if transaction is None:
            return None
        readings = await self._store.readings_of_transaction(transaction_id, readings_limit)
        return TransactionDetail(transaction, readings)

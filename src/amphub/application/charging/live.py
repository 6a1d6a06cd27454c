"""The live state of connected chargers, in memory: what the balancer reads every cycle.

One instance per process, written only by the charging service (after the store has
committed), read by anyone. Values are frozen snapshots; a reader never sees half an update.
Listeners are called synchronously after each change with a small :class:`LiveEvent`; they
must be quick (set an event, put on a queue) and never raise: a failing listener is logged
and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from amphub.domain.charging import BootStatus, ConnectorStatus, MeterReading, is_newer
from amphub.domain.smart_charging import SmartChargingCapabilities
from amphub.domain.units import PhaseCurrents

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectorLive:
    connector_id: int
    phases: int = 3
    status: ConnectorStatus | None = None
    status_at: datetime | None = None
    current_a: PhaseCurrents | None = None
    """Measured current per *charger* phase (apply the connector's phase rotation to get
    grid phases)."""
    offered_a: float | None = None
    power_w: float | None = None
    energy_wh: float | None = None
    measured_at: datetime | None = None
    transaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChargePointLive:
    charge_point_id: int
    identity: str
    connected: bool
    ocpp_version: str | None
    connected_at: datetime | None
    last_seen_at: datetime | None
    boot_status: BootStatus | None = None
    capabilities: SmartChargingCapabilities | None = None
    connectors: tuple[ConnectorLive, ...] = ()

    def connector(self, connector_id: int) -> ConnectorLive | None:
        return next((c for c in self.connectors if c.connector_id == connector_id), None)


class LiveEventKind(StrEnum):
    CONNECTED = "connected"
    """A charger (re)connected: limits must be re-applied before it may charge more."""
    DISCONNECTED = "disconnected"
    BOOTED = "booted"
    STATUS = "status"
    METER = "meter"
    TRANSACTION = "transaction"
    CAPABILITIES = "capabilities"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: LiveEventKind
    charge_point_id: int
    connector_id: int | None = None


Listener = Callable[[LiveEvent], None]


class LiveChargerState:
    def __init__(self) -> None:
        self._points: dict[int, ChargePointLive] = {}
        self._listeners: list[Listener] = []

    # -- reading ---------------------------------------------------------------------------

    def charge_point(self, charge_point_id: int) -> ChargePointLive | None:
        return self._points.get(charge_point_id)

    def connector(self, charge_point_id: int, connector_id: int) -> ConnectorLive | None:
        point = self._points.get(charge_point_id)
        return None if point is None else point.connector(connector_id)

    def charge_points(self) -> list[ChargePointLive]:
        return list(self._points.values())

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every change; returns the function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # -- writing (the charging service only) -------------------------------------------------

    def mark_connected(
        self,
        charge_point_id: int,
        identity: str,
        ocpp_version: str,
        at: datetime,
        connectors: Iterable[tuple[int, int]],
    ) -> None:
        """``connectors``: (connector id, phases wired) as registered."""
        previous = self._points.get(charge_point_id)
        known = {c.connector_id: c for c in previous.connectors} if previous else {}
        merged = tuple(
            replace(known[cid], phases=phases) if cid in known else ConnectorLive(cid, phases)
            for cid, phases in sorted(connectors)
        )
        self._points[charge_point_id] = ChargePointLive(
            charge_point_id=charge_point_id,
            identity=identity,
            connected=True,
            ocpp_version=ocpp_version,
            connected_at=at,
            last_seen_at=at,
            boot_status=previous.boot_status if previous else None,
            capabilities=previous.capabilities if previous else None,
            connectors=merged,
        )
        self._emit(LiveEvent(LiveEventKind.CONNECTED, charge_point_id))

    def mark_disconnected(self, charge_point_id: int) -> None:
        point = self._points.get(charge_point_id)
        if point is None or not point.connected:
            return
        self._points[charge_point_id] = replace(point, connected=False)
        self._emit(LiveEvent(LiveEventKind.DISCONNECTED, charge_point_id))

    def touch(self, charge_point_id: int, at: datetime) -> None:
        point = self._points.get(charge_point_id)
        if point is not None:
            self._points[charge_point_id] = replace(point, last_seen_at=at)

    def set_boot_status(self, charge_point_id: int, status: BootStatus) -> None:
        point = self._points.get(charge_point_id)
        if point is not None:
            self._points[charge_point_id] = replace(point, boot_status=status)
            self._emit(LiveEvent(LiveEventKind.BOOTED, charge_point_id))

    def set_capabilities(
        self, charge_point_id: int, capabilities: SmartChargingCapabilities
    ) -> None:
        point = self._points.get(charge_point_id)
        if point is not None:
            self._points[charge_point_id] = replace(point, capabilities=capabilities)
            self._emit(LiveEvent(LiveEventKind.CAPABILITIES, charge_point_id))

    def set_status(
        self, charge_point_id: int, connector_id: int, status: ConnectorStatus, at: datetime
    ) -> None:
        """A status older than the one shown (an offline message) is not shown."""
        connector = self._connector_or_new(charge_point_id, connector_id)
        if connector is None or not is_newer(connector.status_at, at):
            return
        self._put(charge_point_id, replace(connector, status=status, status_at=at))
        self._emit(LiveEvent(LiveEventKind.STATUS, charge_point_id, connector_id))

    def set_transaction(
        self, charge_point_id: int, connector_id: int, transaction_id: int | None
    ) -> None:
        connector = self._connector_or_new(charge_point_id, connector_id)
        if connector is None or connector.transaction_id == transaction_id:
            return
        self._put(charge_point_id, replace(connector, transaction_id=transaction_id))
        self._emit(LiveEvent(LiveEventKind.TRANSACTION, charge_point_id, connector_id))

    def apply_reading(self, charge_point_id: int, connector_id: int, reading: MeterReading) -> bool:
        """Show a reading unless a newer one is shown already; True if it was applied.
        Quantities the reading lacks keep their previous value."""
        connector = self._connector_or_new(charge_point_id, connector_id)
        if connector is None or reading.is_empty or not is_newer(connector.measured_at, reading.at):
            return False
        current = reading.per_phase_current(connector.phases)
        self._put(
            charge_point_id,
            replace(
                connector,
                current_a=current if current is not None else connector.current_a,
                offered_a=reading.offered_a
                if reading.offered_a is not None
                else connector.offered_a,
                power_w=reading.power_w if reading.power_w is not None else connector.power_w,
                energy_wh=reading.energy_wh
                if reading.energy_wh is not None
                else connector.energy_wh,
                measured_at=reading.at,
            ),
        )
        self._emit(LiveEvent(LiveEventKind.METER, charge_point_id, connector_id))
        return True

    # -- internals ---------------------------------------------------------------------------

    def _connector_or_new(self, charge_point_id: int, connector_id: int) -> ConnectorLive | None:
        point = self._points.get(charge_point_id)
        if point is None:
            return None
        return point.connector(connector_id) or ConnectorLive(connector_id)

    def _put(self, charge_point_id: int, connector: ConnectorLive) -> None:
        point = self._points[charge_point_id]
        others = [c for c in point.connectors if c.connector_id != connector.connector_id]
        connectors = tuple(sorted([*others, connector], key=lambda c: c.connector_id))
        self._points[charge_point_id] = replace(point, connectors=connectors)

    def _emit(self, event: LiveEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                LOGGER.exception("live state listener %r failed on %s", listener, event)

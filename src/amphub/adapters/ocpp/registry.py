"""Who is connected: exactly one route per charger identity.

A charger that reconnects while its old socket still looks open (a half-open TCP
connection, a NAT that forgot it) replaces the old one: the newest connection is the one
commands go to, and the old one is closed.
"""

from __future__ import annotations

from amphub.adapters.ocpp.connection import ChargerConnection


class ConnectionRegistry:
    def __init__(self) -> None:
        self._by_identity: dict[str, ChargerConnection] = {}
        self._by_charge_point: dict[int, ChargerConnection] = {}

    def add(self, connection: ChargerConnection) -> ChargerConnection | None:
        """Register ``connection``; returns the connection it replaces, if any."""
        previous = self._by_identity.get(connection.identity)
        self._by_identity[connection.identity] = connection
        if connection.charge_point_id is not None:
            self._by_charge_point[connection.charge_point_id] = connection
        return previous

    def remove(self, connection: ChargerConnection) -> None:
        """Forget ``connection`` unless a newer one has taken its place."""
        if self._by_identity.get(connection.identity) is connection:
            del self._by_identity[connection.identity]
        cp_id = connection.charge_point_id
        if cp_id is not None and self._by_charge_point.get(cp_id) is connection:
            del self._by_charge_point[cp_id]

    def by_charge_point(self, charge_point_id: int) -> ChargerConnection | None:
        return self._by_charge_point.get(charge_point_id)

    def by_identity(self, identity: str) -> ChargerConnection | None:
        return self._by_identity.get(identity)

    def __len__(self) -> int:
        return len(self._by_identity)

    def all(self) -> list[ChargerConnection]:
        return list(self._by_identity.values())

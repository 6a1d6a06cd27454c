"""What the simulated charger does the same way in both OCPP versions: asking (a refusal is
logged and dropped), taking a charging profile, computing its composite schedule and
stopping a transaction on request. The version clients (:mod:`.ocpp16`, :mod:`.ocpp201`)
mix this in before their ``ocpp`` library ChargePoint and keep only the messages' shapes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection

from amphub_sim.composite import NOMINAL_VOLTAGE_V, Profile, ProfileRefused
from amphub_sim.ocpp_link import ChargerLink
from amphub_sim.wire import timestamp

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompositeReply:
    """A composite schedule in the unit asked for, ready for either version's reply."""

    start: str
    unit: str
    periods: list[dict[str, Any]]


class SimulatedStation:
    """Mixed in before the ``ocpp`` ChargePoint of a version (it calls its ``call``)."""

    id: str
    call: Callable[..., Awaitable[Any]]  # the ChargePoint's

    def __init__(self, link: ChargerLink, connection: ClientConnection) -> None:
        super().__init__(link.charger.identity, connection, link.response_timeout_s)  # type: ignore[call-arg]
        self.link = link
        self.sim = link.charger

    async def _ask(self, payload: Any) -> Any:
        """A refusal (CALLERROR) is logged and dropped: resending would be refused again."""
        try:
            return await self.call(payload, suppress=False)
        except OCPPError as error:
            LOGGER.warning("%s: %s refused: %s", self.id, type(payload).__name__, error)
            return None

    def _take_profile(self, connector_id: int, parse: Callable[[], Profile]) -> str:
        """SetChargingProfile's status: the profile parsed and stacked, or Rejected."""
        try:
            profile = parse()
            tx = self.sim.transaction_of(connector_id)
            self.sim.profiles.add(
                profile, None if tx is None else tx.transaction_id, self.link.clock()
            )
        except (ProfileRefused, ValueError, KeyError) as error:
            LOGGER.info("%s: profile rejected: %s", self.id, error)
            return "Rejected"
        self.sim.profiles_received += 1
        self.link.wake()
        return "Accepted"

    def _composite(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> CompositeReply | None:
        """The schedule the charger would follow from now; None for an unknown connector."""
        sim = self.sim
        connector = sim.connector(connector_id)
        if connector_id != 0 and connector is None:
            return None
        now: datetime = self.link.clock()
        phases = connector.phases if connector is not None else 3
        hardware_a = (
            connector.max_a
            if connector is not None
            else max(c.max_a for c in sim.connectors.values())
        )
        steps = sim.profiles.composite(
            connector_id, now, duration_s, hardware_a, sim.transaction_of(connector_id)
        )
        unit = unit or "A"
        factor = 1.0 if unit == "A" else phases * NOMINAL_VOLTAGE_V
        periods = [
            {"start_period": offset, "limit": round(limit_a * factor, 1), "number_phases": phases}
            for offset, limit_a in steps
        ]
        return CompositeReply(timestamp(now), unit, periods)

    def _stop_on_request(self, transaction_id: str) -> str:
        """Remote/RequestStopTransaction's status."""
        for connector in self.sim.connectors.values():
            if connector.transaction_id == transaction_id and not connector.tx_done:
                self.sim.stop_transaction(connector.connector_id, self.link.clock(), "Remote")
                self.link.wake()
                return "Accepted"
        return "Rejected"

"""What balancing needs from the outside: a place to keep its decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from amphub.domain.balancing.decision import ConnectorDecision
from amphub.domain.balancing.model import ConnectorKey, ExternalCap
from amphub.domain.units import PhaseCurrents


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One balancing decision as stored: the group's figures per phase and, per connector,
    the limit and the constraint that bound it."""

    group_id: int
    at: datetime
    fail_safe: bool
    available: PhaseCurrents
    """What the group's chargers may use in total (after building load and buffer)."""
    building_load: PhaseCurrents | None
    charging: PhaseCurrents
    """What the chargers measured, on grid phases."""
    delivered: PhaseCurrents
    """What the chargers' acknowledged (worst-case) limits add up to."""
    decisions: Mapping[ConnectorKey, ConnectorDecision]


class CapSource(Protocol):
    """Something outside the balancer that limits connectors over time: weekly schedules,
    price-optimised plans, flexibility curtailment. It answers from memory (no I/O on the
    balancing cycle); the balancer applies the lowest cap of all sources."""

    def caps(
        self, group_id: int, keys: Sequence[ConnectorKey], now: datetime
    ) -> Mapping[ConnectorKey, ExternalCap]: ...


class DecisionRecorder(Protocol):
    async def record(self, record: DecisionRecord) -> None: ...

    async def history(
        self, group_id: int, since: datetime, until: datetime, max_points: int
    ) -> Sequence[DecisionRecord]:
        """Decisions between the two instants, thinned to at most ``max_points``."""
        ...

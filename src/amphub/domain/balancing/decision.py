"""What the balancer answers: limits, why each one is what it is, and what it remembers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from amphub.domain.balancing.model import ConnectorKey
from amphub.domain.units import Phase, PhaseCurrents

if TYPE_CHECKING:
    from amphub.domain.balancing.vectorized.cycle import Carried


class Binding(StrEnum):
    """The constraint that set a connector's limit."""

    NO_VEHICLE = "NO_VEHICLE"
    EXTERNAL_CAP = "EXTERNAL_CAP"
    """A schedule, price plan or curtailment capped it (its reason is in ``detail``)."""
    CONNECTOR_MAX = "CONNECTOR_MAX"
    EV_SUSPENDED = "EV_SUSPENDED"
    """The vehicle declines current; it keeps its minimum so it can resume."""
    EV_DRAW = "EV_DRAW"
    """The car draws less than its limit; the rest is lent to others."""
    DAMPED_INCREASE = "DAMPED_INCREASE"
    """An increase was held back or step-limited."""
    GROUP_LIMIT = "GROUP_LIMIT"
    """A node's available current on ``phase`` is used up (its fair share, or its minimum)."""
    FAIL_SAFE = "FAIL_SAFE"
    """As GROUP_LIMIT at the root while the meter is silent: fail-safe amps apply."""
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    """The change was smaller than the threshold: the previous limit was kept."""
    PAUSED_NO_CAPACITY = "PAUSED_NO_CAPACITY"
    """Its minimum does not fit at ``node_id`` on ``phase``."""
    PAUSED_FOR_ROTATION = "PAUSED_FOR_ROTATION"
    """It ran its minimum on-time and made room for a car that had been waiting."""
    PAUSED_MIN_OFF_TIME = "PAUSED_MIN_OFF_TIME"
    """It was paused recently and must stay off for the minimum off-time."""


PAUSED: frozenset[Binding] = frozenset(
    {Binding.PAUSED_NO_CAPACITY, Binding.PAUSED_FOR_ROTATION, Binding.PAUSED_MIN_OFF_TIME}
)


@dataclass(frozen=True, slots=True)
class ConnectorDecision:
    """One connector's limit and the constraint that bound it."""

    limit_a: float
    binding: Binding
    node_id: str | None = None
    """For GROUP_LIMIT, FAIL_SAFE and PAUSED_*: the node whose phase was full."""
    phase: Phase | None = None
    detail: str = ""
    """For EXTERNAL_CAP: the cap's reason."""


NO_VEHICLE = ConnectorDecision(0.0, Binding.NO_VEHICLE)


@dataclass(frozen=True, slots=True)
class ConnectorMemory:
    """What the balancer remembers about one connector between cycles (times are UTC)."""

    switched_at: datetime | None = None
    """When its limit last went from 0 to running or back; None once the vehicle left."""
    increased_at: datetime | None = None
    """When its limit was last raised (damping)."""
    under_draw_since: datetime | None = None
    """Since when the car has drawn less than its limit."""
    lending_since: datetime | None = None
    """Since when its limit has been lowered to its draw (the probe timer)."""


FORGOTTEN = ConnectorMemory()


@dataclass(frozen=True, slots=True)
class BalancerMemory:
    """The balancer's state carried from one cycle to the next: a pure value.

    Keep the ``memory`` of each Allocation and pass it to the next call; start with
    ``BalancerMemory()``. Persisting it is optional: an empty memory only loses the on/off
    and damping timers (the first cycle then treats every car as newly seen).
    """

    connectors: Mapping[ConnectorKey, ConnectorMemory] = field(default_factory=dict)
    decisions: Mapping[ConnectorKey, ConnectorDecision] = field(default_factory=dict)
    """The previous cycle's decisions: their ``limit_a`` are the last intended limits."""
    carried: Carried | None = field(default=None, init=False, repr=False, compare=False)
    """The same memory as arrays, for the vectorised allocator of the group that made it
    (saves reading 10,000 mappings back every cycle). Not part of the value: absent in a
    memory built or replaced by hand, and then rebuilt from the mappings."""

    def limit_a(self, key: ConnectorKey) -> float:
        decision = self.decisions.get(key)
        return 0.0 if decision is None else decision.limit_a


@dataclass(frozen=True, slots=True)
class AvailableCurrents:
    """The current each node may give its connectors, per grid phase."""

    per_node: Mapping[str, PhaseCurrents]
    """The root's figure comes from the meter (or fail-safe); a sub-group's is its limit."""
    fail_safe: bool
    """The meter reading was missing or older than the meter timeout."""
    building_load: PhaseCurrents | None
    """The building's load the root figure was derived from (None in fail-safe)."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result of one cycle."""

    limits_a: Mapping[ConnectorKey, float]
    """The intended limit of every connector of the group: 0 or within [min, max]."""
    decisions: Mapping[ConnectorKey, ConnectorDecision]
    available: AvailableCurrents
    memory: BalancerMemory

    @property
    def fail_safe(self) -> bool:
        return self.available.fail_safe

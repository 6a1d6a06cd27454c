"""What the balancer is given: the group tree, its settings, the connectors and a snapshot.

A *group* is a tree of nodes. The root stands for the main fuse (its limit is the group's
total amps available per phase); each child node is a sub-group (a sub-panel or a cable) with
its own per-phase limit, to any depth. Every node may hold connectors directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from amphub.domain.balancing.index import GroupIndex, build_index
from amphub.domain.balancing.vectorized.arrays import IndexArrays, build_arrays
from amphub.domain.errors import InvalidValue
from amphub.domain.units import PhaseCurrents, PhaseRotation


class Placement(StrEnum):
    """Where the group's meter sits."""

    BUILDING_ONLY = "BUILDING_ONLY"
    """The meter sees the building but not the chargers."""
    INCLUDING_CHARGE_POINTS = "INCLUDING_CHARGE_POINTS"
    """The meter sees building and chargers; the chargers' draw is subtracted from it."""


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """The settings of a group that shape the available current (SPEC §4)."""

    placement: Placement
    dynamic_buffer_a: float
    """Headroom kept free per phase for a sudden rise of the building's load."""
    fail_safe_a: float
    """The group's total per phase while the meter is silent or missing."""
    meter_timeout: timedelta

    def __post_init__(self) -> None:
        if not self.dynamic_buffer_a >= 0:
            raise InvalidValue("dynamic_buffer_a", "must be >= 0")
        if not self.fail_safe_a >= 0:
            raise InvalidValue("fail_safe_a", "must be >= 0")
        if self.meter_timeout <= timedelta(0):
            raise InvalidValue("meter_timeout", "must be positive")


class ConnectorKey(NamedTuple):
    """A connector: its charge point and its connector id (1-based, as in OCPP).

    A named tuple rather than a dataclass: it keys every per-connector mapping, and a tuple
    hashes in C, which matters at 10,000 connectors per cycle.
    """

    charge_point_id: str
    connector_id: int

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.connector_id}"


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """How a connector is wired and how much it may get."""

    key: ConnectorKey
    max_a: float
    phases: int = 3
    rotation: PhaseRotation = PhaseRotation.L1L2L3
    min_a: float = 6.0
    priority: int = 0
    """Higher is served first."""

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise InvalidValue("phases", "must be 1 or 3")
        if not self.min_a > 0:
            raise InvalidValue("min_a", "must be > 0")
        if not self.max_a >= self.min_a:
            raise InvalidValue("max_a", "must be >= min_a")


@dataclass(frozen=True, slots=True)
class GroupNode:
    """A node of the group tree: the root (main fuse) or a sub-group."""

    node_id: str
    limit: PhaseCurrents
    """The node's own limit per grid phase (A)."""
    connectors: tuple[ConnectorConfig, ...] = ()
    children: tuple[GroupNode, ...] = ()

    def __post_init__(self) -> None:
        if min(self.limit) < 0:
            raise InvalidValue("limit", f"node {self.node_id}: must be >= 0 on every phase")


@dataclass(frozen=True, slots=True)
class BalancingGroup:
    """A group's tree with its settings, validated and compiled once.

    Build it when the configuration changes and reuse it every cycle: construction checks
    that node ids and connector keys are unique and precomputes the flat index the
    allocator works on.
    """

    root: GroupNode
    settings: GroupSettings
    index: GroupIndex = field(init=False, repr=False, compare=False)
    arrays: IndexArrays = field(init=False, repr=False, compare=False)
    """The index as numpy arrays, for the vectorised allocator of large groups."""

    def __post_init__(self) -> None:
        index = build_index(self.root)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "arrays", build_arrays(index))

    @property
    def connectors(self) -> tuple[ConnectorConfig, ...]:
        """Every connector of the tree, depth first."""
        return self.index.configs


class VehicleState(StrEnum):
    """What a connector's vehicle is doing, as the OCPP gateway reports it.

    CHARGING: a vehicle is connected and may take current (OCPP Charging, SuspendedEVSE, or
    Preparing with a session) - it competes for current. SUSPENDED_EV: the vehicle declines
    current (full, or its own timer) - it keeps only its minimum, and only if that is free.
    IDLE: no vehicle.
    """

    CHARGING = "CHARGING"
    SUSPENDED_EV = "SUSPENDED_EV"
    IDLE = "IDLE"


@dataclass(frozen=True, slots=True)
class ConnectorLive:
    """The live state of one connector."""

    state: VehicleState
    state_since: datetime
    """When the connector entered ``state``."""
    measured: PhaseCurrents = field(default_factory=PhaseCurrents.zero)
    """Measured current on the *charger's* phases L1, L2, L3 (A)."""
    session_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExternalCap:
    """A ceiling on one connector set from outside the balancer.

    Schedules, price plans and flexibility curtailment all end up as a cap; ``cap_a`` below
    the connector's minimum (0 included) means it must not charge. ``reason`` is recorded in
    the decision.
    """

    cap_a: float
    reason: str


@dataclass(frozen=True, slots=True)
class MeterSnapshot:
    """The latest reading of the group's meter: signed current per grid phase (A)."""

    currents: PhaseCurrents
    measured_at: datetime


@dataclass(frozen=True, slots=True)
class BalancingInput:
    """Everything that changes between cycles, gathered by the controller.

    Connectors of the group absent from ``connectors`` count as IDLE.
    """

    meter: MeterSnapshot | None
    connectors: Mapping[ConnectorKey, ConnectorLive]
    caps: Mapping[ConnectorKey, ExternalCap] = field(default_factory=dict)
    reserved: Mapping[ConnectorKey, float] = field(default_factory=dict)
    """Connectors the balancer cannot steer now (their charger is offline), with the
    current each may still be drawing on each of its phases. It is taken off the available
    current of every node above them; give them a cap of 0 so they are not allocated."""

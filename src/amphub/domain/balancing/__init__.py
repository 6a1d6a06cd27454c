"""Dynamic load balancing, the pure core: from a snapshot of a group to a limit per connector.

See README.md in this package for the API and the rules.
"""

from amphub.domain.balancing.allocate import DEFAULT_SETTINGS, allocate
from amphub.domain.balancing.available import available_currents
from amphub.domain.balancing.decision import (
    PAUSED,
    Allocation,
    AvailableCurrents,
    BalancerMemory,
    Binding,
    ConnectorDecision,
    ConnectorMemory,
)
from amphub.domain.balancing.dispatch import (
    Delivery,
    DeliveryStatus,
    DispatchPlan,
    Hold,
    HoldReason,
    plan_dispatch,
    worst_case_limits,
)
from amphub.domain.balancing.invariant import (
    TOLERANCE_A,
    Violation,
    check_invariant,
    loads_by_node,
    out_of_range,
)
from amphub.domain.balancing.model import (
    BalancingGroup,
    BalancingInput,
    ConnectorConfig,
    ConnectorKey,
    ConnectorLive,
    ExternalCap,
    GroupNode,
    GroupSettings,
    MeterSnapshot,
    Placement,
    VehicleState,
)
from amphub.domain.balancing.settings import BalancerSettings

__all__ = [
    "DEFAULT_SETTINGS",
    "PAUSED",
    "TOLERANCE_A",
    "Allocation",
    "AvailableCurrents",
    "BalancerMemory",
    "BalancerSettings",
    "BalancingGroup",
    "BalancingInput",
    "Binding",
    "ConnectorConfig",
    "ConnectorDecision",
    "ConnectorKey",
    "ConnectorLive",
    "ConnectorMemory",
    "Delivery",
    "DeliveryStatus",
    "DispatchPlan",
    "ExternalCap",
    "GroupNode",
    "GroupSettings",
    "Hold",
    "HoldReason",
    "MeterSnapshot",
    "Placement",
    "VehicleState",
    "Violation",
    "allocate",
    "available_currents",
    "check_invariant",
    "loads_by_node",
    "out_of_range",
    "plan_dispatch",
    "worst_case_limits",
]

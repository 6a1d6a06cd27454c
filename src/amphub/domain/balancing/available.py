"""How much current each node of a group may hand out, per grid phase.

At the root: total amps − building load − dynamic buffer, where the building load is the
meter itself (BUILDING_ONLY) or the meter minus what the chargers measure (INCLUDING_CHARGE_
POINTS). A negative building load (export, or measurement skew) is counted as zero: the
main fuse carries the chargers' current whatever the solar panels do upstream of it, so
export never buys headroom beyond the fuse. A meter reading older than the meter timeout,
or none at all, switches the root to the fail-safe amps. Sub-groups have no meter: their
available current is their own limit, and the root's figure bounds them from above.
"""

from __future__ import annotations

from datetime import datetime

from amphub.domain.balancing.decision import AvailableCurrents
from amphub.domain.balancing.model import (
    BalancingGroup,
    BalancingInput,
    Placement,
    VehicleState,
)
from amphub.domain.units import PhaseCurrents


def available_currents(
    group: BalancingGroup, snapshot: BalancingInput, now: datetime
) -> AvailableCurrents:
    """The available current of every node (by node id). Also the figure a locally managed
    group sends its master charge point: ``per_node[root.node_id]``."""
    return available_and_room(group, snapshot, now)[0]


def available_and_room(
    group: BalancingGroup, snapshot: BalancingInput, now: datetime
) -> tuple[AvailableCurrents, list[float]]:
    """The public value plus the flat per-constraint list the allocator uses."""
    index = group.index
    settings = group.settings
    caps = list(index.node_limits)
    limit = group.root.limit
    meter = snapshot.meter
    fail_safe = meter is None or now - meter.measured_at > settings.meter_timeout
    building: PhaseCurrents | None
    if meter is None or fail_safe:
        building = None
        root = limit.elementwise_min(PhaseCurrents.uniform(max(settings.fail_safe_a, 0.0)))
    else:
        building = meter.currents
        if settings.placement is Placement.INCLUDING_CHARGE_POINTS:
            building = building - _chargers_draw(group, snapshot)
        root = PhaseCurrents(
            *(
                max(0.0, total - max(0.0, load) - settings.dynamic_buffer_a)
                for total, load in zip(limit, building, strict=True)
            )
        )
    caps[0:3] = root.as_tuple()
    if snapshot.reserved:
        _take_reserved(group, snapshot, caps)
    # Most nodes keep their own limit: reuse its value rather than build one per node.
    per_node = dict(zip(index.node_ids, index.node_limit_currents, strict=True))
    limits = index.node_limits
    for n, node_id in enumerate(index.node_ids):
        j = 3 * n
        if (
            n == 0
            or caps[j] != limits[j]
            or caps[j + 1] != limits[j + 1]
            or caps[j + 2] != limits[j + 2]
        ):
            per_node[node_id] = PhaseCurrents(*caps[j : j + 3])
    return AvailableCurrents(per_node, fail_safe, building), caps


def _take_reserved(group: BalancingGroup, snapshot: BalancingInput, caps: list[float]) -> None:
    """Take what unsteerable connectors may draw off every constraint they load."""
    index = group.index
    for key, reserved_a in snapshot.reserved.items():
        i = index.position.get(key)
        if i is None or reserved_a <= 0:
            continue
        for j in index.paths[i]:
            caps[j] = max(0.0, caps[j] - reserved_a)


def _chargers_draw(group: BalancingGroup, snapshot: BalancingInput) -> PhaseCurrents:
    """What the group's chargers measure, on grid phases; each reading clamped to [0, max]
    so that a bogus value can neither create nor hide more than one connector's worth."""
    index = group.index
    position = index.position
    grid_of = index.grid_of_charger
    max_a = index.max_a
    totals = [0.0, 0.0, 0.0]
    for key, live in snapshot.connectors.items():
        i = position.get(key)
        if i is None or live.state is VehicleState.IDLE:
            continue
        top = max_a[i]
        grid = grid_of[i]
        measured = live.measured
        totals[grid[0]] += min(max(measured.l1_a, 0.0), top)
        totals[grid[1]] += min(max(measured.l2_a, 0.0), top)
        totals[grid[2]] += min(max(measured.l3_a, 0.0), top)
    return PhaseCurrents(*totals)

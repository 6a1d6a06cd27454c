"""The standing fail-safe share of each connector: what it may draw when amphub is gone.

A charger that loses amphub keeps only its standing profile, so those profiles together must
respect the group's fail-safe amps on every phase, and every node's own limit, with no one
to coordinate them. Each connector therefore gets a fixed share: connectors are served in
priority order (then by key, so the answer is stable) and each is given the largest equal
share that still fits everywhere it draws; a share below a connector's minimum becomes 0
(it could not charge at that current anyway), which frees room for the rest.
"""

from __future__ import annotations

from amphub.domain.balancing.model import BalancingGroup, ConnectorKey


def fail_safe_shares(group: BalancingGroup) -> dict[ConnectorKey, float]:
    """Per connector, a limit (0 or within [min, max]) such that all of them together fit the
    fail-safe amps at the root and every sub-group's limit on every phase."""
    index = group.index
    configs = index.configs
    room = _room(group)
    order = sorted(range(len(configs)), key=lambda i: (-configs[i].priority, configs[i].key))
    # How many connectors still to place draw on each constraint (node, phase).
    pending = [0] * len(room)
    for i in order:
        for j in index.paths[i]:
            pending[j] += 1
    shares: dict[ConnectorKey, float] = {}
    for i in order:
        config = configs[i]
        paths = index.paths[i]
        equal = min(room[j] / pending[j] for j in paths) if paths else config.max_a
        share = min(config.max_a, equal)
        share = share if share >= config.min_a else 0.0
        # Without room for even the minimum, a connector placed early could still fit it
        # when others get 0: give the minimum if it fits as it stands.
        if share == 0.0 and all(room[j] >= config.min_a for j in paths):
            share = config.min_a
        share = float(int(share * 10) / 10)  # 0.1 A resolution, rounded down
        for j in paths:
            room[j] -= share
            pending[j] -= 1
        shares[config.key] = share
    return shares


def _room(group: BalancingGroup) -> list[float]:
    """The limit of every (node, phase) constraint, with the root at fail-safe amps."""
    room = [max(limit, 0.0) for limit in group.index.node_limits]
    for j in range(3):  # the root's three phases come first
        room[j] = min(room[j], group.settings.fail_safe_a)
    return room

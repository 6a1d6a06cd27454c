"""A flat, integer-indexed view of a group tree, built once per configuration.

The allocator runs every few seconds over up to thousands of connectors; walking a tree of
dataclasses each time would cost more than the arithmetic. Nodes are numbered in pre-order
(root = 0, every parent before its children), connectors in the same depth-first order.

A *constraint* is one phase of one node: ``3 * node + (phase - 1)``.
A *slot* says which of a node's four water levels a connector follows:
``4 * node + kind`` with kind 0 for three-phase connectors and 1..3 for single-phase ones on
grid L1..L3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amphub.domain.errors import InvalidValue
from amphub.domain.units import PhaseCurrents

if TYPE_CHECKING:
    from amphub.domain.balancing.model import ConnectorConfig, ConnectorKey, GroupNode


@dataclass(frozen=True, slots=True)
class GroupIndex:
    node_ids: tuple[str, ...]
    parent: tuple[int, ...]
    """Parent node of each node; -1 for the root."""
    children: tuple[tuple[int, ...], ...]
    subtree_end: tuple[int, ...]
    """Node n's subtree is the nodes n .. subtree_end[n] - 1 (pre-order numbering)."""
    node_limit_currents: tuple[PhaseCurrents, ...]
    node_limits: tuple[float, ...]
    """Per constraint: the node's own limit on that phase (A)."""
    configs: tuple[ConnectorConfig, ...]
    keys: tuple[ConnectorKey, ...]
    position: dict[ConnectorKey, int]
    node_of: tuple[int, ...]
    kind: tuple[int, ...]
    """0 for a three-phase connector, else the grid phase (1..3) of a single-phase one."""
    slot: tuple[int, ...]
    paths: tuple[tuple[int, ...], ...]
    """The constraints each connector loads: its phases on its node and every ancestor."""
    members: tuple[tuple[int, ...], ...]
    """Per constraint: the connectors that load it."""
    grid_of_charger: tuple[tuple[int, int, int], ...]
    """Per connector: the grid phase index (0..2) of the charger's L1, L2, L3."""
    min_a: tuple[float, ...]
    max_a: tuple[float, ...]
    priority: tuple[int, ...]

    @property
    def node_count(self) -> int:
        return len(self.node_ids)


def build_index(root: GroupNode) -> GroupIndex:
    """Number the tree and check that node ids and connector keys are unique."""
    node_ids: list[str] = []
    parent: list[int] = []
    children: list[list[int]] = []
    node_limit_currents: list[PhaseCurrents] = []
    node_limits: list[float] = []
    placed: list[tuple[ConnectorConfig, int]] = []

    stack: list[tuple[GroupNode, int]] = [(root, -1)]
    while stack:
        node, up = stack.pop()
        n = len(node_ids)
        node_ids.append(node.node_id)
        parent.append(up)
        children.append([])
        if up >= 0:
            children[up].append(n)
        node_limit_currents.append(node.limit)
        node_limits.extend(node.limit.as_tuple())
        placed.extend((config, n) for config in node.connectors)
        stack.extend((child, n) for child in reversed(node.children))

    if len(set(node_ids)) != len(node_ids):
        raise InvalidValue("node_id", "node ids must be unique within a group")
    keys = tuple(config.key for config, _ in placed)
    position = {key: i for i, key in enumerate(keys)}
    if len(position) != len(keys):
        raise InvalidValue("connectors", "a connector may appear only once in a group")

    ancestors: list[tuple[int, ...]] = []
    for n in range(len(node_ids)):
        chain = [n]
        while parent[chain[-1]] >= 0:
            chain.append(parent[chain[-1]])
        ancestors.append(tuple(chain))

    kinds: list[int] = []
    paths: list[tuple[int, ...]] = []
    members: list[list[int]] = [[] for _ in range(3 * len(node_ids))]
    for i, (config, n) in enumerate(placed):
        grid = config.rotation.grid_phases()
        kind = 0 if config.phases == 3 else int(grid[0])
        phase_indices = (0, 1, 2) if kind == 0 else (kind - 1,)
        path = tuple(3 * a + p for a in ancestors[n] for p in phase_indices)
        for constraint in path:
            members[constraint].append(i)
        kinds.append(kind)
        paths.append(path)

    subtree_end = list(range(1, len(node_ids) + 1))
    for n in range(len(node_ids) - 1, 0, -1):
        subtree_end[parent[n]] = max(subtree_end[parent[n]], subtree_end[n])

    configs = tuple(config for config, _ in placed)
    return GroupIndex(
        node_ids=tuple(node_ids),
        parent=tuple(parent),
        children=tuple(tuple(c) for c in children),
        subtree_end=tuple(subtree_end),
        node_limit_currents=tuple(node_limit_currents),
        node_limits=tuple(node_limits),
        configs=configs,
        keys=keys,
        position=position,
        node_of=tuple(n for _, n in placed),
        kind=tuple(kinds),
        slot=tuple(4 * n + k for (_, n), k in zip(placed, kinds, strict=True)),
        paths=tuple(paths),
        members=tuple(tuple(m) for m in members),
        grid_of_charger=tuple(_grid_indices(config) for config in configs),
        min_a=tuple(config.min_a for config in configs),
        max_a=tuple(config.max_a for config in configs),
        priority=tuple(config.priority for config in configs),
    )


def _grid_indices(config: ConnectorConfig) -> tuple[int, int, int]:
    a, b, c = config.rotation.grid_phases()
    return (int(a) - 1, int(b) - 1, int(c) - 1)


def constraint_loads(
    index: GroupIndex, members: Iterable[int], values: Sequence[float]
) -> list[float]:
    """The load on every constraint when each connector in ``members`` takes ``values[i]``
    (a three-phase connector on all three phases, a single-phase one on its own)."""
    n_nodes = index.node_count
    per_slot = [0.0] * (4 * n_nodes)
    slot = index.slot
    for i in members:
        per_slot[slot[i]] += values[i]
    parent = index.parent
    for n in range(n_nodes - 1, 0, -1):
        base = 4 * n
        up = 4 * parent[n]
        per_slot[up] += per_slot[base]
        per_slot[up + 1] += per_slot[base + 1]
        per_slot[up + 2] += per_slot[base + 2]
        per_slot[up + 3] += per_slot[base + 3]
    loads = [0.0] * (3 * n_nodes)
    for n in range(n_nodes):
        tri = per_slot[4 * n]
        loads[3 * n] = tri + per_slot[4 * n + 1]
        loads[3 * n + 1] = tri + per_slot[4 * n + 2]
        loads[3 * n + 2] = tri + per_slot[4 * n + 3]
    return loads

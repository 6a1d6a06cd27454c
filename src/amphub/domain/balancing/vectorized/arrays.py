"""The group index as numpy arrays, and sums that add up in exactly the scalar code's order.

The vectorised allocator must decide exactly what the scalar one decides, to the last bit of
every float: a tie between a water level and a connector's maximum, or a load and a fuse,
decides which constraint binds. Floating-point addition is not associative, so every sum
here is formed in the order the scalar code forms it:

- ``np.bincount`` with weights adds in input order, starting from 0.0 (as ``x += v`` in a
  loop), so the per-slot sums of connectors taken in ascending order match;
- sums up the tree go through ``np.add.at`` one depth at a time, each parent receiving its
  children from the highest node number down (the scalar loop walks nodes backwards);
- ``np.cumsum`` along a row is a left fold (no pairwise summation, unlike ``np.sum``).

Built once per configuration (``BalancingGroup`` holds it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from amphub.domain.balancing.index import GroupIndex

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class IndexArrays:
    """The flat index (see ``index.py``) as arrays, plus what batching needs."""

    connector_count: int
    node_count: int
    slot: IntArray
    node_of: IntArray
    kind: IntArray
    min_a: FloatArray
    max_a: FloatArray
    priority: IntArray
    parent: IntArray
    subtree_end: IntArray
    depths: tuple[tuple[IntArray, IntArray], ...]
    """Deepest first: the nodes of one depth in descending order, and their parents
    (-1 for the root, which is alone in the last entry)."""
    below_depth: tuple[IntArray, ...]
    """Per entry of ``depths``: the positions in ``by_kind`` of every connector in the
    subtrees of that depth's nodes."""
    by_kind: IntArray
    """Connectors ordered by (kind, node, index): for each kind, a subtree's connectors
    are one contiguous run."""
    sub_start: IntArray
    """(node, kind) → where the subtree's connectors of that kind start in ``by_kind``."""
    sub_stop: IntArray


def build_arrays(index: GroupIndex) -> IndexArrays:
    n_nodes = index.node_count
    parent = np.array(index.parent, dtype=np.int64)
    depth = np.zeros(n_nodes, dtype=np.int64)
    for n in range(1, n_nodes):  # pre-order: a parent's depth is known before its children
        depth[n] = depth[parent[n]] + 1
    depths: list[tuple[IntArray, IntArray]] = []
    for d in range(int(depth.max()), -1, -1):
        nodes = np.flatnonzero(depth == d)[::-1].astype(np.int64)
        depths.append((nodes, parent[nodes]))

    kind = np.array(index.kind, dtype=np.int64)
    node_of = np.array(index.node_of, dtype=np.int64)
    block_key = kind * n_nodes + node_of
    by_kind = np.argsort(block_key, kind="stable").astype(np.int64)
    block_start = np.searchsorted(block_key[by_kind], np.arange(4 * n_nodes + 1), side="left")
    subtree_end = np.array(index.subtree_end, dtype=np.int64)
    kinds = np.arange(4, dtype=np.int64) * n_nodes
    nodes = np.arange(n_nodes, dtype=np.int64)
    sub_start = block_start[kinds[None, :] + nodes[:, None]].astype(np.int64)
    sub_stop = block_start[kinds[None, :] + subtree_end[:, None]].astype(np.int64)

    below_depth = []
    for nodes, _ in depths:
        starts = sub_start[nodes].reshape(-1)
        stops = sub_stop[nodes].reshape(-1)
        below_depth.append(
            np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
            .astype(np.int64)
            .reshape(-1)
        )

    return IndexArrays(
        connector_count=len(index.keys),
        node_count=n_nodes,
        slot=np.array(index.slot, dtype=np.int64),
        node_of=node_of,
        kind=kind,
        min_a=np.array(index.min_a, dtype=np.float64),
        max_a=np.array(index.max_a, dtype=np.float64),
        priority=np.array(index.priority, dtype=np.int64),
        parent=parent,
        subtree_end=subtree_end,
        depths=tuple(depths),
        below_depth=tuple(below_depth),
        by_kind=by_kind,
        sub_start=sub_start,
        sub_stop=sub_stop,
    )


def slot_sums(arrays: IndexArrays, members: IntArray, values: FloatArray) -> FloatArray:
    """(node, kind) → the sum of ``values`` (one per member, members ascending) of the
    node's own connectors, added in member order."""
    n = arrays.node_count
    sums = np.bincount(arrays.slot[members], weights=values, minlength=4 * n)
    return sums.astype(np.float64, copy=False).reshape(n, 4)


def add_up_tree(arrays: IndexArrays, per_node: FloatArray) -> None:
    """Add every node's row into its parent's, bottom-up, in place (the scalar order)."""
    for nodes, parents in arrays.depths[:-1]:
        np.add.at(per_node, parents, per_node[nodes])


def constraint_loads(arrays: IndexArrays, members: IntArray, values: FloatArray) -> FloatArray:
    """As ``index.constraint_loads`` (same floats): the load on every constraint when each
    member takes its value (``values`` one per member)."""
    per_slot = slot_sums(arrays, members, values)
    add_up_tree(arrays, per_slot)
    return (per_slot[:, :1] + per_slot[:, 1:]).reshape(-1)

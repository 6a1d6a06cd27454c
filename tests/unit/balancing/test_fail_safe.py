"""Standing fail-safe shares: together they respect fail-safe amps and every sub-group's
limit on every phase, with no coordination at all."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.domain.balancing.fail_safe import fail_safe_shares
from amphub.domain.balancing.model import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    GroupNode,
    GroupSettings,
    Placement,
)
from amphub.domain.units import PHASES, PhaseCurrents, PhaseRotation


def group(root: GroupNode, fail_safe_a: float) -> BalancingGroup:
    return BalancingGroup(
        root, GroupSettings(Placement.BUILDING_ONLY, 0.0, fail_safe_a, timedelta(seconds=30))
    )


def connector(
    n: int, phases: int = 3, rotation: PhaseRotation = PhaseRotation.L1L2L3, priority: int = 0
) -> ConnectorConfig:
    return ConnectorConfig(ConnectorKey(f"cp{n}", 1), 32.0, phases, rotation, 6.0, priority)


def load(g: BalancingGroup, shares: dict[ConnectorKey, float], node: GroupNode) -> PhaseCurrents:
    total = PhaseCurrents.zero()
    for config in node.connectors:
        share = shares[config.key]
        if config.phases == 3:
            total = total + PhaseCurrents.uniform(share)
        else:
            total = total + PhaseCurrents.zero().with_phase(
                config.rotation.grid_phase_of_charger_l1(), share
            )
    for child in node.children:
        total = total + load(g, shares, child)
    return total


def test_equal_shares_when_they_reach_the_minimum() -> None:
    g = group(
        GroupNode("root", PhaseCurrents.uniform(63), tuple(connector(n) for n in range(3))), 20.0
    )
    shares = sorted(fail_safe_shares(g).values())
    assert shares[0] >= 6.6 and shares[-1] - shares[0] <= 0.1 + 1e-9
    assert sum(shares) <= 20.0


def test_too_little_for_everyone_gives_some_the_minimum_and_others_nothing() -> None:
    configs = (connector(0, priority=1), connector(1), connector(2))
    g = group(GroupNode("root", PhaseCurrents.uniform(63), configs), 13.0)
    shares = fail_safe_shares(g)
    assert shares[configs[0].key] == 6.0  # higher priority first
    assert sorted(shares.values()) == [0.0, 6.0, 6.0]
    assert sum(shares.values()) <= 13.0


def test_single_phase_connectors_on_different_phases_do_not_share() -> None:
    configs = tuple(
        connector(n, 1, rotation)
        for n, rotation in enumerate(
            (PhaseRotation.L1L2L3, PhaseRotation.L2L3L1, PhaseRotation.L3L1L2)
        )
    )
    g = group(GroupNode("root", PhaseCurrents.uniform(63), configs), 16.0)
    assert set(fail_safe_shares(g).values()) == {16.0}


@st.composite
def trees(draw: st.DrawFn) -> BalancingGroup:
    n = 0

    def node(depth: int, name: str) -> GroupNode:
        nonlocal n
        connectors = []
        for _ in range(draw(st.integers(0, 4))):
            n += 1
            connectors.append(
                connector(
                    n,
                    draw(st.sampled_from((1, 3))),
                    draw(st.sampled_from(list(PhaseRotation))),
                    draw(st.integers(0, 2)),
                )
            )
        children = tuple(
            node(depth + 1, f"{name}.{i}")
            for i in range(draw(st.integers(0, 2 if depth < 2 else 0)))
        )
        return GroupNode(
            name, PhaseCurrents.uniform(draw(st.floats(0, 80))), tuple(connectors), children
        )

    return group(node(0, "root"), draw(st.floats(0, 100)))


@settings(max_examples=200, deadline=None)
@given(trees())
def test_shares_fit_everywhere_and_respect_the_range(g: BalancingGroup) -> None:
    shares = fail_safe_shares(g)

    def check(node: GroupNode, is_root: bool) -> None:
        limit = (
            node.limit.elementwise_min(PhaseCurrents.uniform(g.settings.fail_safe_a))
            if is_root
            else node.limit
        )
        used = load(g, shares, node)
        for phase in PHASES:
            assert used.on(phase) <= limit.on(phase) + 1e-9
        for child in node.children:
            check(child, False)

    check(g.root, True)
    for config in g.connectors:
        share = shares[config.key]
        assert share == 0.0 or config.min_a <= share <= config.max_a

"""Dispatch ordering: decreases first, increases only when the worst case fits."""

from __future__ import annotations

from datetime import timedelta

from amphub.domain.balancing import (
    ConnectorKey,
    Delivery,
    DeliveryStatus,
    HoldReason,
    check_invariant,
    loads_by_node,
    plan_dispatch,
    worst_case_limits,
)
from amphub.domain.units import Phase, PhaseCurrents
from tests.unit.balancing.builders import T0, group, key, node, one_phase, three_phase

GROUP = group(node("root", 32.0, three_phase(1), three_phase(2), one_phase(3)))
AVAILABLE = {"root": PhaseCurrents.uniform(32.0)}


def acked(**limits: float) -> dict[ConnectorKey, Delivery]:
    return {key(int(n[1:])): Delivery(v) for n, v in limits.items()}


def test_decreases_go_first_and_hold_every_increase_back() -> None:
    deliveries = acked(c1=16.0, c2=16.0, c3=0.0)
    intended = {key(1): 10.0, key(2): 16.0, key(3): 6.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0)
    assert plan.decreases == ((key(1), 10.0),)
    assert plan.increases == ()
    assert plan.held[key(3)].reason is HoldReason.DECREASES_OUTSTANDING
    assert plan.sends == ((key(1), 10.0),)


def test_an_in_flight_decrease_still_holds_increases_back() -> None:
    deliveries = acked(c2=16.0, c3=0.0)
    deliveries[key(1)] = Delivery(16.0, 10.0, DeliveryStatus.IN_FLIGHT, T0)
    intended = {key(1): 10.0, key(2): 16.0, key(3): 6.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0)
    assert plan.sends == ()
    assert key(1) not in plan.held  # nothing new to send it: its answer is awaited
    assert plan.held[key(3)].reason is HoldReason.DECREASES_OUTSTANDING


def test_increases_go_once_every_decrease_is_acknowledged_and_they_fit() -> None:
    deliveries = acked(c1=10.0, c2=16.0, c3=0.0)
    intended = {key(1): 10.0, key(2): 16.0, key(3): 6.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0)
    assert plan.decreases == ()
    assert plan.increases == ((key(3), 6.0),)
    assert plan.held == {}


def test_a_charger_that_rejected_a_decrease_counts_at_its_previous_limit() -> None:
    deliveries = acked(c2=10.0, c3=0.0)
    deliveries[key(1)] = Delivery(22.0, 10.0, DeliveryStatus.REJECTED, T0)
    intended = {key(1): 10.0, key(2): 10.0, key(3): 12.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0 + timedelta(seconds=5))
    # Not retried yet, and its decrease is still outstanding: no increase may go.
    assert plan.held[key(1)].reason is HoldReason.RETRY_LATER
    assert plan.held[key(3)].reason is HoldReason.DECREASES_OUTSTANDING
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0 + timedelta(seconds=31))
    assert plan.decreases == ((key(1), 10.0),)


def test_a_timed_out_increase_counts_at_its_new_limit() -> None:
    # Car 1 may be running on 22 A (the timed-out increase) or 10 A: 22 is assumed.
    deliveries = acked(c2=10.0, c3=0.0)
    deliveries[key(1)] = Delivery(10.0, 22.0, DeliveryStatus.TIMED_OUT, T0)
    assert worst_case_limits(GROUP, deliveries)[key(1)] == 22.0
    intended = {key(1): 16.0, key(2): 10.0, key(3): 6.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0 + timedelta(minutes=1))
    # 16 < 22 is a decrease from the worst case: it goes, and holds the increase back.
    assert plan.decreases == ((key(1), 16.0),)
    assert plan.held[key(3)].reason is HoldReason.DECREASES_OUTSTANDING


def test_an_increase_that_would_overload_in_the_worst_case_waits() -> None:
    deliveries = acked(c1=16.0, c2=10.0, c3=0.0)
    deliveries[key(2)] = Delivery(10.0, 16.0, DeliveryStatus.TIMED_OUT, T0)
    intended = {key(1): 16.0, key(2): 16.0, key(3): 6.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0 + timedelta(minutes=1))
    # Worst case: 16 + 16 on L1 already; car 3 (L1) would make 38 > 32.
    assert plan.increases == ((key(2), 16.0),)
    hold = plan.held[key(3)]
    assert (hold.reason, hold.node_id, hold.phase) == (HoldReason.WOULD_EXCEED, "root", Phase.L1)


def test_increases_are_admitted_one_by_one_while_they_fit() -> None:
    deliveries = acked(c1=6.0, c2=6.0, c3=0.0)
    intended = {key(1): 16.0, key(2): 16.0, key(3): 6.0}
    available = {"root": PhaseCurrents(30.0, 32.0, 32.0)}
    plan = plan_dispatch(GROUP, intended, deliveries, available, T0)
    assert plan.increases == ((key(1), 16.0), (key(3), 6.0))
    assert plan.held[key(2)].reason is HoldReason.WOULD_EXCEED


def test_a_charger_with_no_record_counts_at_its_maximum() -> None:
    deliveries = acked(c1=6.0, c3=0.0)
    intended = {key(1): 16.0, key(2): 6.0, key(3): 0.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0)
    assert plan.decreases == ((key(2), 6.0),)


def test_nothing_is_sent_when_every_charger_has_its_limit() -> None:
    deliveries = acked(c1=10.0, c2=10.0, c3=12.0)
    intended = {key(1): 10.0, key(2): 10.0, key(3): 12.0}
    plan = plan_dispatch(GROUP, intended, deliveries, AVAILABLE, T0)
    assert plan.sends == () and plan.held == {}


def test_the_invariant_check_names_the_full_node_and_phase() -> None:
    limits = {key(1): 16.0, key(2): 10.0, key(3): 8.0}
    assert loads_by_node(GROUP, limits)["root"] == PhaseCurrents(34.0, 26.0, 26.0)
    (violation,) = check_invariant(GROUP, AVAILABLE, limits)
    assert (violation.node_id, violation.phase, violation.load_a) == ("root", Phase.L1, 34.0)
    assert check_invariant(GROUP, AVAILABLE, {key(1): 16.0, key(2): 10.0, key(3): 6.0}) == ()

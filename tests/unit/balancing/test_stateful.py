"""A random world of meter steps, cars coming and going, a silent meter, and chargers that
acknowledge, reject or ignore their profiles; the balancer and the dispatch rules run after
every event, as the controller would run them.

What is checked is what the chargers *acknowledged* (and may be running on), not what was
intended:
- a dispatch never raises the worst-case load of any node phase above its available current,
  unless that load was already higher (the available current just dropped) — and then it does
  not raise it at all;
- whenever every charger has acknowledged and none is above its intended limit, the
  acknowledged limits keep the invariant;
- once the chargers answer, a couple of rounds bring every acknowledged limit to the
  intended one, within the invariant.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from amphub.domain.balancing import (
    Allocation,
    BalancerMemory,
    BalancingGroup,
    BalancingInput,
    ConnectorKey,
    ConnectorLive,
    Delivery,
    DeliveryStatus,
    MeterSnapshot,
    VehicleState,
    allocate,
    check_invariant,
    plan_dispatch,
)
from amphub.domain.balancing.index import constraint_loads
from amphub.domain.balancing.invariant import TOLERANCE_A, flat_limits, flat_room
from amphub.domain.units import PhaseCurrents
from tests.unit.balancing.builders import T0
from tests.unit.balancing.strategies import groups, phase_currents

ANSWERS = st.sampled_from(["ack", "ack", "ack", "reject", "timeout"])


class Site(RuleBasedStateMachine):
    group: BalancingGroup
    allocation: Allocation

    @initialize(group=groups(max_depth=2))
    def start(self, group: BalancingGroup) -> None:
        self.group = group
        self.now = T0
        self.meter = MeterSnapshot(PhaseCurrents.zero(), T0)
        self.cars: dict[ConnectorKey, ConnectorLive] = {}
        self.memory = BalancerMemory()
        # Chargers start on their standing fail-safe profile: 0 A until amphub says more.
        self.deliveries = {c.key: Delivery(0.0) for c in group.connectors}
        self.cycle()

    # -- the world ---------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 5, 10, 31, 300]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.meter = MeterSnapshot(self.meter.currents, self.now)
        self.cycle()

    @rule(currents=phase_currents(-60.0, 120.0))
    def meter_steps(self, currents: PhaseCurrents) -> None:
        self.now += timedelta(seconds=1)
        self.meter = MeterSnapshot(currents, self.now)
        self.cycle()

    @rule(seconds=st.sampled_from([61, 180]))
    def meter_goes_silent(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.cycle()

    @rule(data=st.data(), state=st.sampled_from([VehicleState.CHARGING, VehicleState.SUSPENDED_EV]))
    def car_connects(self, data: st.DataObject, state: VehicleState) -> None:
        if not self.group.connectors:
            return
        config = data.draw(st.sampled_from(self.group.connectors))
        draw = data.draw(st.sampled_from([0.0, 3.0, config.max_a]))
        self.cars[config.key] = ConnectorLive(
            state, self.now, PhaseCurrents.uniform(draw), self.now
        )
        self.cycle()

    @precondition(lambda self: bool(self.cars))
    @rule(data=st.data())
    def car_leaves(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.cars)))
        del self.cars[key]
        self.cycle()

    # -- the chargers ------------------------------------------------------------------

    @rule(data=st.data(), answer=ANSWERS)
    def a_charger_answers(self, data: st.DataObject, answer: str) -> None:
        pending = sorted(
            k for k, d in self.deliveries.items() if d.status is DeliveryStatus.IN_FLIGHT
        )
        if not pending:
            return
        self.answer(data.draw(st.sampled_from(pending)), answer)
        self.cycle()

    @rule(answer=ANSWERS)
    def every_charger_answers(self, answer: str) -> None:
        for key, delivery in list(self.deliveries.items()):
            if delivery.status is DeliveryStatus.IN_FLIGHT:
                self.answer(key, answer)
        self.cycle()

    @rule()
    def chargers_catch_up(self) -> None:
        """Every charger acknowledges everything: a few rounds reach the intended limits."""
        self.now += timedelta(seconds=31)  # past the retry delay of failed calls
        self.meter = MeterSnapshot(self.meter.currents, self.now)
        for _ in range(4):
            self.cycle()
            for key, delivery in list(self.deliveries.items()):
                if delivery.status is not DeliveryStatus.ACKNOWLEDGED:
                    self.answer(key, "ack")
        self.cycle()
        acknowledged = {k: d.acknowledged_a for k, d in self.deliveries.items()}
        assert all(d.status is DeliveryStatus.ACKNOWLEDGED for d in self.deliveries.values())
        assert acknowledged == dict(self.allocation.limits_a)
        per_node = self.allocation.available.per_node
        assert check_invariant(self.group, per_node, acknowledged) == ()

    # -- the controller ----------------------------------------------------------------

    def answer(self, key: ConnectorKey, answer: str) -> None:
        delivery = self.deliveries[key]
        if answer == "ack" or delivery.attempted_a is None:
            self.deliveries[key] = Delivery(
                delivery.acknowledged_a if delivery.attempted_a is None else delivery.attempted_a
            )
        else:
            status = DeliveryStatus.REJECTED if answer == "reject" else DeliveryStatus.TIMED_OUT
            self.deliveries[key] = Delivery(
                delivery.acknowledged_a, delivery.attempted_a, status, delivery.attempted_at
            )

    def cycle(self) -> None:
        snapshot = BalancingInput(self.meter, dict(self.cars))
        self.allocation = allocate(self.group, snapshot, self.memory, self.now)
        self.memory = self.allocation.memory
        per_node = self.allocation.available.per_node
        assert check_invariant(self.group, per_node, self.allocation.limits_a) == ()

        room = flat_room(self.group, per_node)
        before = self.worst_case_loads()
        if self.all_settled():
            acknowledged = {k: d.acknowledged_a for k, d in self.deliveries.items()}
            assert check_invariant(self.group, per_node, acknowledged) == ()

        plan = plan_dispatch(
            self.group, self.allocation.limits_a, self.deliveries, per_node, self.now
        )
        for key, limit in plan.sends:
            old = self.deliveries[key]
            self.deliveries[key] = Delivery(
                old.acknowledged_a, limit, DeliveryStatus.IN_FLIGHT, self.now
            )
        after = self.worst_case_loads()
        for j, (was, now_, available) in enumerate(zip(before, after, room, strict=True)):
            assert now_ <= max(available, was) + TOLERANCE_A, (j, was, now_, available)

    def worst_case_loads(self) -> list[float]:
        worst = {k: d.worst_case_a for k, d in self.deliveries.items()}
        limits = flat_limits(self.group, worst)
        return constraint_loads(self.group.index, range(len(limits)), limits)

    def all_settled(self) -> bool:
        limits = self.allocation.limits_a
        return all(
            d.status is DeliveryStatus.ACKNOWLEDGED and d.acknowledged_a <= limits[k] + TOLERANCE_A
            for k, d in self.deliveries.items()
        )

    @invariant()
    def acknowledged_never_exceeds_the_worst_case(self) -> None:
        for delivery in self.deliveries.values():
            assert delivery.acknowledged_a <= delivery.worst_case_a


Site.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestBalancingWithChargers = Site.TestCase

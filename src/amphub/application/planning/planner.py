"""The price planner of each group: one joint LP over the group's planned sessions, re-run
when prices arrive, a session starts or stops, a need changes, the readings show that a car
takes less than its connector offers (a lower maximum, one phase), and every quarter hour
(to fold in what was actually delivered). Its plans reach the balancer as per-connector caps
(:meth:`PricePlanner.caps`, from memory).

What is planned: a running session (a transaction on a connector of a cloud-managed group)
whose need is known (set for the session, or the driver's id-tag default, or the charge
point's default) at a site with a tariff. Charge now, or no known price, means no cap: the
car charges at once, as without adaptive charging. Sessions without a need are expected to
keep drawing for the next hour, and charge-now sessions until their energy is in: their
current is kept off the circuit rows the plan uses. The building-load forecast is the last
measured building load, held for the whole horizon.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from amphub.application.access import Actor, require
from amphub.application.balancing.config import LoadedGroup, all_group_ids, load_group
from amphub.application.charging.live import LiveChargerState, LiveEvent, LiveEventKind
from amphub.application.charging.queries import TransactionRecord
from amphub.application.planning.ports import PlanningUnitOfWork, Solver, StoredTariff
from amphub.application.planning.prices import PriceService
from amphub.application.ports import Clock
from amphub.domain.balancing.model import ConnectorKey, ExternalCap
from amphub.domain.errors import NotFound
from amphub.domain.planning.needs import resolve_need
from amphub.domain.planning.plan import PlanStatus, SessionPlan, session_plans, unplanned
from amphub.domain.planning.problem import (
    Basis,
    PlanningProblem,
    SessionToPlan,
    build_problem,
    fill_prices,
    group_circuits,
)
from amphub.domain.planning.schedule import Schedule
from amphub.domain.planning.tariffs import SlotGrid, slot_prices
from amphub.domain.planning.vehicle import SeenVehicle
from amphub.domain.planning.warm_start import WarmStart
from amphub.domain.roles import Action, Scope
from amphub.domain.units import PhaseCurrents

LOGGER = logging.getLogger(__name__)
HORIZON = timedelta(hours=36)
UNPLANNED_LOOKAHEAD = timedelta(hours=1)


class TransactionLookup(Protocol):
    async def transaction(self, transaction_id: int) -> TransactionRecord | None: ...


BuildingLoad = Callable[[int], PhaseCurrents | None]
"""Group id → its last measured building load per grid phase, if any."""


@dataclass(frozen=True, slots=True)
class GroupPlan:
    group_id: int
    at: datetime
    plans: Mapping[ConnectorKey, SessionPlan]


@dataclass(frozen=True, slots=True)
class _Solved:
    """A group's last optimum, for the next re-plan to start from."""

    keys: tuple[ConnectorKey, ...]
    problem: PlanningProblem
    basis: Basis

    def warm_start(self, keys: Sequence[ConnectorKey]) -> WarmStart:
        previous = {key: s for s, key in enumerate(self.keys)}
        return WarmStart(self.problem, self.basis, tuple(previous.get(k, -1) for k in keys))


@dataclass(frozen=True, slots=True)
class _Running:
    key: ConnectorKey
    session: SessionToPlan
    charge_now: bool


class PricePlanner:
    def __init__(
        self,
        uow_factory: Callable[[], PlanningUnitOfWork],
        prices: PriceService,
        solver: Solver,
        live: LiveChargerState,
        transactions: TransactionLookup,
        clock: Clock,
        building_load: BuildingLoad | None = None,
    ) -> None:
        self._uow = uow_factory
        self._prices = prices
        self._solver = solver
        self._live = live
        self._transactions = transactions
        self._clock = clock
        self._building_load = building_load or (lambda _group_id: None)
        self._plans: dict[int, GroupPlan] = {}
        self._solved: dict[int, _Solved] = {}
        self._group_of: dict[int, int] = {}
        self._seen: dict[ConnectorKey, tuple[int, SeenVehicle]] = {}
        """Per connector: its transaction and what its readings showed of the car."""
        self._zone_of: dict[int, str] = {}
        self._site_of: dict[int, int] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._unsubscribe: Callable[[], None] | None = None

    # -- CapSource ------------------------------------------------------------------------

    def caps(
        self, group_id: int, keys: Sequence[ConnectorKey], now: datetime
    ) -> Mapping[ConnectorKey, ExternalCap]:
        plan = self._plans.get(group_id)
        if plan is None:
            return {}
        found: dict[ConnectorKey, ExternalCap] = {}
        for key in keys:
            session_plan = plan.plans.get(key)
            cap = None if session_plan is None else session_plan.cap_at(now)
            if session_plan is not None and cap is not None:
                found[key] = ExternalCap(cap, f"price plan ({session_plan.status.value})")
        return found

    # -- reading --------------------------------------------------------------------------

    def group_plan(self, group_id: int) -> GroupPlan | None:
        return self._plans.get(group_id)

    async def session_plan(
        self, actor: Actor, charge_point_id: int, connector_id: int
    ) -> SessionPlan | None:
        """The plan of the session on a connector (None: not planned), for the API."""
        async with self._uow() as uow:
            charge_point = await uow.charge_points.get(charge_point_id)
            if charge_point is None:
                raise NotFound("charge point", charge_point_id)
            scope = Scope(charge_point.operator_id, charge_point.team_id)
            require(actor, Action.VIEW, scope, "charge point", charge_point_id)
        if connector_id not in {c.connector_id for c in charge_point.spec.connectors}:
            raise NotFound("connector", connector_id)
        key = ConnectorKey(str(charge_point_id), connector_id)
        for plan in self._plans.values():
            if key in plan.plans:
                return plan.plans[key]
        return None

    # -- lifecycle and triggers -----------------------------------------------------------

    async def start(self) -> None:
        for group_id in await all_group_ids(self._uow):
            await self.replan(group_id)
        self._prices.add_listener(self.prices_changed)
        self._unsubscribe = self._live.subscribe(self._on_live)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def run(self, every: timedelta = timedelta(minutes=15)) -> None:
        """Re-plan every planned group on a fixed interval, forever (cancel to stop)."""
        while True:
            await asyncio.sleep(every.total_seconds())
            for group_id in list(self._plans):
                self.request(group_id)

    def request(self, group_id: int) -> None:
        """Re-plan soon; requests while a re-plan runs fold into one more."""
        if group_id in self._tasks:
            self._again.add(group_id)
            return
        task = asyncio.get_running_loop().create_task(
            self._replan_task(group_id), name=f"replan-{group_id}"
        )
        self._tasks[group_id] = task

    async def _replan_task(self, group_id: int) -> None:
        try:
            while True:
                self._again.discard(group_id)
                try:
                    await self.replan(group_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    LOGGER.exception("group %s: planning failed", group_id)
                if group_id not in self._again:
                    return
        finally:
            self._tasks.pop(group_id, None)

    def group_changed(self, group_id: int) -> None:
        """A GroupService listener: a group made, changed (its layout: which charge points
        it plans) or deleted is re-planned, or forgotten, at once. Outside a running server
        (the CLI) there is nothing to plan."""
        if self._unsubscribe is not None:
            self.request(group_id)

    def _on_live(self, event: LiveEvent) -> None:
        if event.kind is LiveEventKind.TRANSACTION:
            group_id = self._group_of.get(event.charge_point_id)
            if group_id is not None:
                self.request(group_id)
        elif event.kind is LiveEventKind.METER and event.connector_id is not None:
            self._observe(event.charge_point_id, event.connector_id)

    def _observe(self, charge_point_id: int, connector_id: int) -> None:
        """Fold a reading into what is known of the car on the connector; re-plan when that
        changes what the plan assumed of it (see :mod:`amphub.domain.planning.vehicle`)."""
        group_id = self._group_of.get(charge_point_id)
        connector = self._live.connector(charge_point_id, connector_id)
        if (
            group_id is None
            or connector is None
            or connector.transaction_id is None
            or connector.current_a is None
            or connector.measured_at is None
        ):
            return
        key = ConnectorKey(str(charge_point_id), connector_id)
        before = self._seen_vehicle(key, connector.transaction_id)
        after = before.observe(connector.current_a, connector.offered_a, connector.measured_at)
        if after is before:
            return
        self._seen[key] = (connector.transaction_id, after)
        if after.changes_plan(before) and group_id in self._plans:
            self.request(group_id)

    def _seen_vehicle(self, key: ConnectorKey, transaction_id: int) -> SeenVehicle:
        known = self._seen.get(key)
        return known[1] if known is not None and known[0] == transaction_id else SeenVehicle()

    def prices_changed(self, zone: str) -> None:
        for group_id, group_zone in list(self._zone_of.items()):
            if group_zone == zone:
                self.request(group_id)

    # PlanningListener
    def needs_changed(self, charge_point_id: int) -> None:
        group_id = self._group_of.get(charge_point_id)
        if group_id is not None:
            self.request(group_id)

    def tariff_changed(self, site_id: int) -> None:
        for group_id, group_site in list(self._site_of.items()):
            if group_site == site_id:
                self.request(group_id)

    def schedule_changed(
        self, charge_point_id: int, schedule: Schedule | None, time_zone: str
    ) -> None:
        """Schedules are caps of their own; plans do not depend on them."""

    # -- planning -------------------------------------------------------------------------

    async def replan(self, group_id: int) -> GroupPlan | None:
        now = self._clock.now()
        loaded = await load_group(self._uow, group_id)
        if loaded is None:
            self._forget(group_id)
            return None
        for charge_point_id in loaded.charge_points:
            self._group_of[charge_point_id] = group_id
        async with self._uow() as uow:
            site = await uow.sites.get(loaded.stored.site_id)
            tariff = await uow.planning.tariff(loaded.stored.site_id)
            running = await self._running(uow, loaded, now, site.spec.time_zone if site else "UTC")
        # Known before the first plan, so a tariff or prices arriving later re-plan it.
        self._site_of[group_id] = loaded.stored.site_id
        if site is not None:
            self._zone_of[group_id] = site.spec.bidding_zone
        if site is None or tariff is None or loaded.locally_managed or not running:
            self._plans.pop(group_id, None)
            return None
        plan = await self._plan(loaded, tariff, site.spec.bidding_zone, running, now)
        self._plans[group_id] = plan
        return plan

    def _forget(self, group_id: int) -> None:
        self._plans.pop(group_id, None)
        self._solved.pop(group_id, None)
        self._zone_of.pop(group_id, None)
        self._site_of.pop(group_id, None)
        for charge_point_id in [c for c, g in self._group_of.items() if g == group_id]:
            del self._group_of[charge_point_id]

    async def _running(
        self, uow: PlanningUnitOfWork, loaded: LoadedGroup, now: datetime, time_zone: str
    ) -> list[_Running]:
        """The group's running sessions that have a need."""
        found = []
        token_defaults = await uow.planning.token_defaults(loaded.stored.team_id)
        for config in loaded.balancing.index.configs:
            charge_point_id = int(config.key.charge_point_id)
            connector = self._live.connector(charge_point_id, config.key.connector_id)
            if connector is None or connector.transaction_id is None:
                continue
            record = await self._transactions.transaction(connector.transaction_id)
            if record is None or record.stopped_at is not None:
                continue
            need = resolve_need(
                await uow.planning.session_need(record.transaction_id),
                token_defaults.get((record.id_tag or "").upper()),
                await uow.planning.charge_point_default(charge_point_id),
                record.started_at,
                time_zone,
            )
            if need is None or need.departure <= now:
                continue
            delivered = 0.0
            if connector.energy_wh is not None and record.meter_start_wh is not None:
                delivered = max(0.0, connector.energy_wh - record.meter_start_wh)
            seen = self._seen_vehicle(config.key, record.transaction_id)
            phases, max_a = seen.limits(config.phases, config.min_a, config.max_a)
            session = SessionToPlan(
                config.key, phases, config.min_a, max_a, now, need.departure,
                max(0.0, need.energy_wh - delivered),
            )  # fmt: skip
            found.append(_Running(config.key, session, need.charge_now))
        return found

    async def _plan(
        self,
        loaded: LoadedGroup,
        tariff: StoredTariff,
        zone: str,
        running: list[_Running],
        now: datetime,
    ) -> GroupPlan:
        until = min(now + HORIZON, max(r.session.departure for r in running))
        grid = SlotGrid.from_now(now, until)
        known = slot_prices(self._prices.known(zone, grid.start, grid.end), grid, tariff.tariff)
        filled = None if tariff.price_source == "none" else fill_prices(known)
        planned = [r for r in running if not r.charge_now]
        plans: dict[ConnectorKey, SessionPlan] = {}
        for r in running:
            if r.charge_now:
                plans[r.key] = unplanned(
                    r.session, grid, PlanStatus.CHARGE_NOW, "charge now: as fast as allowed"
                )
        if filled is None or not planned:
            for r in planned:
                plans[r.key] = unplanned(
                    r.session, grid, PlanStatus.UNPRICED, "no price known: charging at once"
                )
            return GroupPlan(loaded.stored.id, now, plans)
        building = self._building_load(loaded.stored.id) or PhaseCurrents.zero()
        circuits = group_circuits(
            loaded.balancing, [r.key for r in planned], grid, [building] * grid.count,
            loaded.balancing.settings.dynamic_buffer_a, self._fixed_loads(loaded, running, grid),
        )  # fmt: skip
        sessions = [r.session for r in planned]
        problem = build_problem(sessions, grid, filled, circuits)
        keys = tuple(r.key for r in planned)
        solved = self._solved.pop(loaded.stored.id, None)
        warm = None if solved is None else solved.warm_start(keys)
        solution = await asyncio.to_thread(self._solver.solve, problem, warm)
        if solution.basis is not None:
            self._solved[loaded.stored.id] = _Solved(keys, problem, solution.basis)
        if not solution.optimal:
            LOGGER.error("group %s: no optimal plan (%s)", loaded.stored.id, solution.message)
            for r in planned:
                plans[r.key] = unplanned(
                    r.session, grid, PlanStatus.UNPRICED,
                    f"planner failed ({solution.message}): charging at once",
                )  # fmt: skip
            return GroupPlan(loaded.stored.id, now, plans)
        for plan in session_plans(problem, sessions, solution, known):
            plans[plan.session.key] = plan
        return GroupPlan(loaded.stored.id, now, plans)

    def _fixed_loads(
        self, loaded: LoadedGroup, running: list[_Running], grid: SlotGrid
    ) -> dict[ConnectorKey, list[float]]:
        """Per-slot current of chargers outside the plan: charge-now sessions at their
        maximum until their energy is in, sessions without a need for the next hour."""
        planned = {r.key for r in running if not r.charge_now}
        charge_now = {r.key: r.session for r in running if r.charge_now}
        fixed: dict[ConnectorKey, list[float]] = {}
        hour = math.ceil(UNPLANNED_LOOKAHEAD / grid.step)
        for config in loaded.balancing.index.configs:
            if config.key in planned:
                continue
            connector = self._live.connector(
                int(config.key.charge_point_id), config.key.connector_id
            )
            if connector is None or connector.transaction_id is None:
                continue
            session = charge_now.get(config.key)
            slots = hour
            if session is not None and session.need_wh > 0:
                per_slot_wh = config.max_a * session.kw_per_a * 1000 * grid.minutes / 60
                slots = math.ceil(session.need_wh / per_slot_wh)
            fixed[config.key] = [config.max_a] * min(slots, grid.count)
        return fixed

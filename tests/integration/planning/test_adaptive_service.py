"""Adaptive charging end to end below the API: a real store (SQLite and PostgreSQL), real
DK2 prices from the CSV provider, HiGHS, the live charger state the OCPP gateway writes, and
the caps the balancer would read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.prices.csv_file import CsvPriceProvider
from amphub.adapters.solvers.highs import HighsSolver
from amphub.adapters.store.charging_tables import TransactionRow
from amphub.adapters.store.database import session_factory
from amphub.adapters.store.planning import SqlPlanningUnitOfWork, SqlPriceStore
from amphub.application.access import Actor
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.queries import TransactionRecord
from amphub.application.planning.configuration import TariffSpec
from amphub.application.planning.service import AdaptiveCharging
from amphub.application.uow import Page, Visibility
from amphub.domain.balancing.model import ConnectorKey
from amphub.domain.charging import MeterReading
from amphub.domain.errors import Conflict, Forbidden, NotFound
from amphub.domain.group_config import GroupLayout, GroupSettingsSpec
from amphub.domain.planning.needs import NeedDefault, SessionNeed
from amphub.domain.planning.plan import PlanStatus
from amphub.domain.planning.schedule import WeeklyWindow
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import ChargePointSpec, ConnectorSpec, SiteSpec
from amphub.domain.units import PhaseCurrents
from tests.integration.planning.price_server import HOURLY
from tests.support.waiting import eventually

NOW = datetime(2024, 10, 26, 16, 0, tzinfo=UTC)  # 18:00 CEST, the evening before DST ends
SYSTEM = Actor.system("test")


@dataclass
class Clock:
    at: datetime = NOW

    def now(self) -> datetime:
        return self.at


@dataclass
class Transactions:
    records: dict[int, TransactionRecord]

    async def transaction(self, transaction_id: int) -> TransactionRecord | None:
        return self.records.get(transaction_id)


@dataclass
class World:
    adaptive: AdaptiveCharging
    live: LiveChargerState
    clock: Clock
    operator_id: int
    team_id: int
    site_id: int
    charge_point_id: int
    group_id: int
    transaction_id: int

    @property
    def key(self) -> ConnectorKey:
        return ConnectorKey(str(self.charge_point_id), 1)


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    sessions = session_factory(engine)
    async with SqlPlanningUnitOfWork(sessions) as uow:
        operator = await uow.operators.add("Op", NOW)
        team = await uow.teams.add(operator.id, "T", NOW)
        site = await uow.sites.add(team.id, SiteSpec("S", "DK", "DK2", "Europe/Copenhagen"), NOW)
        cp = await uow.charge_points.add(
            site.id,
            ChargePointSpec(
                "CP-1", "SER-1", (ConnectorSpec(1, max_current_a=16), ConnectorSpec(2))
            ),
            NOW,
        )
        group = await uow.groups.add(site.id, "LBG-TEST-0001", GroupSettingsSpec("G", 63.0), NOW)
        await uow.groups.set_layout(group.id, GroupLayout(charge_point_ids=(cp.id,)))
        row = TransactionRow(
            charge_point_id=cp.id, connector_id=1, ocpp_version="1.6", transaction_ref="1",
            id_tag="TAG-1", started_at=NOW, meter_start_wh=1000.0, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        uow.session.add(row)
        await uow.session.flush()
        await uow.commit()
    live = LiveChargerState()
    live.mark_connected(cp.id, "CP-1", "1.6", NOW, [(1, 3), (2, 3)])
    live.set_transaction(cp.id, 1, row.id)
    record = TransactionRecord(row.id, cp.id, 1, "1", "TAG-1", None, NOW, None, 1000.0, None, "")
    clock = Clock()
    adaptive = AdaptiveCharging.build(
        lambda: SqlPlanningUnitOfWork(sessions), SqlPriceStore(sessions),
        {"csv": CsvPriceProvider(HOURLY)}, HighsSolver(), live, Transactions({row.id: record}),
        clock,
    )  # fmt: skip
    await adaptive.configuration.set_tariff(SYSTEM, site.id, TariffSpec("csv", vat_percent=25))
    assert await adaptive.prices.refresh("DK2", "csv")
    return World(adaptive, live, clock, operator.id, team.id, site.id, cp.id, group.id, row.id)


async def test_a_session_with_a_need_is_capped_to_its_cheapest_slots(world: World) -> None:
    config = world.adaptive.configuration
    departure = NOW + timedelta(hours=14)
    await config.set_session_need(SYSTEM, world.charge_point_id, 1, SessionNeed(departure, 11_000))
    plan = await world.adaptive.planner.replan(world.group_id)
    assert plan is not None
    session = plan.plans[world.key]
    assert session.status is PlanStatus.PLANNED
    assert session.planned_kwh == pytest.approx(11.0, abs=0.01)
    prices = session.prices_per_kwh
    charging = [t for t, cap in enumerate(session.caps_a) if cap > 0]
    idle = [t for t, cap in enumerate(session.caps_a) if cap == 0 and prices[t] is not None]
    assert charging and idle
    assert max(prices[t] or 0 for t in charging) <= min(prices[t] or 0 for t in idle) + 1e-9
    # The balancer's view: the cap in force now, and only for the planned connector.
    caps = world.adaptive.planner.caps(
        world.group_id, [world.key, ConnectorKey(str(world.charge_point_id), 2)], NOW
    )
    assert set(caps) == {world.key}
    assert caps[world.key].cap_a == session.caps_a[0]
    cheapest = charging[0]
    later = session.grid.at(cheapest) + timedelta(minutes=1)
    assert world.adaptive.planner.caps(world.group_id, [world.key], later)[world.key].cap_a >= 6


async def test_defaults_apply_charge_now_overrides_and_no_price_charges_at_once(
    world: World,
) -> None:
    config = world.adaptive.configuration
    planner = world.adaptive.planner
    assert await planner.replan(world.group_id) is None  # no need known: not planned
    await config.set_token_default(SYSTEM, world.team_id, "tag-1", NeedDefault(7 * 60, 5_000))
    plan = await planner.replan(world.group_id)
    assert plan is not None
    session = plan.plans[world.key]
    assert session.session.departure == datetime(2024, 10, 27, 6, tzinfo=UTC)  # 07:00 CET
    assert session.status is PlanStatus.PLANNED
    await config.set_session_need(SYSTEM, world.charge_point_id, 1, SessionNeed(None, None, True))
    plan = await planner.replan(world.group_id)
    assert plan is not None and plan.plans[world.key].status is PlanStatus.CHARGE_NOW
    assert planner.caps(world.group_id, [world.key], NOW) == {}
    await config.set_session_need(
        SYSTEM, world.charge_point_id, 1, SessionNeed(NOW + timedelta(hours=5), 5_000)
    )
    await config.set_tariff(SYSTEM, world.site_id, TariffSpec("none"))
    plan = await planner.replan(world.group_id)
    assert plan is not None and plan.plans[world.key].status is PlanStatus.UNPRICED
    assert planner.caps(world.group_id, [world.key], NOW) == {}


async def test_a_need_too_large_for_the_stay_charges_as_fast_as_allowed(world: World) -> None:
    await world.adaptive.configuration.set_session_need(
        SYSTEM, world.charge_point_id, 1, SessionNeed(NOW + timedelta(hours=2), 60_000)
    )
    plan = await world.adaptive.planner.replan(world.group_id)
    assert plan is not None
    session = plan.plans[world.key]
    assert session.status is PlanStatus.SHORT
    assert world.adaptive.planner.caps(world.group_id, [world.key], NOW)[world.key].cap_a == 16.0


async def test_schedule_caps_and_the_audit_trail(world: World) -> None:
    config = world.adaptive.configuration
    await config.set_schedule(
        SYSTEM, world.charge_point_id, [WeeklyWindow(5, 20 * 60, 1440, 10.0, 2)]
    )
    schedules = world.adaptive.schedules
    keys = [world.key, ConnectorKey(str(world.charge_point_id), 2)]
    saturday_1830 = NOW + timedelta(minutes=30)
    saturday_2130 = NOW + timedelta(hours=3, minutes=30)
    assert {k: c.cap_a for k, c in schedules.caps(world.group_id, keys, saturday_1830).items()} == {
        keys[1]: 0.0
    }
    assert schedules.caps(world.group_id, keys, saturday_2130)[keys[1]].cap_a == 10.0
    await schedules.load()  # the same from the store after a restart
    assert schedules.caps(world.group_id, keys, saturday_2130)[keys[1]].cap_a == 10.0
    await config.delete_schedule(SYSTEM, world.charge_point_id)
    assert schedules.caps(world.group_id, keys, saturday_2130) == {}
    async with world.adaptive.uow_factory() as uow:
        entries = await uow.audit.list_visible(Visibility(everything=True), Page(50))
    actions = [e.entry.action for e in entries]
    assert "schedule.set" in actions and "schedule.delete" in actions and "tariff.set" in actions


async def test_who_may_do_what(world: World) -> None:
    config = world.adaptive.configuration
    member = Actor(
        1, "member", (Membership(1, world.operator_id, world.team_id, Role.TEAM_MEMBER),)
    )
    admin = Actor(
        None, "admin", (Membership(2, world.operator_id, world.team_id, Role.TEAM_ADMIN),)
    )
    stranger = Actor(
        3, "stranger", (Membership(3, world.operator_id + 99, None, Role.OPERATOR_ADMIN),)
    )
    window = [WeeklyWindow(0, 0, 60, 6.0)]
    assert await config.schedule(member, world.charge_point_id) is None
    with pytest.raises(Forbidden):
        await config.set_schedule(member, world.charge_point_id, window)
    with pytest.raises(Forbidden):
        await config.set_schedule(admin, world.charge_point_id, window)  # no configure right
    need = SessionNeed(NOW + timedelta(hours=3), 1_000)
    await config.set_session_need(admin, world.charge_point_id, 1, need)  # operating is allowed
    for call in (
        config.schedule(stranger, world.charge_point_id),
        config.tariff(stranger, world.site_id),
        config.token_defaults(stranger, world.team_id),
        config.set_session_need(stranger, world.charge_point_id, 1, need),
        world.adaptive.planner.session_plan(stranger, world.charge_point_id, 1),
    ):
        with pytest.raises(NotFound):
            await call
    with pytest.raises(Conflict):
        await config.set_session_need(SYSTEM, world.charge_point_id, 2, need)  # no session there


async def test_session_start_stop_and_new_prices_re_plan_by_themselves(world: World) -> None:
    planner = world.adaptive.planner
    await world.adaptive.configuration.set_session_need(
        SYSTEM, world.charge_point_id, 1, SessionNeed(NOW + timedelta(hours=10), 8_000)
    )
    await planner.start()
    try:
        first = planner.group_plan(world.group_id)
        assert first is not None and world.key in first.plans
        world.live.set_transaction(world.charge_point_id, 1, None)  # the car leaves
        await eventually(lambda: planner.group_plan(world.group_id) is None)
        world.live.set_transaction(world.charge_point_id, 1, world.transaction_id)  # back
        await eventually(lambda: planner.group_plan(world.group_id) is not None)
        before = planner.group_plan(world.group_id)
        world.clock.at = NOW + timedelta(minutes=20)
        planner.prices_changed("DK2")
        await eventually(lambda: planner.group_plan(world.group_id) is not before)
        replanned = planner.group_plan(world.group_id)
        assert replanned is not None and replanned.at == world.clock.at
    finally:
        await planner.stop()


async def test_a_car_that_takes_less_than_offered_is_planned_as_it_charges(world: World) -> None:
    """A single-phase car drawing 10 A of the 16 A its three-phase charger offers: the plan
    was made for 16 A on three phases; the readings re-plan it for what the car takes."""
    planner = world.adaptive.planner
    await world.adaptive.configuration.set_session_need(
        SYSTEM, world.charge_point_id, 1, SessionNeed(NOW + timedelta(hours=10), 8_000)
    )
    await planner.start()
    try:
        first = planner.group_plan(world.group_id)
        assert first is not None
        assert (first.plans[world.key].session.phases, first.plans[world.key].session.max_a) == (
            3,
            16.0,
        )

        def planned_as() -> tuple[int, float] | None:
            plan = planner.group_plan(world.group_id)
            session = None if plan is None else plan.plans[world.key].session
            return None if session is None else (session.phases, session.max_a)

        for k in range(7):  # 30 s of readings, every 5 s
            reading = MeterReading(
                NOW + timedelta(seconds=5 * k), current_a=PhaseCurrents(10.0, 0.0, 0.0),
                offered_a=16.0,
            )  # fmt: skip
            assert world.live.apply_reading(world.charge_point_id, 1, reading)
            if k == 0:  # one phase in use: re-planned on one phase at once
                await eventually(lambda: planned_as() == (1, 16.0))
        await eventually(lambda: planned_as() == (1, 10.0))
        plan = planner.group_plan(world.group_id)
        assert plan is not None
        assert plan.plans[world.key].planned_kwh == pytest.approx(8.0, abs=0.01)
        assert max(plan.plans[world.key].caps_a) <= 10.0
    finally:
        await planner.stop()

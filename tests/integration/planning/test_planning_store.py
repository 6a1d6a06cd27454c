"""Planning's tables on SQLite and PostgreSQL: schedules, tariffs, need defaults, session
needs (in the unit of work, beside the audit log) and the price cache (upserts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.store.charging_tables import TransactionRow
from amphub.adapters.store.database import session_factory
from amphub.adapters.store.planning import SqlPlanningUnitOfWork, SqlPriceStore
from amphub.application.planning.ports import StoredTariff
from amphub.domain.planning.needs import NeedDefault, SessionNeed
from amphub.domain.planning.schedule import Schedule, WeeklyWindow
from amphub.domain.planning.tariffs import PricePoint, SiteTariff, TariffWindow
from amphub.domain.tenancy import ChargePointSpec, ConnectorSpec, SiteSpec

T0 = datetime(2024, 10, 26, 22, 0, tzinfo=UTC)


async def seed(engine: AsyncEngine) -> tuple[int, int, int, int]:
    """(team id, site id, charge point id, transaction id)."""
    async with SqlPlanningUnitOfWork(session_factory(engine)) as uow:
        operator = await uow.operators.add("Op", T0)
        team = await uow.teams.add(operator.id, "T", T0)
        site = await uow.sites.add(team.id, SiteSpec("S", "DK", "DK2", "Europe/Copenhagen"), T0)
        charge_point = await uow.charge_points.add(
            site.id, ChargePointSpec("CP-1", "SER-1", (ConnectorSpec(1),)), T0
        )
        row = TransactionRow(
            charge_point_id=charge_point.id, connector_id=1, ocpp_version="1.6",
            transaction_ref="1", id_tag="TAG", started_at=T0, created_at=T0, updated_at=T0,
        )  # fmt: skip
        uow.session.add(row)
        await uow.session.flush()
        await uow.commit()
        return team.id, site.id, charge_point.id, row.id


async def test_configuration_round_trips(engine: AsyncEngine) -> None:
    team_id, site_id, cp_id, transaction_id = await seed(engine)
    sessions = session_factory(engine)
    schedule = Schedule(
        cp_id, (WeeklyWindow(0, 22 * 60, 1440, 16.0), WeeklyWindow(1, 0, 360, 10.0, 1))
    )
    tariff = StoredTariff(
        site_id, "energi_data_service",
        SiteTariff("Europe/Copenhagen", "DKK", 7.46, 25.0, 0.761,
                   (TariffWindow(1020, 1260, 1.35, (0, 1, 2, 3, 4)),)),
    )  # fmt: skip
    need = SessionNeed(T0 + timedelta(hours=9), 20_000.0)
    async with SqlPlanningUnitOfWork(sessions) as uow:
        await uow.planning.put_schedule(schedule, T0)
        await uow.planning.put_tariff(tariff, T0)
        await uow.planning.put_charge_point_default(cp_id, NeedDefault(420, 15_000.0), T0)
        await uow.planning.put_token_default(team_id, "TAG", NeedDefault(450, 30_000.0), T0)
        await uow.planning.put_session_need(transaction_id, need, T0)
        await uow.commit()
    async with SqlPlanningUnitOfWork(sessions) as uow:
        assert await uow.planning.schedule(cp_id) == schedule
        assert await uow.planning.schedules() == [schedule]
        assert await uow.planning.tariff(site_id) == tariff
        assert await uow.planning.tariffs() == [tariff]
        assert await uow.planning.charge_point_default(cp_id) == NeedDefault(420, 15_000.0)
        assert await uow.planning.token_defaults(team_id) == {"TAG": NeedDefault(450, 30_000.0)}
        assert await uow.planning.session_need(transaction_id) == need


async def test_replacing_and_removing(engine: AsyncEngine) -> None:
    team_id, site_id, cp_id, transaction_id = await seed(engine)
    sessions = session_factory(engine)
    async with SqlPlanningUnitOfWork(sessions) as uow:
        await uow.planning.put_schedule(Schedule(cp_id, (WeeklyWindow(0, 0, 60, 6.0),)), T0)
        await uow.planning.put_session_need(transaction_id, SessionNeed(T0, 1000.0), T0)
        await uow.planning.put_token_default(team_id, "TAG", NeedDefault(450, 30_000.0), T0)
        await uow.commit()
    replaced = Schedule(cp_id, (WeeklyWindow(2, 0, 60, 8.0),), enabled=False)
    async with SqlPlanningUnitOfWork(sessions) as uow:
        await uow.planning.put_schedule(replaced, T0)
        await uow.planning.put_session_need(transaction_id, SessionNeed(None, None, True), T0)
        await uow.planning.put_token_default(team_id, "TAG", None, T0)
        await uow.commit()
    async with SqlPlanningUnitOfWork(sessions) as uow:
        assert await uow.planning.schedule(cp_id) == replaced
        assert await uow.planning.session_need(transaction_id) == SessionNeed(None, None, True)
        assert await uow.planning.token_defaults(team_id) == {}
        assert await uow.planning.delete_schedule(cp_id)
        assert not await uow.planning.delete_schedule(cp_id)
        await uow.commit()
    async with SqlPlanningUnitOfWork(sessions) as uow:
        assert await uow.planning.schedule(cp_id) is None
        assert await uow.planning.tariff(site_id) is None


async def test_price_cache_upserts_and_reads_a_window(engine: AsyncEngine) -> None:
    store = SqlPriceStore(session_factory(engine))
    hourly = [
        PricePoint("DK2", T0 + timedelta(hours=h), T0 + timedelta(hours=h + 1), 10.0 * h - 5)
        for h in range(25)
    ]
    await store.put_prices(hourly, "energi_data_service", T0)
    corrected = [PricePoint("DK2", T0, T0 + timedelta(hours=1), -3.81)]
    await store.put_prices(corrected, "entsoe", T0 + timedelta(hours=1))
    await store.put_prices([PricePoint("DK1", T0, T0 + timedelta(hours=1), 99.0)], "csv", T0)
    got = await store.prices("DK2", T0, T0 + timedelta(hours=3))
    assert got == [corrected[0], hourly[1], hourly[2]]
    assert all(p.start.tzinfo is not None for p in got)
    assert len(await store.prices("DK2", T0, T0 + timedelta(days=2))) == 25

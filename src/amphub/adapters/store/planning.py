"""SQL repositories of adaptive charging: configuration (in the unit of work, beside the
audit log) and the price cache (its own short transactions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.planning_tables import (
    ChargePointNeedDefaultRow,
    PriceRow,
    ScheduleRow,
    SessionNeedRow,
    SiteTariffRow,
    TokenNeedDefaultRow,
)
from amphub.adapters.store.tables import SiteRow
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.planning.ports import PlanningRepository, StoredTariff
from amphub.domain.planning.needs import NeedDefault, SessionNeed
from amphub.domain.planning.schedule import Schedule, WeeklyWindow
from amphub.domain.planning.tariffs import PricePoint, SiteTariff, TariffWindow


def _window(raw: dict[str, Any]) -> WeeklyWindow:
    return WeeklyWindow(
        raw["weekday"], raw["start_minute"], raw["end_minute"], raw["max_a"], raw["connector_id"]
    )


def _window_row(window: WeeklyWindow) -> dict[str, Any]:
    return {
        "weekday": window.weekday,
        "start_minute": window.start_minute,
        "end_minute": window.end_minute,
        "max_a": window.max_a,
        "connector_id": window.connector_id,
    }


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(row.charge_point_id, tuple(_window(w) for w in row.windows), row.enabled)


def _tariff(row: SiteTariffRow, time_zone: str) -> StoredTariff:
    return StoredTariff(
        site_id=row.site_id,
        price_source=row.price_source,
        tariff=SiteTariff(
            time_zone=time_zone,
            currency=row.currency,
            eur_rate=row.eur_rate,
            vat_percent=row.vat_percent,
            fixed_per_kwh=row.fixed_per_kwh,
            grid_windows=tuple(
                TariffWindow(w["start_minute"], w["end_minute"], w["per_kwh"], tuple(w["weekdays"]))
                for w in row.grid_windows
            ),
        ),
    )


class SqlPlanningRepository:
    """Implements :class:`amphub.application.planning.ports.PlanningRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- schedules ------------------------------------------------------------------------

    async def schedule(self, charge_point_id: int) -> Schedule | None:
        row = await self._session.get(ScheduleRow, charge_point_id)
        return None if row is None else _schedule(row)

    async def put_schedule(self, schedule: Schedule, at: datetime) -> None:
        row = await self._session.get(ScheduleRow, schedule.charge_point_id)
        windows = [_window_row(w) for w in schedule.windows]
        if row is None:
            self._session.add(
                ScheduleRow(
                    charge_point_id=schedule.charge_point_id,
                    enabled=schedule.enabled,
                    windows=windows,
                    updated_at=at,
                )
            )
        else:
            row.enabled, row.windows, row.updated_at = schedule.enabled, windows, at
        await self._session.flush()

    async def delete_schedule(self, charge_point_id: int) -> bool:
        result = await self._session.execute(
            delete(ScheduleRow).where(ScheduleRow.charge_point_id == charge_point_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def schedules(self) -> list[Schedule]:
        rows = await self._session.scalars(select(ScheduleRow))
        return [_schedule(row) for row in rows]

    # -- tariffs --------------------------------------------------------------------------

    async def tariff(self, site_id: int) -> StoredTariff | None:
        found = (
            await self._session.execute(
                select(SiteTariffRow, SiteRow.time_zone)
                .join(SiteRow, SiteRow.id == SiteTariffRow.site_id)
                .where(SiteTariffRow.site_id == site_id)
            )
        ).first()
        return None if found is None else _tariff(found[0], found[1])

    async def put_tariff(self, stored: StoredTariff, at: datetime) -> None:
        tariff = stored.tariff
        values = {
            "price_source": stored.price_source,
            "currency": tariff.currency,
            "eur_rate": tariff.eur_rate,
            "vat_percent": tariff.vat_percent,
            "fixed_per_kwh": tariff.fixed_per_kwh,
            "grid_windows": [
                {
                    "start_minute": w.start_minute,
                    "end_minute": w.end_minute,
                    "per_kwh": w.per_kwh,
                    "weekdays": list(w.weekdays),
                }
                for w in tariff.grid_windows
            ],
            "updated_at": at,
        }
        row = await self._session.get(SiteTariffRow, stored.site_id)
        if row is None:
            self._session.add(SiteTariffRow(site_id=stored.site_id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        await self._session.flush()

    async def tariffs(self) -> list[StoredTariff]:
        rows = await self._session.execute(
            select(SiteTariffRow, SiteRow.time_zone).join(
                SiteRow, SiteRow.id == SiteTariffRow.site_id
            )
        )
        return [_tariff(row, time_zone) for row, time_zone in rows]

    # -- need defaults --------------------------------------------------------------------

    async def charge_point_default(self, charge_point_id: int) -> NeedDefault | None:
        row = await self._session.get(ChargePointNeedDefaultRow, charge_point_id)
        return None if row is None else NeedDefault(row.departure_minute, row.energy_wh)

    async def put_charge_point_default(
        self, charge_point_id: int, default: NeedDefault | None, at: datetime
    ) -> None:
        await self._session.execute(
            delete(ChargePointNeedDefaultRow).where(
                ChargePointNeedDefaultRow.charge_point_id == charge_point_id
            )
        )
        if default is not None:
            self._session.add(
                ChargePointNeedDefaultRow(
                    charge_point_id=charge_point_id,
                    departure_minute=default.departure_minute,
                    energy_wh=default.energy_wh,
                    updated_at=at,
                )
            )
        await self._session.flush()

    async def token_defaults(self, team_id: int) -> dict[str, NeedDefault]:
        rows = await self._session.scalars(
            select(TokenNeedDefaultRow).where(TokenNeedDefaultRow.team_id == team_id)
        )
        return {row.id_tag: NeedDefault(row.departure_minute, row.energy_wh) for row in rows}

    async def put_token_default(
        self, team_id: int, id_tag: str, default: NeedDefault | None, at: datetime
    ) -> None:
        await self._session.execute(
            delete(TokenNeedDefaultRow).where(
                TokenNeedDefaultRow.team_id == team_id, TokenNeedDefaultRow.id_tag == id_tag
            )
        )
        if default is not None:
            self._session.add(
                TokenNeedDefaultRow(
                    team_id=team_id,
                    id_tag=id_tag,
                    departure_minute=default.departure_minute,
                    energy_wh=default.energy_wh,
                    updated_at=at,
                )
            )
        await self._session.flush()

    # -- session needs --------------------------------------------------------------------

    async def session_need(self, transaction_id: int) -> SessionNeed | None:
        row = await self._session.get(SessionNeedRow, transaction_id)
        if row is None:
            return None
        return SessionNeed(row.departure_at, row.energy_wh, row.charge_now)

    async def put_session_need(self, transaction_id: int, need: SessionNeed, at: datetime) -> None:
        await self._session.execute(
            delete(SessionNeedRow).where(SessionNeedRow.transaction_id == transaction_id)
        )
        self._session.add(
            SessionNeedRow(
                transaction_id=transaction_id,
                departure_at=need.departure,
                energy_wh=need.energy_wh,
                charge_now=need.charge_now,
                set_at=at,
            )
        )
        await self._session.flush()


class SqlPlanningUnitOfWork(SqlUnitOfWork):
    """The foundation's unit of work with ``planning`` on it (implements
    :class:`amphub.application.planning.ports.PlanningUnitOfWork`)."""

    planning: PlanningRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.planning = SqlPlanningRepository(self.session)
        return self


class SqlPriceStore:
    """Implements :class:`amphub.application.planning.ports.PriceStore`: an upsert per
    (zone, start), so a corrected publication replaces the first one."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put_prices(self, points: Sequence[PricePoint], source: str, at: datetime) -> None:
        if not points:
            return
        rows = [
            {"zone": p.zone, "start_at": p.start, "end_at": p.end,
             "eur_per_mwh": p.eur_per_mwh, "source": source, "fetched_at": at}
            for p in points
        ]  # fmt: skip
        async with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            for chunk in range(0, len(rows), 1000):
                statement = insert(PriceRow).values(rows[chunk : chunk + 1000])
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["zone", "start_at"],
                        set_={
                            "end_at": statement.excluded.end_at,
                            "eur_per_mwh": statement.excluded.eur_per_mwh,
                            "source": statement.excluded.source,
                            "fetched_at": statement.excluded.fetched_at,
                        },
                    )
                )

    async def prices(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PriceRow)
                .where(PriceRow.zone == zone, PriceRow.start_at >= start, PriceRow.start_at < end)
                .order_by(PriceRow.start_at)
            )
            return [PricePoint(r.zone, r.start_at, r.end_at, r.eur_per_mwh) for r in rows]

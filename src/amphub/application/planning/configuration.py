"""Adaptive charging's configuration and session needs, authorised and audited.

Who may do what: changing schedules, site tariffs and need defaults is configuring charge
points (``Action.CONFIGURE_CHARGE_POINTS``); setting a running session's departure and
energy, or "charge now", is operating them (``Action.OPERATE_CHARGE_POINTS``); reading takes
``Action.VIEW``. An object the actor cannot see does not exist (404). Every change goes into
the audit log in its own transaction, and listeners are told after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from amphub.application.access import Actor, require
from amphub.application.audit import record_change
from amphub.application.planning.ports import PlanningUnitOfWork, StoredTariff
from amphub.application.ports import Clock
from amphub.domain.errors import Conflict, InvalidValue, NotFound
from amphub.domain.planning.needs import NeedDefault, SessionNeed
from amphub.domain.planning.schedule import Schedule, WeeklyWindow, validate_windows
from amphub.domain.planning.tariffs import SiteTariff, TariffWindow
from amphub.domain.roles import Action, Scope
from amphub.domain.tenancy import ChargePoint

PRICE_SOURCES = ("none", "energi_data_service", "entsoe", "nordpool", "csv")


class PlanningListener(Protocol):
    """What the caps sources want to hear about, after the commit."""

    def schedule_changed(
        self, charge_point_id: int, schedule: Schedule | None, time_zone: str
    ) -> None: ...
    def needs_changed(self, charge_point_id: int) -> None: ...
    def tariff_changed(self, site_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class TariffSpec:
    """A site's tariff as people enter it (the time zone comes from the site)."""

    price_source: str
    currency: str = "EUR"
    eur_rate: float = 1.0
    vat_percent: float = 0.0
    fixed_per_kwh: float = 0.0
    grid_windows: tuple[TariffWindow, ...] = ()


ActiveTransaction = Callable[[int, int], int | None]
"""(charge point id, connector id) → the transaction running there, if any."""


def _windows(schedule: Schedule | None) -> dict[str, Any] | None:
    if schedule is None:
        return None
    return {
        "enabled": schedule.enabled,
        "windows": [
            [w.weekday, w.start_minute, w.end_minute, w.max_a, w.connector_id]
            for w in schedule.windows
        ],
    }


def _default(default: NeedDefault | None) -> dict[str, Any] | None:
    if default is None:
        return None
    return {"departure_minute": default.departure_minute, "energy_wh": default.energy_wh}


class PlanningConfiguration:
    def __init__(
        self,
        uow_factory: Callable[[], PlanningUnitOfWork],
        clock: Clock,
        active_transaction: ActiveTransaction,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._active = active_transaction
        self._listeners: list[PlanningListener] = []

    def add_listener(self, listener: PlanningListener) -> None:
        self._listeners.append(listener)

    async def _charge_point(
        self, uow: PlanningUnitOfWork, actor: Actor, charge_point_id: int, action: Action
    ) -> tuple[ChargePoint, Scope]:
        charge_point = await uow.charge_points.get(charge_point_id)
        if charge_point is None:
            raise NotFound("charge point", charge_point_id)
        scope = Scope(charge_point.operator_id, charge_point.team_id)
        require(actor, action, scope, "charge point", charge_point_id)
        return charge_point, scope

    # -- schedules ------------------------------------------------------------------------

    async def schedule(self, actor: Actor, charge_point_id: int) -> Schedule | None:
        async with self._uow() as uow:
            await self._charge_point(uow, actor, charge_point_id, Action.VIEW)
            return await uow.planning.schedule(charge_point_id)

    async def set_schedule(
        self,
        actor: Actor,
        charge_point_id: int,
        windows: Sequence[WeeklyWindow],
        enabled: bool = True,
    ) -> Schedule:
        async with self._uow() as uow:
            charge_point, scope = await self._charge_point(
                uow, actor, charge_point_id, Action.CONFIGURE_CHARGE_POINTS
            )
            validate_windows(windows, [c.connector_id for c in charge_point.spec.connectors])
            site = await uow.sites.get(charge_point.site_id)
            assert site is not None, "a charge point always has its site"
            schedule = Schedule(charge_point_id, tuple(windows), enabled)
            old = await uow.planning.schedule(charge_point_id)
            now = self._clock.now()
            await uow.planning.put_schedule(schedule, now)
            await record_change(
                uow, now, actor, scope=scope, action="schedule.set", object_type="charge_point",
                object_id=charge_point_id, old=_windows(old), new=_windows(schedule),
            )  # fmt: skip
            await uow.commit()
        for listener in self._listeners:
            listener.schedule_changed(charge_point_id, schedule, site.spec.time_zone)
        return schedule

    async def delete_schedule(self, actor: Actor, charge_point_id: int) -> None:
        async with self._uow() as uow:
            _, scope = await self._charge_point(
                uow, actor, charge_point_id, Action.CONFIGURE_CHARGE_POINTS
            )
            old = await uow.planning.schedule(charge_point_id)
            if old is None:
                raise NotFound("schedule", charge_point_id)
            await uow.planning.delete_schedule(charge_point_id)
            now = self._clock.now()
            await record_change(
                uow, now, actor, scope=scope, action="schedule.delete",
                object_type="charge_point", object_id=charge_point_id, old=_windows(old), new=None,
            )  # fmt: skip
            await uow.commit()
        for listener in self._listeners:
            listener.schedule_changed(charge_point_id, None, "UTC")

    # -- tariffs --------------------------------------------------------------------------

    async def tariff(self, actor: Actor, site_id: int) -> StoredTariff | None:
        async with self._uow() as uow:
            site = await uow.sites.get(site_id)
            if site is None:
                raise NotFound("site", site_id)
            require(actor, Action.VIEW, Scope(site.operator_id, site.team_id), "site", site_id)
            return await uow.planning.tariff(site_id)

    async def set_tariff(self, actor: Actor, site_id: int, spec: TariffSpec) -> StoredTariff:
        if spec.price_source not in PRICE_SOURCES:
            raise InvalidValue("price_source", f"one of {', '.join(PRICE_SOURCES)}")
        async with self._uow() as uow:
            site = await uow.sites.get(site_id)
            if site is None:
                raise NotFound("site", site_id)
            scope = Scope(site.operator_id, site.team_id)
            require(actor, Action.CONFIGURE_CHARGE_POINTS, scope, "site", site_id)
            stored = StoredTariff(
                site_id, spec.price_source,
                SiteTariff(
                    site.spec.time_zone, spec.currency.upper(), spec.eur_rate, spec.vat_percent,
                    spec.fixed_per_kwh, spec.grid_windows,
                ),
            )  # fmt: skip
            old = await uow.planning.tariff(site_id)
            now = self._clock.now()
            await uow.planning.put_tariff(stored, now)
            await record_change(
                uow, now, actor, scope=scope, action="tariff.set", object_type="site",
                object_id=site_id, old=None if old is None else _tariff(old),
                new=_tariff(stored),
            )  # fmt: skip
            await uow.commit()
        for listener in self._listeners:
            listener.tariff_changed(site_id)
        return stored

    # -- need defaults --------------------------------------------------------------------

    async def charge_point_default(self, actor: Actor, charge_point_id: int) -> NeedDefault | None:
        async with self._uow() as uow:
            await self._charge_point(uow, actor, charge_point_id, Action.VIEW)
            return await uow.planning.charge_point_default(charge_point_id)

    async def set_charge_point_default(
        self, actor: Actor, charge_point_id: int, default: NeedDefault | None
    ) -> None:
        async with self._uow() as uow:
            _, scope = await self._charge_point(
                uow, actor, charge_point_id, Action.CONFIGURE_CHARGE_POINTS
            )
            old = await uow.planning.charge_point_default(charge_point_id)
            now = self._clock.now()
            await uow.planning.put_charge_point_default(charge_point_id, default, now)
            await record_change(
                uow, now, actor, scope=scope, action="need_default.set",
                object_type="charge_point", object_id=charge_point_id,
                old=_default(old), new=_default(default),
            )  # fmt: skip
            await uow.commit()
        for listener in self._listeners:
            listener.needs_changed(charge_point_id)

    async def token_defaults(self, actor: Actor, team_id: int) -> dict[str, NeedDefault]:
        async with self._uow() as uow:
            await self._team_scope(uow, actor, team_id, Action.VIEW)
            return await uow.planning.token_defaults(team_id)

    async def set_token_default(
        self, actor: Actor, team_id: int, id_tag: str, default: NeedDefault | None
    ) -> None:
        tag = id_tag.strip().upper()
        async with self._uow() as uow:
            scope = await self._team_scope(uow, actor, team_id, Action.CONFIGURE_CHARGE_POINTS)
            if not 1 <= len(tag) <= 36:
                raise InvalidValue("id_tag", "1 to 36 characters")
            old = (await uow.planning.token_defaults(team_id)).get(tag)
            if default is None and old is None:
                raise NotFound("id tag default", tag)
            now = self._clock.now()
            await uow.planning.put_token_default(team_id, tag, default, now)
            await record_change(
                uow, now, actor, scope=scope, action="need_default.set", object_type="id_tag",
                object_id=f"{team_id}/{tag}", old=_default(old), new=_default(default),
            )  # fmt: skip
            await uow.commit()

    async def _team_scope(
        self, uow: PlanningUnitOfWork, actor: Actor, team_id: int, action: Action
    ) -> Scope:
        team = await uow.teams.get(team_id)
        if team is None:
            raise NotFound("team", team_id)
        scope = Scope(team.operator_id, team.id)
        require(actor, action, scope, "team", team_id)
        return scope

    # -- session needs --------------------------------------------------------------------

    async def set_session_need(
        self, actor: Actor, charge_point_id: int, connector_id: int, need: SessionNeed
    ) -> int:
        """The need of the session running on the connector; returns its transaction id."""
        async with self._uow() as uow:
            charge_point, scope = await self._charge_point(
                uow, actor, charge_point_id, Action.OPERATE_CHARGE_POINTS
            )
            if connector_id not in {c.connector_id for c in charge_point.spec.connectors}:
                raise NotFound("connector", connector_id)
            transaction_id = self._active(charge_point_id, connector_id)
            if transaction_id is None:
                raise Conflict("connector_id", "no session is running on this connector")
            old = await uow.planning.session_need(transaction_id)
            now = self._clock.now()
            await uow.planning.put_session_need(transaction_id, need, now)
            await record_change(
                uow, now, actor, scope=scope, action="session_need.set",
                object_type="transaction", object_id=transaction_id,
                old=None if old is None else _need(old), new=_need(need),
            )  # fmt: skip
            await uow.commit()
        for listener in self._listeners:
            listener.needs_changed(charge_point_id)
        return transaction_id


def _need(need: SessionNeed) -> dict[str, Any]:
    return {
        "departure": None if need.departure is None else need.departure.isoformat(),
        "energy_wh": need.energy_wh,
        "charge_now": need.charge_now,
    }


def _tariff(stored: StoredTariff) -> dict[str, Any]:
    t = stored.tariff
    return {
        "price_source": stored.price_source, "currency": t.currency, "eur_rate": t.eur_rate,
        "vat_percent": t.vat_percent, "fixed_per_kwh": t.fixed_per_kwh,
        "grid_windows": [[w.start_minute, w.end_minute, w.per_kwh, list(w.weekdays)]
                         for w in t.grid_windows],
    }  # fmt: skip

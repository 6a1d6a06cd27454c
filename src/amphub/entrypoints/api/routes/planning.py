"""Adaptive charging: weekly schedules, site tariffs, need defaults, a session's need or
"charge now", and a session's plan (planned current per slot against price, for the chart)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from amphub.application.planning.configuration import TariffSpec
from amphub.application.planning.ports import StoredTariff
from amphub.domain.planning.needs import NeedDefault, SessionNeed
from amphub.domain.planning.plan import SessionPlan
from amphub.domain.planning.schedule import Schedule, WeeklyWindow
from amphub.domain.planning.tariffs import TariffWindow
from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.schemas import Strict

router = APIRouter(tags=["adaptive charging"])


class WindowModel(Strict):
    weekday: int = Field(ge=0, le=6, description="0 = Monday, site local time")
    start_minute: int = Field(ge=0, le=1439, description="minutes after local midnight")
    end_minute: int = Field(ge=1, le=1440, description="1440 = end of the day")
    max_a: float = Field(ge=0, le=80, description="allowed current per phase in the window")
    connector_id: int | None = Field(None, description="None: every connector")


class ScheduleIn(Strict):
    enabled: bool = True
    windows: list[WindowModel] = Field(max_length=336)


class ScheduleOut(ScheduleIn):
    charge_point_id: int

    @classmethod
    def of(cls, schedule: Schedule) -> ScheduleOut:
        return cls(
            charge_point_id=schedule.charge_point_id,
            enabled=schedule.enabled,
            windows=[
                WindowModel(
                    weekday=w.weekday, start_minute=w.start_minute, end_minute=w.end_minute,
                    max_a=w.max_a, connector_id=w.connector_id,
                )
                for w in schedule.windows
            ],
        )  # fmt: skip


class TariffWindowModel(Strict):
    start_minute: int = Field(ge=0, le=1439, description="local time, minutes after 00:00")
    end_minute: int = Field(ge=1, le=1440, description="1440 = end of the day")
    per_kwh: float = Field(description="grid tariff, before VAT")
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: list(range(7)), max_length=7, description="0 = Monday"
    )

    @field_validator("end_minute")
    @classmethod
    def _after_start(cls, end_minute: int, info: ValidationInfo) -> int:
        """Here rather than only in the domain, so that the error names the band's field
        (``grid_windows.<n>.end_minute``) and a form can show it beside that band."""
        start = info.data.get("start_minute")
        if start is not None and end_minute <= start:
            raise PydanticCustomError("value_error", "must come after the start")
        return end_minute

    @field_validator("weekdays")
    @classmethod
    def _some_day(cls, weekdays: list[int]) -> list[int]:
        if not weekdays:
            raise PydanticCustomError("value_error", "pick at least one day")
        return weekdays


class TariffIn(Strict):
    price_source: str = Field(
        description="energi_data_service, entsoe, nordpool, csv, or none (charge at once)"
    )
    currency: str = Field("EUR", min_length=3, max_length=3, description="ISO 4217, e.g. DKK")
    eur_rate: float = Field(1.0, gt=0, description="units of currency per EUR (spot is EUR)")
    vat_percent: float = Field(0.0, ge=0, le=100)
    fixed_per_kwh: float = Field(0.0, description="taxes and charges per kWh, before VAT")
    grid_windows: list[TariffWindowModel] = Field(default_factory=list, max_length=100)

    def to_spec(self) -> TariffSpec:
        return TariffSpec(
            self.price_source, self.currency, self.eur_rate, self.vat_percent,
            self.fixed_per_kwh,
            tuple(TariffWindow(w.start_minute, w.end_minute, w.per_kwh, tuple(w.weekdays))
                  for w in self.grid_windows),
        )  # fmt: skip


class TariffOut(TariffIn):
    site_id: int
    time_zone: str

    @classmethod
    def of(cls, stored: StoredTariff) -> TariffOut:
        t = stored.tariff
        return cls(
            site_id=stored.site_id, time_zone=t.time_zone, price_source=stored.price_source,
            currency=t.currency, eur_rate=t.eur_rate, vat_percent=t.vat_percent,
            fixed_per_kwh=t.fixed_per_kwh,
            grid_windows=[
                TariffWindowModel(start_minute=w.start_minute, end_minute=w.end_minute,
                                  per_kwh=w.per_kwh, weekdays=list(w.weekdays))
                for w in t.grid_windows
            ],
        )  # fmt: skip


class NeedDefaultModel(Strict):
    departure_minute: int = Field(ge=0, le=1439, description="local time, minutes after 00:00")
    energy_wh: float = Field(gt=0, le=200_000)

    def to_domain(self) -> NeedDefault:
        return NeedDefault(self.departure_minute, self.energy_wh)


class TokenNeedDefaultIn(NeedDefaultModel):
    id_tag: str = Field(min_length=1, max_length=36)


class SessionNeedIn(Strict):
    departure: datetime | None = Field(None, description="with a time zone")
    energy_wh: float | None = Field(None, gt=0, le=200_000)
    charge_now: bool = False


class SessionNeedOut(SessionNeedIn):
    transaction_id: int


class PlanSlot(BaseModel):
    start: datetime
    price_per_kwh: float | None
    planned_a: float
    cap_a: float


class SessionPlanOut(BaseModel):
    status: str
    message: str
    departure: datetime
    need_wh: float
    planned_wh: float
    cost: float
    slot_minutes: int
    slots: list[PlanSlot]

    @classmethod
    def of(cls, plan: SessionPlan) -> SessionPlanOut:
        grid = plan.grid
        return cls(
            status=plan.status.value, message=plan.message, departure=plan.session.departure,
            need_wh=plan.session.need_wh, planned_wh=plan.planned_kwh * 1000, cost=plan.cost,
            slot_minutes=grid.minutes,
            slots=[
                PlanSlot(start=grid.at(t), price_per_kwh=plan.prices_per_kwh[t],
                         planned_a=plan.currents_a[t], cap_a=plan.caps_a[t])
                for t in range(len(plan.currents_a))
            ],
        )  # fmt: skip


# -- schedules ----------------------------------------------------------------------------


@router.get("/charge-points/{charge_point_id}/schedule", response_model=ScheduleOut)
async def get_schedule(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> ScheduleOut:
    schedule = await container.adaptive.configuration.schedule(actor, charge_point_id)
    if schedule is None:
        return ScheduleOut(charge_point_id=charge_point_id, enabled=False, windows=[])
    return ScheduleOut.of(schedule)


@router.put("/charge-points/{charge_point_id}/schedule", response_model=ScheduleOut)
async def put_schedule(
    charge_point_id: int, body: ScheduleIn, actor: ActorDep, container: ContainerDep
) -> ScheduleOut:
    """Weekly windows in the site's local time; outside them the connectors get 0 A."""
    windows = [
        WeeklyWindow(w.weekday, w.start_minute, w.end_minute, w.max_a, w.connector_id)
        for w in body.windows
    ]
    schedule = await container.adaptive.configuration.set_schedule(
        actor, charge_point_id, windows, body.enabled
    )
    return ScheduleOut.of(schedule)


@router.delete("/charge-points/{charge_point_id}/schedule", status_code=204)
async def delete_schedule(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.adaptive.configuration.delete_schedule(actor, charge_point_id)
    return Response(status_code=204)


# -- tariffs ------------------------------------------------------------------------------


@router.get("/sites/{site_id}/tariff", response_model=TariffOut | None)
async def get_tariff(site_id: int, actor: ActorDep, container: ContainerDep) -> TariffOut | None:
    stored = await container.adaptive.configuration.tariff(actor, site_id)
    return None if stored is None else TariffOut.of(stored)


@router.put("/sites/{site_id}/tariff", response_model=TariffOut)
async def put_tariff(
    site_id: int, body: TariffIn, actor: ActorDep, container: ContainerDep
) -> TariffOut:
    """The site's price source, time-of-use grid tariff, fixed charges and VAT."""
    return TariffOut.of(
        await container.adaptive.configuration.set_tariff(actor, site_id, body.to_spec())
    )


# -- need defaults ------------------------------------------------------------------------


@router.get("/charge-points/{charge_point_id}/need-default", response_model=NeedDefaultModel | None)
async def get_need_default(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> NeedDefaultModel | None:
    found = await container.adaptive.configuration.charge_point_default(actor, charge_point_id)
    if found is None:
        return None
    return NeedDefaultModel(departure_minute=found.departure_minute, energy_wh=found.energy_wh)


@router.put("/charge-points/{charge_point_id}/need-default", status_code=204)
async def put_need_default(
    charge_point_id: int, body: NeedDefaultModel, actor: ActorDep, container: ContainerDep
) -> Response:
    """Sessions here without a need of their own get this one."""
    await container.adaptive.configuration.set_charge_point_default(
        actor, charge_point_id, body.to_domain()
    )
    return Response(status_code=204)


@router.delete("/charge-points/{charge_point_id}/need-default", status_code=204)
async def delete_need_default(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.adaptive.configuration.set_charge_point_default(actor, charge_point_id, None)
    return Response(status_code=204)


@router.get("/teams/{team_id}/token-need-defaults", response_model=list[TokenNeedDefaultIn])
async def list_token_defaults(
    team_id: int, actor: ActorDep, container: ContainerDep
) -> list[TokenNeedDefaultIn]:
    found = await container.adaptive.configuration.token_defaults(actor, team_id)
    return [
        TokenNeedDefaultIn(id_tag=tag, departure_minute=d.departure_minute, energy_wh=d.energy_wh)
        for tag, d in sorted(found.items())
    ]


@router.put("/teams/{team_id}/token-need-defaults", status_code=204)
async def put_token_default(
    team_id: int, body: TokenNeedDefaultIn, actor: ActorDep, container: ContainerDep
) -> Response:
    """A driver's default, by the id tag their sessions start with."""
    await container.adaptive.configuration.set_token_default(
        actor, team_id, body.id_tag, body.to_domain()
    )
    return Response(status_code=204)


@router.delete("/teams/{team_id}/token-need-defaults", status_code=204)
async def delete_token_default(
    team_id: int,
    actor: ActorDep,
    container: ContainerDep,
    id_tag: Annotated[str, Query(max_length=36)] = "",
) -> Response:
    await container.adaptive.configuration.set_token_default(actor, team_id, id_tag, None)
    return Response(status_code=204)


# -- sessions -----------------------------------------------------------------------------


@router.put(
    "/charge-points/{charge_point_id}/connectors/{connector_id}/need",
    response_model=SessionNeedOut,
)
async def put_session_need(
    charge_point_id: int,
    connector_id: int,
    body: SessionNeedIn,
    actor: ActorDep,
    container: ContainerDep,
) -> SessionNeedOut:
    """The running session's departure and energy, or charge now (409 without a session)."""
    need = SessionNeed(body.departure, body.energy_wh, body.charge_now)
    transaction_id = await container.adaptive.configuration.set_session_need(
        actor, charge_point_id, connector_id, need
    )
    return SessionNeedOut(transaction_id=transaction_id, **body.model_dump())


@router.get(
    "/charge-points/{charge_point_id}/connectors/{connector_id}/plan",
    response_model=SessionPlanOut | None,
)
async def get_session_plan(
    charge_point_id: int, connector_id: int, actor: ActorDep, container: ContainerDep
) -> SessionPlanOut | None:
    """The running session's plan: per slot, the price per kWh (all-in, None where unknown),
    the planned current and the cap the balancer gets. None when the session is not planned."""
    plan = await container.adaptive.planner.session_plan(actor, charge_point_id, connector_id)
    return None if plan is None else SessionPlanOut.of(plan)

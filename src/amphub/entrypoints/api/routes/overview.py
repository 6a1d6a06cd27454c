"""Listings narrowed to an operator or a team (the portal's operator/team switcher), charge
points with their connection status, and what the caller may do in a scope.

Narrowing works by looking through the caller's eyes at one operator or team only: the
listing is asked for with a read-only actor whose memberships cover just that scope — a
subset of what the caller may see, checked first (a foreign operator or team answers 404).
The narrowed actor is used for reading listings and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from amphub.application.access import Actor
from amphub.application.charging.queries import ChargePointStatus
from amphub.domain.errors import NotFound
from amphub.domain.roles import Action, Membership, Role, Scope, is_allowed
from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.routes.meters import MeterOut, meter_out
from amphub.entrypoints.api.schemas import AuditOut, ChargePointOut, SiteOut

router = APIRouter(tags=["overview"])

OperatorQuery = Annotated[
    int | None, Query(ge=1, description="only this operator's objects (the caller's view of it)")
]
TeamQuery = Annotated[int | None, Query(ge=1, description="only this team's objects")]


async def narrowed(
    actor: Actor, container: ContainerDep, operator_id: int | None, team_id: int | None
) -> Actor:
    """The caller as seen through the switcher: only ``team_id`` (or ``operator_id``)."""
    reader_id = actor.user_id or 0
    if team_id is not None:
        team = await container.tenancy.get_team(actor, team_id)
        if operator_id is not None and operator_id != team.operator_id:
            raise NotFound("team", team_id)
        only_team = Membership(reader_id, team.operator_id, team.id, Role.TEAM_MEMBER)
        return Actor(user_id=actor.user_id, name=actor.name, memberships=(only_team,))
    if operator_id is not None:
        await container.tenancy.get_operator(actor, operator_id)
        memberships = tuple(m for m in actor.memberships if m.operator_id == operator_id)
        if actor.is_system:
            memberships = (Membership(reader_id, operator_id, None, Role.OPERATOR_MANAGER),)
        return Actor(user_id=actor.user_id, name=actor.name, memberships=memberships)
    return actor


class PermissionsOut(BaseModel):
    operator_id: int
    team_id: int | None
    actions: list[Action] = Field(description="what the caller may do here (amphub.domain.roles)")


@router.get(
    "/operators/{operator_id}/permissions",
    response_model=PermissionsOut,
    summary="What I may do on an operator, or on one of its teams",
)
async def my_permissions(
    operator_id: int,
    actor: ActorDep,
    container: ContainerDep,
    team_id: Annotated[int | None, Query(ge=1, description="one of the operator's teams")] = None,
) -> PermissionsOut:
    """The portal shows or hides controls with this; the API checks every call anyway."""
    if team_id is None:
        await container.tenancy.get_operator(actor, operator_id)
    elif (await container.tenancy.get_team(actor, team_id)).operator_id != operator_id:
        raise NotFound("team", team_id)
    scope = Scope(operator_id, team_id)
    allowed = [
        action
        for action in Action
        if actor.is_system or is_allowed(actor.memberships, action, scope)
    ]
    return PermissionsOut(operator_id=operator_id, team_id=team_id, actions=allowed)


@router.get("/overview/sites", response_model=list[SiteOut])
async def sites(
    actor: ActorDep,
    container: ContainerDep,
    page: PageDep,
    operator_id: OperatorQuery = None,
    team_id: TeamQuery = None,
) -> list[SiteOut]:
    reader = await narrowed(actor, container, operator_id, team_id)
    return [SiteOut.of(site) for site in await container.tenancy.list_sites(reader, page)]


class ConnectorSummaryOut(BaseModel):
    connector_id: int
    status: str | None = Field(description="last StatusNotification, in amphub's vocabulary")


class ChargePointRowOut(ChargePointOut):
    connected: bool
    ocpp_version: str | None
    last_seen_at: datetime | None = Field(description="last message or heartbeat we know of")
    connector_status: list[ConnectorSummaryOut]


def _row(charge_point: ChargePointOut, status: ChargePointStatus | None) -> ChargePointRowOut:
    live = status.live if status else None
    stored = status.stored if status else None
    seen = [
        at
        for at in (
            live.last_seen_at if live else None,
            stored.last_heartbeat_at if stored else None,
            stored.last_connected_at if stored else None,
        )
        if at is not None
    ]
    return ChargePointRowOut(
        **charge_point.model_dump(),
        connected=bool(status and status.connected),
        ocpp_version=(live.ocpp_version if live else None)
        or (stored.ocpp_version if stored else None),
        last_seen_at=max(seen) if seen else None,
        connector_status=[
            ConnectorSummaryOut(
                connector_id=c.connector_id, status=None if c.status is None else c.status.value
            )
            for c in (live.connectors if live else ())
        ],
    )


@router.get("/overview/charge-points", response_model=list[ChargePointRowOut])
async def charge_points(
    actor: ActorDep,
    container: ContainerDep,
    page: PageDep,
    operator_id: OperatorQuery = None,
    team_id: TeamQuery = None,
    site_id: Annotated[int | None, Query(ge=1, description="only this site's")] = None,
    search: Annotated[str, Query(max_length=100, description="serial, identity or address")] = "",
) -> list[ChargePointRowOut]:
    """Charge points with their connection status (one page of them)."""
    reader = await narrowed(actor, container, operator_id, team_id)
    if site_id is not None:
        found = [
            candidate.charge_point
            for candidate in await container.groups.candidates(reader, site_id, search, page)
        ]
    else:
        found = await container.tenancy.list_charge_points(reader, search, page)
    statuses = await container.operations.statuses([cp.id for cp in found])
    return [_row(ChargePointOut.of(cp), statuses.get(cp.id)) for cp in found]


@router.get("/overview/meters", response_model=list[MeterOut])
async def meters(
    actor: ActorDep,
    container: ContainerDep,
    page: PageDep,
    operator_id: OperatorQuery = None,
    team_id: TeamQuery = None,
    site_id: Annotated[int | None, Query(ge=1, description="only this site's")] = None,
) -> list[MeterOut]:
    reader = await narrowed(actor, container, operator_id, team_id)
    found = await container.meters.list_meters(reader, site_id, page)
    return [meter_out(meter, container) for meter in found]


@router.get(
    "/overview/audit-log", response_model=list[AuditOut], summary="Audit log of an operator/team"
)
async def audit_log(
    actor: ActorDep,
    container: ContainerDep,
    page: PageDep,
    operator_id: OperatorQuery = None,
    team_id: TeamQuery = None,
) -> list[AuditOut]:
    """Newest first; page backwards with ``after_id`` = the smallest id of the last page."""
    reader = await narrowed(actor, container, operator_id, team_id)
    return [AuditOut.of(entry) for entry in await container.tenancy.audit_log(reader, page)]

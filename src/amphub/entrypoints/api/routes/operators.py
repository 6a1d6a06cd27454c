from __future__ import annotations

from fastapi import APIRouter, Response

from amphub.domain.roles import Membership
from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.schemas import (
    MembershipIn,
    MembershipOut,
    NameIn,
    OperatorOut,
    TeamOut,
)

router = APIRouter(tags=["operators"])


@router.get("/operators", response_model=list[OperatorOut])
async def list_operators(
    actor: ActorDep, container: ContainerDep, page: PageDep
) -> list[OperatorOut]:
    return [OperatorOut.of(o) for o in await container.tenancy.list_operators(actor, page)]


@router.post("/operators", response_model=OperatorOut, status_code=201)
async def create_operator(body: NameIn, actor: ActorDep, container: ContainerDep) -> OperatorOut:
    """Found an operator; the caller becomes its Operator Admin."""
    return OperatorOut.of(await container.tenancy.create_operator(actor, body.name))


@router.get("/operators/{operator_id}", response_model=OperatorOut)
async def get_operator(operator_id: int, actor: ActorDep, container: ContainerDep) -> OperatorOut:
    return OperatorOut.of(await container.tenancy.get_operator(actor, operator_id))


@router.patch("/operators/{operator_id}", response_model=OperatorOut)
async def rename_operator(
    operator_id: int, body: NameIn, actor: ActorDep, container: ContainerDep
) -> OperatorOut:
    return OperatorOut.of(await container.tenancy.rename_operator(actor, operator_id, body.name))


@router.get("/operators/{operator_id}/teams", response_model=list[TeamOut])
async def list_teams(
    operator_id: int, actor: ActorDep, container: ContainerDep, page: PageDep
) -> list[TeamOut]:
    return [TeamOut.of(t) for t in await container.tenancy.list_teams(actor, operator_id, page)]


@router.post("/operators/{operator_id}/teams", response_model=TeamOut, status_code=201)
async def create_team(
    operator_id: int, body: NameIn, actor: ActorDep, container: ContainerDep
) -> TeamOut:
    return TeamOut.of(await container.tenancy.create_team(actor, operator_id, body.name))


@router.get("/operators/{operator_id}/members", response_model=list[MembershipOut])
async def list_members(
    operator_id: int, actor: ActorDep, container: ContainerDep
) -> list[MembershipOut]:
    members = await container.tenancy.list_members(actor, operator_id)
    return [MembershipOut.of(membership, user) for membership, user in members]


@router.put("/operators/{operator_id}/members", status_code=204)
async def grant_membership(
    operator_id: int, body: MembershipIn, actor: ActorDep, container: ContainerDep
) -> Response:
    """Grant a role (replacing the user's role at that level, if any)."""
    await container.tenancy.add_member(
        actor,
        Membership(
            user_id=body.user_id,
            operator_id=operator_id,
            team_id=body.team_id,
            role=body.role,
            can_configure_charge_points=body.can_configure_charge_points,
        ),
    )
    return Response(status_code=204)


@router.delete("/operators/{operator_id}/members/{user_id}", status_code=204)
async def revoke_membership(
    operator_id: int,
    user_id: int,
    actor: ActorDep,
    container: ContainerDep,
    team_id: int | None = None,
) -> Response:
    await container.tenancy.remove_member(actor, user_id, operator_id, team_id)
    return Response(status_code=204)

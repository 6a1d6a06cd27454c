from __future__ import annotations

from fastapi import APIRouter, Response

from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.schemas import NameIn, SiteIn, SiteOut, TeamOut

router = APIRouter(tags=["teams"])


@router.get("/teams/{team_id}", response_model=TeamOut)
async def get_team(team_id: int, actor: ActorDep, container: ContainerDep) -> TeamOut:
    return TeamOut.of(await container.tenancy.get_team(actor, team_id))


@router.patch("/teams/{team_id}", response_model=TeamOut)
async def rename_team(
    team_id: int, body: NameIn, actor: ActorDep, container: ContainerDep
) -> TeamOut:
    return TeamOut.of(await container.tenancy.rename_team(actor, team_id, body.name))


@router.delete("/teams/{team_id}", status_code=204)
async def delete_team(team_id: int, actor: ActorDep, container: ContainerDep) -> Response:
    await container.tenancy.delete_team(actor, team_id)
    return Response(status_code=204)


@router.post("/teams/{team_id}/sites", response_model=SiteOut, status_code=201)
async def create_site(
    team_id: int, body: SiteIn, actor: ActorDep, container: ContainerDep
) -> SiteOut:
    return SiteOut.of(await container.tenancy.create_site(actor, team_id, body.to_domain()))

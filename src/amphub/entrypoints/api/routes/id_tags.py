"""A team's id-tag allow list (OCPP Authorize)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from amphub.domain.charging import IdTagEntry
from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.schemas import Strict

router = APIRouter(tags=["id tags"])


class IdTagIn(Strict):
    blocked: bool = False
    expires_at: datetime | None = None
    label: str = Field("", max_length=100, description="whose card, e.g. 'Anna, flat 3B'")


class IdTagOut(BaseModel):
    team_id: int
    id_tag: str
    blocked: bool
    expires_at: datetime | None
    label: str

    @classmethod
    def of(cls, entry: IdTagEntry) -> IdTagOut:
        return cls(
            team_id=entry.team_id,
            id_tag=entry.id_tag,
            blocked=entry.blocked,
            expires_at=entry.expires_at,
            label=entry.label,
        )


@router.get("/teams/{team_id}/id-tags", response_model=list[IdTagOut])
async def list_id_tags(team_id: int, actor: ActorDep, container: ContainerDep) -> list[IdTagOut]:
    return [IdTagOut.of(e) for e in await container.id_tags.list_tags(actor, team_id)]


@router.put("/teams/{team_id}/id-tags/{id_tag}", response_model=IdTagOut)
async def put_id_tag(
    team_id: int, id_tag: str, body: IdTagIn, actor: ActorDep, container: ContainerDep
) -> IdTagOut:
    """Allow (or block) an id tag at the team's charge points; tags are case-insensitive."""
    entry = await container.id_tags.put(
        actor, team_id, id_tag, blocked=body.blocked, expires_at=body.expires_at, label=body.label
    )
    return IdTagOut.of(entry)


@router.delete("/teams/{team_id}/id-tags/{id_tag}", status_code=204)
async def remove_id_tag(
    team_id: int, id_tag: str, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.id_tags.remove(actor, team_id, id_tag)
    return Response(status_code=204)

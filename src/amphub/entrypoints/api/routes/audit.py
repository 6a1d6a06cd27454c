from __future__ import annotations

from fastapi import APIRouter

from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.schemas import AuditOut

router = APIRouter(tags=["audit"])


@router.get(
    "/audit-log", response_model=list[AuditOut], summary="Configuration changes, newest first"
)
async def audit_log(actor: ActorDep, container: ContainerDep, page: PageDep) -> list[AuditOut]:
    """Page backwards with ``after_id`` = the smallest id of the previous page."""
    return [AuditOut.of(entry) for entry in await container.tenancy.audit_log(actor, page)]

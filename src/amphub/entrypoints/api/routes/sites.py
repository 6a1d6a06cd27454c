from __future__ import annotations

from fastapi import APIRouter, Response

from amphub.application.charging.credentials import generate_charge_point_password
from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.schemas import (
    ChargePointCreatedOut,
    ChargePointIn,
    ChargePointOut,
    SiteIn,
    SiteOut,
)

router = APIRouter(tags=["sites"])


@router.get("/sites", response_model=list[SiteOut])
async def list_sites(actor: ActorDep, container: ContainerDep, page: PageDep) -> list[SiteOut]:
    return [SiteOut.of(s) for s in await container.tenancy.list_sites(actor, page)]


@router.get("/sites/{site_id}", response_model=SiteOut)
async def get_site(site_id: int, actor: ActorDep, container: ContainerDep) -> SiteOut:
    return SiteOut.of(await container.tenancy.get_site(actor, site_id))


@router.put("/sites/{site_id}", response_model=SiteOut)
async def update_site(
    site_id: int, body: SiteIn, actor: ActorDep, container: ContainerDep
) -> SiteOut:
    return SiteOut.of(await container.tenancy.update_site(actor, site_id, body.to_domain()))


@router.delete("/sites/{site_id}", status_code=204)
async def delete_site(site_id: int, actor: ActorDep, container: ContainerDep) -> Response:
    await container.tenancy.delete_site(actor, site_id)
    return Response(status_code=204)


@router.post(
    "/sites/{site_id}/charge-points", response_model=ChargePointCreatedOut, status_code=201
)
async def create_charge_point(
    site_id: int, body: ChargePointIn, actor: ActorDep, container: ContainerDep
) -> ChargePointCreatedOut:
    """Register a charge point; its OCPP password is generated and shown once."""
    password = generate_charge_point_password()
    created = await container.tenancy.create_charge_point(
        actor, site_id, body.to_domain(), container.charge_point_passwords.hash(password)
    )
    return ChargePointCreatedOut(**ChargePointOut.of(created).model_dump(), ocpp_password=password)

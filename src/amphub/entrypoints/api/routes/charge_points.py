from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from amphub.application.charging.credentials import generate_charge_point_password
from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.schemas import (
    ChargePointOut,
    ChargePointPasswordOut,
    ChargePointUpdate,
)

router = APIRouter(tags=["charge points"])


@router.get("/charge-points", response_model=list[ChargePointOut])
async def list_charge_points(
    actor: ActorDep,
    container: ContainerDep,
    page: PageDep,
    search: Annotated[str, Query(max_length=100, description="serial, identity or address")] = "",
) -> list[ChargePointOut]:
    found = await container.tenancy.list_charge_points(actor, search, page)
    return [ChargePointOut.of(cp) for cp in found]


@router.get("/charge-points/{charge_point_id}", response_model=ChargePointOut)
async def get_charge_point(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> ChargePointOut:
    return ChargePointOut.of(await container.tenancy.get_charge_point(actor, charge_point_id))


@router.put("/charge-points/{charge_point_id}", response_model=ChargePointOut)
async def update_charge_point(
    charge_point_id: int, body: ChargePointUpdate, actor: ActorDep, container: ContainerDep
) -> ChargePointOut:
    updated = await container.tenancy.update_charge_point(
        actor, charge_point_id, body.to_domain(), site_id=body.site_id
    )
    return ChargePointOut.of(updated)


@router.delete("/charge-points/{charge_point_id}", status_code=204)
async def delete_charge_point(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> Response:
    await container.tenancy.delete_charge_point(actor, charge_point_id)
    return Response(status_code=204)


@router.post("/charge-points/{charge_point_id}/password", response_model=ChargePointPasswordOut)
async def new_password(
    charge_point_id: int, actor: ActorDep, container: ContainerDep
) -> ChargePointPasswordOut:
    """A new OCPP password, shown once. Give it to the charger (1.6: ChangeConfiguration
    AuthorizationKey; 2.0.1: SetVariables BasicAuthPassword) before it reconnects."""
    charge_point = await container.tenancy.get_charge_point(actor, charge_point_id)
    password = generate_charge_point_password()
    await container.tenancy.set_charge_point_password_hash(
        actor, charge_point_id, container.charge_point_passwords.hash(password)
    )
    return ChargePointPasswordOut(
        ocpp_identity=charge_point.spec.ocpp_identity, ocpp_password=password
    )

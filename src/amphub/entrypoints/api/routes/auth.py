from __future__ import annotations

from fastapi import APIRouter, Request

from amphub.entrypoints.api.deps import ActorDep, ContainerDep
from amphub.entrypoints.api.schemas import MeOut, TokenOut, TokenRequest

router = APIRouter(tags=["auth"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/token", response_model=TokenOut, summary="Log in and get an API token")
async def login(body: TokenRequest, request: Request, container: ContainerDep) -> TokenOut:
    """Failed attempts are rate-limited per account and per source address (429)."""
    token = await container.auth.login(
        body.email, body.password, client_address(request), body.label
    )
    return TokenOut(access_token=token)


@router.get("/me", response_model=MeOut, summary="Who am I, and my memberships")
async def me(actor: ActorDep) -> MeOut:
    return MeOut(
        user_id=actor.user_id,
        email=actor.name,
        memberships=[
            {
                "operator_id": m.operator_id,
                "team_id": m.team_id,
                "role": m.role.value,
                "can_configure_charge_points": m.can_configure_charge_points,
            }
            for m in actor.memberships
        ],
    )

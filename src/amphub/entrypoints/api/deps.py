"""Request dependencies: the container, the authenticated actor, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from amphub.application.access import Actor
from amphub.application.auth import InvalidCredentials
from amphub.application.uow import Page
from amphub.bootstrap import Container

_bearer = HTTPBearer(auto_error=False, description="An API token from POST /api/v1/auth/token")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_actor(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise InvalidCredentials("authentication required: send Authorization: Bearer <token>")
    return await container.auth.authenticate(credentials.credentials)


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_page(
    limit: Annotated[int, Query(ge=1, le=200, description="at most this many items")] = 50,
    after_id: Annotated[int, Query(ge=0, description="items with an id above this one")] = 0,
) -> Page:
    return Page(limit=limit, after_id=after_id)


PageDep = Annotated[Page, Depends(get_page)]

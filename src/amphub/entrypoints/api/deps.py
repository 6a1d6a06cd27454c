"""Request dependencies: the container, the authenticated actor, pagination.

Two ways to authenticate, one authorisation (docs/portal.md):

- machines send ``Authorization: Bearer <token>`` (a token from POST /api/v1/auth/token);
- people in the portal carry the same kind of token in the ``amphub_session`` cookie
  (HttpOnly, SameSite=Strict, Secure under TLS). A browser attaches that cookie by itself,
  so every unsafe method (POST, PUT, PATCH, DELETE) authenticated by it must also carry
  ``X-CSRF-Token``: an HMAC of the session token under the server's secret key. The page
  that the session loaded has it (in ``<meta name="csrf-token">``); another site's page
  cannot read it, and it is worthless without the cookie it is bound to.

A Bearer header wins over the cookie: a browser never adds one on its own, so such a request
cannot be forged across sites and needs no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from amphub.application.access import Actor
from amphub.application.auth import InvalidCredentials
from amphub.application.uow import Page
from amphub.bootstrap import Container
from amphub.domain.errors import NotFound

SESSION_COOKIE = "amphub_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An API token from POST /api/v1/auth/token")
_session = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=(
        "The portal's session (set by POST /login). Unsafe methods also need the header "
        f"{CSRF_HEADER} with the session's CSRF token."
    ),
)


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def csrf_token(container: Container, session_token: str) -> str:
    """The CSRF token bound to a session: derived, so nothing more is stored."""
    secret = container.settings.secret_key
    if secret is None:  # Settings refuse to start without one; this keeps the types honest.
        raise RuntimeError("no secret key configured")
    message = b"amphub-csrf\x00" + session_token.encode()
    return hmac.new(secret.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def csrf_matches(container: Container, session_token: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), csrf_token(container, session_token).encode())


async def get_actor(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_token: Annotated[str | None, Depends(_session)],
) -> Actor:
    if credentials is not None:
        return await container.auth.authenticate(credentials.credentials)
    if not session_token:
        raise InvalidCredentials("authentication required: send Authorization: Bearer <token>")
    actor = await container.auth.authenticate(session_token)
    if request.method not in SAFE_METHODS and not csrf_matches(
        container, session_token, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(
            status_code=403,
            detail=f"CSRF check failed: send the session's token in the {CSRF_HEADER} header",
        )
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


MAX_ID = 2**63 - 1
"""Ids are 64-bit integers in the store."""


def _out_of_range(value: str) -> bool:
    digits = value.removeprefix("-")
    return digits.isdigit() and (len(digits) > 19 or int(digits) > MAX_ID)


def ids_in_range(request: Request) -> None:
    """A number beyond the store's 64-bit ids names nothing: 404 in the path, 422 in the
    query — never a crash deeper down."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and _out_of_range(value):
            raise NotFound(name.removesuffix("_id").replace("_", " "), value)
    for name, value in request.query_params.items():
        if name.endswith("_id") and _out_of_range(value):
            raise HTTPException(
                status_code=422,
                detail=[{"loc": ["query", name], "msg": "out of range", "type": "value_error"}],
            )


def get_page(
    limit: Annotated[int, Query(ge=1, le=200, description="at most this many items")] = 50,
    after_id: Annotated[
        int, Query(ge=0, le=MAX_ID, description="items with an id above this one")
    ] = 0,
) -> Page:
    return Page(limit=limit, after_id=after_id)


PageDep = Annotated[Page, Depends(get_page)]

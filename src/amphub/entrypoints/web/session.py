"""Logging in and out of the portal, and rendering its pages with the session's CSRF token.

The session cookie carries an API token (HttpOnly, SameSite=Strict, Secure under TLS); the
pages' scripts call the REST API with it and send the CSRF token from the page's
``<meta name="csrf-token">`` on every unsafe method (see api/deps.py). The login form cannot
carry a session-bound token yet, so it refuses a cross-site ``Origin`` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from amphub.application.access import Actor
from amphub.application.auth import InvalidCredentials, TooManyAttempts
from amphub.bootstrap import Container
from amphub.entrypoints.api.deps import SESSION_COOKIE, ContainerDep, csrf_matches, csrf_token
from amphub.entrypoints.api.routes.auth import client_address

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

# Everything a page loads comes from amphub itself; nothing inline, no frames.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


async def session_actor(request: Request, container: Container) -> tuple[Actor, str] | None:
    """The person logged in and their session token, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await container.auth.authenticate(token), token
    except InvalidCredentials:
        return None


def _same_origin(request: Request) -> bool:
    """A browser names the page a form was posted from; refuse other sites' pages."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return render(request, "login.html", {"user": None})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    container: ContainerDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    if not _same_origin(request):
        return render(
            request, "login.html", {"user": None, "error": "cross-site login refused"}, 403
        )
    try:
        token = await container.auth.login(email, password, client_address(request), "portal")
    except (InvalidCredentials, TooManyAttempts) as error:
        status = 429 if isinstance(error, TooManyAttempts) else 401
        return render(
            request, "login.html", {"user": None, "error": str(error), "email": email}, status
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=container.settings.ssl_cert is not None,
        max_age=30 * 24 * 3600,
    )
    return response


@router.post("/logout")
async def logout(
    request: Request,
    container: ContainerDep,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Ends the session: its token is revoked, not only forgotten by this browser."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and not csrf_matches(container, token, csrf):
        return Response("CSRF check failed", status_code=403)
    if token:
        await container.auth.revoke_secret(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def page_context(actor: Actor, token: str, container: Container, **params: Any) -> dict[str, Any]:
    return {"user": actor.name, "csrf": csrf_token(container, token), "params": params}

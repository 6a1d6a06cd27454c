"""Login and the first pages. The session cookie carries an API token (HttpOnly,
SameSite=Strict); the full portal, with CSRF tokens on every form, builds on this."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from amphub.application.access import Actor
from amphub.application.auth import InvalidCredentials, TooManyAttempts
from amphub.application.uow import Page
from amphub.entrypoints.api.deps import ContainerDep
from amphub.entrypoints.api.routes.auth import client_address

SESSION_COOKIE = "amphub_session"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


async def _actor(request: Request, container: ContainerDep) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await container.auth.authenticate(token)
    except InvalidCredentials:
        return None


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"user": None})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    container: ContainerDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    try:
        token = await container.auth.login(email, password, client_address(request), "portal")
    except (InvalidCredentials, TooManyAttempts) as error:
        status = 429 if isinstance(error, TooManyAttempts) else 401
        return templates.TemplateResponse(
            request,
            "login.html",
            {"user": None, "error": str(error), "email": email},
            status_code=status,
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
async def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, container: ContainerDep) -> Response:
    actor = await _actor(request, container)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    sites = await container.tenancy.list_sites(actor, Page(limit=200))
    return templates.TemplateResponse(request, "home.html", {"user": actor.name, "sites": sites})

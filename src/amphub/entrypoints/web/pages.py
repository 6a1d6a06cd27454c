"""The portal's pages. Each is a shell: the layout, the forms and the page's script; the
script reads and changes everything through the REST API (docs/adr/0002-portal.md), so the
portal can do nothing the API does not allow, and every action it takes is in OpenAPI."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amphub.entrypoints.api.deps import ContainerDep
from amphub.entrypoints.web.session import page_context, render, session_actor

router = APIRouter(include_in_schema=False)


async def _page(
    request: Request, container: ContainerDep, template: str, title: str, **params: int
) -> Response:
    found = await session_actor(request, container)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    actor, token = found
    context = page_context(actor, token, container, **params)
    context["title"] = title
    context["page"] = template.removesuffix(".html")
    return render(request, template, context)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, container: ContainerDep) -> Response:
    if await session_actor(request, container) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/sites", status_code=303)


@router.get("/sites", response_class=HTMLResponse)
async def sites(request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "sites.html", "Charging sites")


@router.get("/sites/{site_id}", response_class=HTMLResponse)
async def site(site_id: int, request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "site.html", "Charging site", site_id=site_id)


@router.get("/sites/{site_id}/load-balancing", response_class=HTMLResponse)
async def load_balancing(site_id: int, request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "load_balancing.html", "Load Balancing", site_id=site_id)


@router.get("/groups/{group_id}", response_class=HTMLResponse)
async def group(group_id: int, request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "group.html", "Load balancing group", group_id=group_id)


@router.get("/teams/{team_id}", response_class=HTMLResponse)
async def team(team_id: int, request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "team.html", "Team", team_id=team_id)


@router.get("/meters", response_class=HTMLResponse)
async def meters(request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "meters.html", "Meters")


@router.get("/meters/{meter_id}", response_class=HTMLResponse)
async def meter(meter_id: int, request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "meter.html", "Meter", meter_id=meter_id)


@router.get("/charge-points", response_class=HTMLResponse)
async def charge_points(request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "charge_points.html", "Charge points")


@router.get("/charge-points/{charge_point_id}", response_class=HTMLResponse)
async def charge_point(charge_point_id: int, request: Request, container: ContainerDep) -> Response:
    return await _page(
        request,
        container,
        "charge_point.html",
        "Charge point",
        charge_point_id=charge_point_id,
    )


@router.get("/audit-log", response_class=HTMLResponse)
async def audit_log(request: Request, container: ContainerDep) -> Response:
    return await _page(request, container, "audit.html", "Audit log")

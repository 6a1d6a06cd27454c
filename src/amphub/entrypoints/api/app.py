"""The API application: routers under /api/v1, error handlers, body limits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from amphub import __version__
from amphub.entrypoints.api.deps import ids_in_range
from amphub.entrypoints.api.errors import install_error_handlers
from amphub.entrypoints.api.limits import BodySizeLimit
from amphub.entrypoints.api.meter_push import MeterPushFastPath
from amphub.entrypoints.api.routes import (
    audit,
    auth,
    charge_points,
    charging,
    groups,
    id_tags,
    meters,
    operators,
    overview,
    planning,
    powerbank,
    sites,
    teams,
)

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(ids_in_range)])
    for module in (
        auth,
        operators,
        teams,
        sites,
        charge_points,
        charging,
        id_tags,
        meters,
        groups,
        powerbank,
        planning,
        audit,
        overview,
    ):
        router.include_router(module.router)
    return router


def configure_api(app: FastAPI, *, max_body_bytes: int, meter_push_fast_path: bool = True) -> None:
    """``meter_push_fast_path=False`` leaves the meters' push to FastAPI's route (tests compare
    the two)."""
    app.include_router(api_router())
    install_error_handlers(app)
    if meter_push_fast_path:  # added first, so inside the body size limit
        app.add_middleware(MeterPushFastPath, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimit, max_body_bytes=max_body_bytes)


def new_app() -> FastAPI:
    return FastAPI(
        title="amphub",
        version=__version__,
        description="Charge point management: sites, charge points, meters, load balancing.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by the web app with vendored assets: no CDN at run time
        redoc_url=None,
    )

"""The HTTP application: REST API, portal pages and static assets, on one container."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from amphub.bootstrap import Container
from amphub.entrypoints.api.app import configure_api, new_app
from amphub.entrypoints.web import pages, session


def create_app(container: Container) -> FastAPI:
    app = new_app()
    app.state.container = container
    configure_api(app, max_body_bytes=container.settings.max_body_bytes)
    app.include_router(session.router)
    app.include_router(pages.router)
    app.mount(
        "/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static"
    )
    return app

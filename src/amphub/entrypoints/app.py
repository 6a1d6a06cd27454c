"""The HTTP application: REST API, portal pages and static assets, on one container."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from amphub.bootstrap import Container
from amphub.entrypoints.api.app import API_PREFIX, configure_api, new_app
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

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        """Swagger UI from amphub's own static files (vendored swagger-ui-dist)."""
        vendor = "/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="amphub API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
            # no validator badge: it would fetch an image from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    return app

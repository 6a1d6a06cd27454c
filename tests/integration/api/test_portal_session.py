"""The portal's session over a socket: the login page and cookie, the API read with the
cookie, CSRF on every unsafe method authenticated by it, logout that revokes, every page
behind the login, and every asset served by amphub itself."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amphub.entrypoints.api.deps import CSRF_HEADER, SESSION_COOKIE
from tests.integration.api.conftest import PASSWORD, Tenant, site_body
from tests.support.live import LiveServer

WEB = Path(__file__).parents[3] / "src" / "amphub" / "entrypoints" / "web"
META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


@contextlib.contextmanager
def portal_session(server: LiveServer, tenant: Tenant) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in browser (as far as cookies go) and the CSRF token its page carries."""
    with httpx.Client(base_url=server.base_url, follow_redirects=True, timeout=30) as browser:
        page = browser.post("/login", data={"email": tenant.email, "password": PASSWORD})
        assert page.status_code == 200, page.text
        match = META.search(page.text)
        assert match, "the page carries the session's CSRF token"
        yield browser, match.group(1)


def test_login_page_and_session(
    server: LiveServer, client: httpx.Client, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    assert "Log in" in client.get("/login").text
    with httpx.Client(base_url=server.base_url, follow_redirects=True) as browser:
        assert browser.get("/").url.path == "/login"
        page = browser.post("/login", data={"email": a.email, "password": PASSWORD})
        assert page.status_code == 200 and page.url.path == "/sites"
        cookie = browser.cookies[SESSION_COOKIE]
        assert cookie.startswith("amh_")
        header = next(
            value for name, value in page.history[0].headers.multi_items() if name == "set-cookie"
        )
        assert "HttpOnly" in header and "SameSite=strict" in header
        sites = browser.get("/api/v1/sites").json()
        assert [s["name"] for s in sites] == ["SiteA"]
        bad = browser.post("/login", data={"email": a.email, "password": "nope nope nope"})
        assert bad.status_code == 401 and "wrong e-mail or password" in bad.text


def test_cross_site_login_is_refused(server: LiveServer, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    with httpx.Client(base_url=server.base_url) as browser:
        response = browser.post(
            "/login",
            data={"email": a.email, "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403
        assert SESSION_COOKIE not in browser.cookies


def test_unsafe_methods_with_the_cookie_need_the_csrf_token(
    server: LiveServer, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    with portal_session(server, a) as (browser, csrf):
        url = f"/api/v1/teams/{a.team_id}/sites"
        before = browser.get("/api/v1/sites").json()
        for headers in ({}, {CSRF_HEADER: ""}, {CSRF_HEADER: "0" * 64}, {CSRF_HEADER: csrf[:-1]}):
            response = browser.post(url, json=site_body("Forged"), headers=headers)
            assert response.status_code == 403, response.text
            assert "CSRF" in response.json()["detail"]
        assert browser.get("/api/v1/sites").json() == before
        # A token of another session does not fit this one.
        with portal_session(server, a) as (_, other_csrf):
            pass
        assert other_csrf != csrf
        response = browser.post(url, json=site_body("Forged"), headers={CSRF_HEADER: other_csrf})
        assert response.status_code == 403
        response = browser.post(url, json=site_body("Portal site"), headers={CSRF_HEADER: csrf})
        assert response.status_code == 201, response.text
        # Reads need no token; a Bearer header needs none either (no browser adds it).
        assert browser.get("/api/v1/me").json()["email"] == a.email
    with httpx.Client(base_url=server.base_url) as machine:
        response = machine.post(url, json=site_body("Machine site"), headers=a.headers)
        assert response.status_code == 201


def test_logout_needs_the_token_and_revokes_the_session(
    server: LiveServer, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    with portal_session(server, a) as (browser, csrf):
        token = browser.cookies[SESSION_COOKIE]
        assert browser.post("/logout", data={"csrf": "forged"}).status_code == 403
        assert browser.get("/api/v1/me").status_code == 200
        out = browser.post("/logout", data={"csrf": csrf})
        assert out.url.path == "/login"
    with httpx.Client(base_url=server.base_url, cookies={SESSION_COOKIE: token}) as stale:
        assert stale.get("/api/v1/me").status_code == 401
        assert stale.get("/sites", follow_redirects=False).headers["location"] == "/login"


PAGES = [
    "/sites",
    "/sites/{site_id}",
    "/sites/{site_id}/load-balancing",
    "/groups/{group_id}",
    "/meters",
    "/meters/{meter_id}",
    "/charge-points",
    "/charge-points/{charge_point_id}",
    "/teams/{team_id}",
    "/audit-log",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_behind_the_login_and_sends_its_policy(
    server: LiveServer, tenants: tuple[Tenant, Tenant], path: str
) -> None:
    a, _ = tenants
    url = path.format(
        site_id=a.site_id,
        group_id=a.group_id,
        meter_id=a.meter_id,
        charge_point_id=a.charge_point_id,
        team_id=a.team_id,
    )
    with httpx.Client(base_url=server.base_url) as anonymous:
        response = anonymous.get(url)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    with portal_session(server, a) as (browser, _):
        page = browser.get(url)
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            assert browser.get(asset).status_code == 200, asset


def test_every_asset_is_served_by_amphub_itself() -> None:
    """No CDN: templates and scripts load nothing from another host."""
    for file in [*WEB.rglob("*.html"), *WEB.rglob("*.js"), *WEB.rglob("*.css")]:
        if "vendor" in file.parts:
            continue  # third-party bundles: see test_api_docs_come_from_amphub
        text = file.read_text()
        assert not re.search(r"""(?:src|href|import|url)\s*[=(]?\s*["']?(?:https?:)?//""", text), (
            file
        )


def test_api_docs_come_from_amphub(server: LiveServer) -> None:
    """Swagger UI is vendored: the docs page names only amphub's own assets."""
    with httpx.Client(base_url=server.base_url) as browser:
        page = browser.get("/api/v1/docs")
        assert page.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert assets, page.text
        assert all(asset.startswith("/static/vendor/swagger-ui/") for asset in assets), assets
        assert "validator.swagger.io" not in page.text
        for asset in assets:
            assert browser.get(asset).status_code == 200, asset

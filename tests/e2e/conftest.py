"""Fixtures the portal's browser tests share. Each module starts its own ``server`` (its own
database); these build on it: an API client, a tenant (named by the module's ``TENANT``),
Debian's chromium and a tab logged in as the tenant's Operator Admin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.portal import Portal, chromium, portal
from tests.integration.api.conftest import Tenant, make_tenant
from tests.support.live import LiveServer


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def tenant(server: LiveServer, client: httpx.Client, request: pytest.FixtureRequest) -> Tenant:
    return make_tenant(server, client, getattr(request.module, "TENANT", "T"))


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Browser]:
    """After the server: Playwright's loop in this thread would refuse its migration."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def admin_tab(browser: Browser, server: LiveServer, tenant: Tenant) -> Iterator[Portal]:
    with portal(browser, server, tenant.email) as tab:
        yield tab

"""Schemathesis against the live server's OpenAPI document, with tenant A's token: whatever
the generated request (foreign or absurd ids, odd bodies and queries), amphub answers no 5xx
and never shows tenant B's objects. Both hold the same kinds of objects, so an id that guesses
one of B's is as likely as one of A's.

Bounded: a few examples per operation, no shrinking (a failure prints the request as it was).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from amphub.entrypoints.api.app import configure_api, new_app
from tests.integration.api.conftest import Tenant
from tests.support.live import LiveServer

EXAMPLES_PER_OPERATION = 6


def _labels() -> list[str]:
    app = new_app()
    configure_api(app, max_body_bytes=1 << 20)
    paths = app.openapi()["paths"]
    return sorted(f"{method.upper()} {path}" for path, ops in paths.items() for method in ops)


@pytest.fixture(scope="module")
def api_schema(server: LiveServer, tenants: tuple[Tenant, Tenant]) -> Any:
    """Loaded from the running server, so its base URL is the server's."""
    return schemathesis.openapi.from_url(f"{server.base_url}/api/v1/openapi.json")


def markers(tenant: Tenant) -> list[str]:
    return [
        f"Operator {tenant.name}",
        f"Team {tenant.name}",
        f"Site{tenant.name}",
        f"CP-{tenant.name}",
        f"SERIAL-{tenant.name}",
        f"Meter{tenant.name}",
        f"Group{tenant.name}",
        tenant.email,
        tenant.meter_serial,
    ]


@pytest.mark.parametrize("label", _labels())
def test_no_server_error_and_no_cross_tenant_read(
    api_schema: Any, tenants: tuple[Tenant, Tenant], label: str
) -> None:
    a, b = tenants
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=a.headers, timeout=30)
        where = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
        leaked = [marker for marker in markers(b) if marker in response.text]
        assert not leaked, f"{where} shows B's {leaked}"

    check()

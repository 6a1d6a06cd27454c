"""Every form of the portal with bad input: the API's error appears next to the field it
names, and nothing is saved. Roles: a Team Member sees no commands and no configuration
controls; a Team Admin without the configure permission may operate but not configure.
The audit log shows what the portal changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.e2e.portal import Portal, portal
from tests.integration.api.conftest import Tenant, add_team_member
from tests.support.live import LiveServer, live_server, make_settings

pytestmark = pytest.mark.browser
TENANT = "F"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("portal-forms")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@pytest.fixture
def admin(admin_tab: Portal) -> Iterator[Portal]:
    """The tenant's Operator Admin, logged in once per module; no script errors but the
    refusals the test provokes."""
    yield admin_tab
    admin_tab.expect_no_script_errors("status of 422", "status of 409")


def error_of(form: Locator, field: str) -> Locator:
    return form.locator(f'[data-error-for="{field}"]')


def submit(form: Locator) -> None:
    form.locator("button[type=submit]").click()


def state(client: httpx.Client, tenant: Tenant) -> list[Any]:
    h = tenant.headers
    return [
        client.get("/api/v1/sites", headers=h).json(),
        client.get("/api/v1/charge-points", headers=h).json(),
        client.get("/api/v1/meters", headers=h).json(),
        client.get(f"/api/v1/sites/{tenant.site_id}/groups", headers=h).json(),
    ]


def test_create_site_with_bad_input(admin: Portal, client: httpx.Client, tenant: Tenant) -> None:
    before = state(client, tenant)
    page = admin.goto("/sites")
    page.locator("#create-site-card summary").click()
    form = page.locator("#create-site")
    form.locator("input[name=name]").fill("Quay")
    form.locator("input[name=country]").fill("XX")
    form.locator("input[name=bidding_zone]").fill("DK2")
    submit(form)
    expect(error_of(form, "country")).not_to_be_empty()
    expect(form.locator("input[name=country]")).to_have_attribute("aria-invalid", "true")
    expect(error_of(form, "name")).to_be_empty()
    admin.shot("forms-create-site-error")
    form.locator("input[name=country]").fill("DK")
    form.locator("input[name=bidding_zone]").fill("ZZ9")
    submit(form)
    expect(error_of(form, "bidding_zone")).not_to_be_empty()
    expect(error_of(form, "country")).to_be_empty()
    assert state(client, tenant) == before


def test_add_charge_point_with_bad_input(
    admin: Portal, client: httpx.Client, tenant: Tenant
) -> None:
    before = state(client, tenant)
    page = admin.goto(f"/sites/{tenant.site_id}")
    page.locator("#add-charge-point-card summary").click()
    form = page.locator("#add-charge-point")
    form.locator("input[name=serial_number]").fill("SERIAL-F")  # taken by the tenant's own
    form.locator("input[name=ocpp_identity]").fill("CP-NEW")
    submit(form)
    expect(error_of(form, "serial_number")).to_contain_text("already registered")
    form.locator("input[name=serial_number]").fill("SERIAL-NEW")
    form.locator("input[name=max_current_a]").fill("-5")
    submit(form)
    expect(error_of(form, "connectors")).not_to_be_empty()
    expect(error_of(form, "serial_number")).to_be_empty()
    admin.shot("forms-add-charge-point-error")
    assert state(client, tenant) == before
    form.locator("input[name=max_current_a]").fill("16")
    submit(form)
    expect(page.locator("#charge-point-secret [data-value=password]")).not_to_be_empty()
    expect(page.locator("#site-charge-points tbody tr")).to_have_count(2)


def test_group_forms_with_bad_input(admin: Portal, client: httpx.Client, tenant: Tenant) -> None:
    before = state(client, tenant)
    page = admin.goto(f"/sites/{tenant.site_id}/load-balancing")
    page.click("#create-group-button")
    form = page.locator("#create-group")
    form.locator("input[name=name]").fill("Basement")
    submit(form)  # no total amps
    expect(error_of(form, "total_a")).not_to_be_empty()
    form.locator("input[name=total_a]").fill("-3")
    submit(form)
    expect(error_of(form, "total_a")).to_contain_text("must be")
    admin.shot("forms-create-group-error")
    assert state(client, tenant) == before

    page = admin.goto(f"/groups/{tenant.group_id}#general")
    general = page.locator("#general-settings")
    general.locator("input[name=name]").fill("")
    submit(general)
    expect(error_of(general, "name")).not_to_be_empty()

    page = admin.goto(f"/groups/{tenant.group_id}#meter")
    meter = page.locator("#meter-settings")
    meter.locator("input[name=dynamic_buffer_a]").fill("100")  # above the 63 A total
    submit(meter)
    expect(error_of(meter, "dynamic_buffer_a")).to_contain_text("below the total")
    meter.locator("input[name=dynamic_buffer_a]").fill("3")
    meter.locator("input[name=fail_safe_a]").fill("64")
    submit(meter)
    expect(error_of(meter, "fail_safe_a")).to_contain_text("cannot exceed")
    expect(error_of(meter, "dynamic_buffer_a")).to_be_empty()
    meter.locator("input[name=fail_safe_a]").fill("6")
    meter.locator("input[name=meter_timeout_s]").fill("0")
    submit(meter)
    expect(error_of(meter, "meter_timeout_s")).to_contain_text("between")
    admin.shot("forms-meter-settings-error")
    assert state(client, tenant) == before


def test_register_meter_with_bad_input(admin: Portal, client: httpx.Client, tenant: Tenant) -> None:
    before = state(client, tenant)
    page = admin.goto("/meters")
    page.locator("#register-meter-card summary").click()
    form = page.locator("#register-meter")
    form.locator("input[name=name]").fill("Reporter")
    submit(form)  # no main fuse size
    expect(error_of(form, "main_fuse_a")).not_to_be_empty()
    form.locator("input[name=main_fuse_a]").fill("40")
    form.locator("input[name=timeout_s]").fill("-1")
    submit(form)
    expect(error_of(form, "timeout_s")).not_to_be_empty()
    expect(error_of(form, "main_fuse_a")).to_be_empty()
    expect(page.locator("#meter-secret")).to_be_hidden()
    admin.shot("forms-register-meter-error")
    assert state(client, tenant) == before


def test_remote_start_with_bad_input_and_offline_charger(admin: Portal, tenant: Tenant) -> None:
    page = admin.goto(f"/charge-points/{tenant.charge_point_id}")
    form = page.locator("#remote-start")
    submit(form)  # no id tag
    expect(error_of(form, "id_tag")).not_to_be_empty()
    form.locator("input[name=id_tag]").fill("TAG-9")
    submit(form)  # the charger is not connected: 409, said on the form
    expect(form.locator(".form-error")).to_contain_text("not connected")
    admin.shot("forms-remote-start-error")


def test_audit_log_shows_the_portals_changes(admin: Portal, tenant: Tenant) -> None:
    page = admin.goto("/audit-log")
    expect(page.locator("#audit tbody tr[data-action='group.create']")).to_have_count(1)
    expect(page.locator("#audit tbody")).to_contain_text(tenant.email)
    admin.shot("audit-log")


def member(server: LiveServer, client: httpx.Client, tenant: Tenant, role: str) -> str:
    """The e-mail of a new user given ``role`` in the tenant's team."""
    email = f"{role.replace('_', '-')}@example.com"
    add_team_member(server, client, tenant, email, role)
    return email


def test_a_team_member_sees_no_commands_and_no_configuration_controls(
    browser: Browser, server: LiveServer, client: httpx.Client, tenant: Tenant
) -> None:
    email = member(server, client, tenant, "team_member")
    with portal(browser, server, email) as tab:
        page = tab.goto(f"/charge-points/{tenant.charge_point_id}")
        expect(page.locator("#cp-title")).to_contain_text("SERIAL-F")
        expect(page.locator("#commands")).to_have_count(0)
        expect(page.get_by_role("button", name="Remote start")).to_have_count(0)
        expect(page.get_by_role("button", name="Reset")).to_have_count(0)
        expect(page.locator("#add-window")).to_have_count(0)
        expect(page.locator("#schedule-enabled")).to_be_disabled()
        tab.shot("role-team-member-charge-point")
        page = tab.goto(f"/sites/{tenant.site_id}")
        expect(page.locator("#add-charge-point-card")).to_have_count(0)
        page = tab.goto(f"/sites/{tenant.site_id}/load-balancing")
        expect(page.locator("#create-group-button")).to_have_count(0)
        page = tab.goto(f"/groups/{tenant.group_id}#charge-points")
        expect(page.locator("#general-settings button[type=submit]")).to_have_count(0)
        checkbox = page.locator(
            f"#candidates tr[data-charge-point-id='{tenant.charge_point_id}'] input"
        )
        expect(checkbox).to_be_disabled()
        page = tab.goto("/sites")
        expect(page.locator("#create-site-card")).to_be_hidden()
        tab.expect_no_script_errors()


def test_a_team_admin_without_configure_may_operate_but_not_configure(
    browser: Browser, server: LiveServer, client: httpx.Client, tenant: Tenant
) -> None:
    email = member(server, client, tenant, "team_admin")
    with portal(browser, server, email) as tab:
        page = tab.goto(f"/charge-points/{tenant.charge_point_id}")
        expect(page.locator("#commands")).to_be_visible()
        expect(page.get_by_role("button", name="Remote start")).to_be_visible()
        page = tab.goto(f"/sites/{tenant.site_id}")
        expect(page.locator("#add-charge-point-card")).to_have_count(0)
        tab.expect_no_script_errors()


def test_weekly_schedule_with_bad_input_then_saved(
    admin: Portal, client: httpx.Client, tenant: Tenant
) -> None:
    url = f"/api/v1/charge-points/{tenant.charge_point_id}/schedule"
    page = admin.goto(f"/charge-points/{tenant.charge_point_id}")
    form = page.locator("#schedule")
    form.locator("#add-window").click()
    row = form.locator("#schedule-windows tbody tr").first
    row.locator("select[name=weekday]").select_option(label="Saturday")
    row.locator("input[name=start]").fill("08:00")
    row.locator("input[name=end]").fill("12:00")
    row.locator("input[name=max_a]").fill("100")
    submit(form)
    expect(error_of(form, "windows.0.max_a")).not_to_be_empty()
    assert client.get(url, headers=tenant.headers).json()["windows"] == []
    admin.shot("forms-schedule-error")
    row.locator("input[name=max_a]").fill("16")
    submit(form)
    expect(page.locator("#notice")).to_have_text("Schedule saved.")
    saved = client.get(url, headers=tenant.headers).json()
    assert saved["enabled"] is True
    assert saved["windows"] == [
        {"weekday": 5, "start_minute": 480, "end_minute": 720, "max_a": 16.0, "connector_id": None}
    ]

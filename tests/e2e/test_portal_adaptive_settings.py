"""Adaptive charging's settings in the portal (issue 9), in chromium: a site's time-of-use
tariff with taxes and VAT, a charge point's default need, and a team's need defaults per id
tag. What the forms save is read back through the API; bad input shows the API's error beside
its field and saves nothing; a Team Member sees the settings but cannot change them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.e2e.portal import Portal, portal
from tests.integration.api.conftest import Tenant, add_team_member, login
from tests.support.live import LiveServer, live_server, make_settings

pytestmark = pytest.mark.browser
TENANT = "T"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("portal-adaptive")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@pytest.fixture
def admin(admin_tab: Portal) -> Iterator[Portal]:
    """The tenant's Operator Admin; no script errors but the refusals the test provokes."""
    yield admin_tab
    admin_tab.expect_no_script_errors("status of 422")


def error_of(form: Locator, field: str) -> Locator:
    return form.locator(f'[data-error-for="{field}"]')


def api_get(client: httpx.Client, tenant: Tenant, path: str) -> Any:
    response = client.get(f"/api/v1{path}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def band(form: Locator, index: int) -> Locator:
    return form.locator("#tariff-bands tbody tr").nth(index)


def fill_band(row: Locator, days: set[str], start: str, end: str, per_kwh: str) -> None:
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        row.get_by_label(day, exact=True).set_checked(day in days)
    row.locator("input[aria-label=From]").fill(start)
    row.locator("input[aria-label=To]").fill(end)
    row.locator("input[name$=per_kwh]").fill(per_kwh)


WEEKDAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
EVERY_DAY = WEEKDAYS | {"Saturday", "Sunday"}


def test_a_tariff_set_through_the_form_reads_back_through_the_api(
    admin: Portal, client: httpx.Client, tenant: Tenant
) -> None:
    url = f"/sites/{tenant.site_id}/tariff"
    assert api_get(client, tenant, url) is None
    page = admin.goto(f"/sites/{tenant.site_id}")
    form = page.locator("#tariff")
    expect(page.locator("#tariff-state")).to_contain_text("No tariff yet")
    expect(page.locator("#tariff-time-zone")).to_have_text("Europe/Copenhagen")
    # A Danish site starts from Energi Data Service in DKK.
    expect(form.locator("select[name=price_source]")).to_have_value("energi_data_service")
    expect(form.locator("input[name=currency]")).to_have_value("DKK")
    form.locator("input[name=eur_rate]").fill("7.46")
    form.locator("input[name=fixed_per_kwh]").fill("0.761")
    form.locator("input[name=vat_percent]").fill("25")
    page.click("#add-band")
    fill_band(band(form, 0), WEEKDAYS, "17:00", "21:00", "1.35")
    page.click("#add-band")
    fill_band(band(form, 1), EVERY_DAY, "00:00", "06:00", "0.15")
    page.click("#add-band")  # added, then removed: not sent
    band(form, 2).locator(".remove-band").click()
    expect(form.locator("#tariff-bands thead")).to_contain_text("(DKK)")
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("Tariff saved.")
    assert api_get(client, tenant, url) == {
        "site_id": tenant.site_id,
        "time_zone": "Europe/Copenhagen",
        "price_source": "energi_data_service",
        "currency": "DKK",
        "eur_rate": 7.46,
        "vat_percent": 25.0,
        "fixed_per_kwh": 0.761,
        "grid_windows": [
            {
                "start_minute": 1020,
                "end_minute": 1260,
                "per_kwh": 1.35,
                "weekdays": [0, 1, 2, 3, 4],
            },
            {
                "start_minute": 0,
                "end_minute": 360,
                "per_kwh": 0.15,
                "weekdays": [0, 1, 2, 3, 4, 5, 6],
            },
        ],
    }
    # What the page shows after a reload is what is stored.
    page = admin.goto(f"/sites/{tenant.site_id}")
    form = page.locator("#tariff")
    expect(page.locator("#tariff-state")).to_contain_text("2 grid tariff band(s), 25 % VAT")
    expect(form.locator("input[name=vat_percent]")).to_have_value("25")
    expect(form.locator("#tariff-bands tbody tr")).to_have_count(2)
    expect(band(form, 0).locator("input[aria-label=From]")).to_have_value("17:00")
    expect(band(form, 0).get_by_label("Saturday", exact=True)).not_to_be_checked()
    expect(band(form, 1).get_by_label("Sunday", exact=True)).to_be_checked()
    admin.shot("adaptive-site-tariff")


def test_a_bad_tariff_shows_each_error_beside_its_field_and_saves_nothing(
    admin: Portal, client: httpx.Client, tenant: Tenant
) -> None:
    url = f"/sites/{tenant.site_id}/tariff"
    before = api_get(client, tenant, url)
    page = admin.goto(f"/sites/{tenant.site_id}")
    form = page.locator("#tariff")
    form.locator("input[name=vat_percent]").fill("125")
    page.click("#add-band")
    fill_band(band(form, 2), WEEKDAYS, "21:00", "17:00", "0.5")  # ends before it starts
    page.click("#add-band")
    fill_band(band(form, 3), set(), "08:00", "12:00", "0.5")  # on no day
    form.locator("button[type=submit]").click()
    expect(error_of(form, "vat_percent")).to_contain_text("less than or equal to 100")
    expect(form.locator("input[name=vat_percent]")).to_have_attribute("aria-invalid", "true")
    expect(error_of(form, "grid_windows.2.end_minute")).to_have_text("must come after the start")
    expect(band(form, 2).locator("input[aria-label=To]")).to_have_attribute("aria-invalid", "true")
    expect(error_of(form, "grid_windows.3.weekdays")).to_have_text("pick at least one day")
    for fine in ("currency", "eur_rate", "grid_windows.0.end_minute", "grid_windows.2.per_kwh"):
        expect(error_of(form, fine)).to_be_empty()
    admin.shot("adaptive-site-tariff-errors")
    assert api_get(client, tenant, url) == before

    # Mended: the errors go, and the whole form is saved at once.
    form.locator("input[name=vat_percent]").fill("25")
    band(form, 2).locator("input[aria-label=To]").fill("23:00")
    band(form, 3).locator(".remove-band").click()
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("Tariff saved.")
    expect(error_of(form, "vat_percent")).to_be_empty()
    saved = api_get(client, tenant, url)["grid_windows"]
    assert [(w["start_minute"], w["end_minute"]) for w in saved] == [
        (1020, 1260),
        (0, 360),
        (1260, 1380),
    ]


def test_a_charge_points_default_need(admin: Portal, client: httpx.Client, tenant: Tenant) -> None:
    url = f"/charge-points/{tenant.charge_point_id}/need-default"
    assert api_get(client, tenant, url) is None
    page = admin.goto(f"/charge-points/{tenant.charge_point_id}")
    form = page.locator("#need-default")
    expect(page.locator("#need-default-state")).to_contain_text("No default")
    expect(page.locator("#remove-need-default")).to_be_hidden()
    expect(page.locator("#team-need-defaults")).to_have_attribute(
        "href", f"/teams/{tenant.team_id}#token-defaults-card"
    )
    form.locator("input[name=energy_kwh]").fill("0")
    form.locator("button[type=submit]").click()  # no departure, no energy
    expect(error_of(form, "departure_minute")).not_to_be_empty()
    expect(error_of(form, "energy_wh")).to_contain_text("greater than 0")
    expect(form.locator("input[name=energy_kwh]")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("input[name=departure_minute]")).to_have_attribute("aria-invalid", "true")
    form.locator("input[name=departure_minute]").fill("07:00")
    form.locator("input[name=energy_kwh]").fill("250")  # above 200 kWh
    form.locator("button[type=submit]").click()
    expect(error_of(form, "energy_wh")).to_contain_text("less than or equal to 200000")
    expect(error_of(form, "departure_minute")).to_be_empty()
    admin.shot("adaptive-charge-point-default-errors")
    assert api_get(client, tenant, url) is None

    form.locator("input[name=energy_kwh]").fill("22.5")
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("Default need saved.")
    expect(page.locator("#need-default-state")).to_have_text("Ready by 07:00 with 22.5 kWh.")
    assert api_get(client, tenant, url) == {"departure_minute": 420, "energy_wh": 22500.0}
    page = admin.goto(f"/charge-points/{tenant.charge_point_id}")
    expect(page.locator("#need-default input[name=departure_minute]")).to_have_value("07:00")
    expect(page.locator("#need-default input[name=energy_kwh]")).to_have_value("22.5")
    admin.shot("adaptive-charge-point-default")
    page.click("#remove-need-default")
    expect(page.locator("#notice")).to_have_text("Default need removed.")
    expect(page.locator("#need-default-state")).to_contain_text("No default")
    assert api_get(client, tenant, url) is None
    # Set again, for the Team Member to see.
    page.locator("#need-default input[name=departure_minute]").fill("06:30")
    page.locator("#need-default input[name=energy_kwh]").fill("10")
    page.locator("#need-default button[type=submit]").click()
    expect(page.locator("#need-default-state")).to_have_text("Ready by 06:30 with 10 kWh.")


def test_a_teams_need_defaults_per_id_tag(
    admin: Portal, client: httpx.Client, tenant: Tenant
) -> None:
    url = f"/teams/{tenant.team_id}/token-need-defaults"
    assert api_get(client, tenant, url) == []
    # From the site page to the team's page.
    page = admin.goto(f"/sites/{tenant.site_id}")
    page.locator("#site-team a").click()
    admin.ready()
    expect(page.locator("#team-name")).to_have_text("Team T")
    expect(page.locator("#team-sites")).to_contain_text("SiteT")
    expect(page.locator("#no-token-defaults")).to_be_visible()
    form = page.locator("#token-default")
    # The team's allow-listed id tags are offered.
    expect(page.locator("#team-id-tags option[value=TAG-T]")).to_have_count(1)
    form.locator("input[name=departure_minute]").fill("07:30")
    form.locator("input[name=energy_kwh]").fill("30")
    form.locator("button[type=submit]").click()  # no id tag
    expect(error_of(form, "id_tag")).not_to_be_empty()
    form.locator("input[name=id_tag]").fill("tag-t")
    form.locator("input[name=energy_kwh]").fill("-1")
    form.locator("button[type=submit]").click()
    expect(error_of(form, "energy_wh")).to_contain_text("greater than 0")
    expect(error_of(form, "id_tag")).to_be_empty()
    admin.shot("adaptive-team-defaults-errors")
    assert api_get(client, tenant, url) == []

    form.locator("input[name=energy_kwh]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("Default need of TAG-T saved.")
    form.locator("input[name=id_tag]").fill("VISITOR-7")
    form.locator("input[name=departure_minute]").fill("18:00")
    form.locator("input[name=energy_kwh]").fill("12.5")
    form.locator("button[type=submit]").click()
    expect(page.locator("#token-defaults tbody tr")).to_have_count(2)
    row = page.locator("#token-defaults tr[data-id-tag=TAG-T]")
    expect(row).to_contain_text("Card T")  # the allow list's label
    expect(row).to_contain_text("07:30")
    assert api_get(client, tenant, url) == [
        {"id_tag": "TAG-T", "departure_minute": 450, "energy_wh": 30000.0},
        {"id_tag": "VISITOR-7", "departure_minute": 1080, "energy_wh": 12500.0},
    ]
    # Edit fills the form; saving replaces that tag's default.
    row.locator("button.edit").click()
    expect(form.locator("input[name=id_tag]")).to_have_value("TAG-T")
    form.locator("input[name=departure_minute]").fill("06:45")
    form.locator("button[type=submit]").click()
    expect(row).to_contain_text("06:45")
    admin.shot("adaptive-team-defaults")
    page.locator("#token-defaults tr[data-id-tag=VISITOR-7] button.remove").click()
    expect(page.locator("#notice")).to_have_text("The default of VISITOR-7 is removed.")
    expect(page.locator("#token-defaults tbody tr")).to_have_count(1)
    assert api_get(client, tenant, url) == [
        {"id_tag": "TAG-T", "departure_minute": 405, "energy_wh": 30000.0}
    ]


def member(server: LiveServer, client: httpx.Client, tenant: Tenant, role: str) -> str:
    """The e-mail of a new user given ``role`` in the tenant's team."""
    email = f"{role.replace('_', '-')}@example.com"
    add_team_member(server, client, tenant, email, role)
    return email


def test_a_team_member_sees_the_settings_but_cannot_change_them(
    browser: Browser, server: LiveServer, client: httpx.Client, tenant: Tenant
) -> None:
    email = member(server, client, tenant, "team_member")
    with portal(browser, server, email) as tab:
        page = tab.goto(f"/sites/{tenant.site_id}")
        form = page.locator("#tariff")
        expect(form.locator("input[name=vat_percent]")).to_have_value("25")
        expect(form.locator("input[name=vat_percent]")).to_be_disabled()
        expect(band(form, 0).locator("input[aria-label=From]")).to_be_disabled()
        expect(page.get_by_role("button", name="Save tariff")).to_have_count(0)
        expect(page.locator("#add-band")).to_have_count(0)
        expect(form.locator(".remove-band")).to_have_count(0)
        tab.shot("adaptive-role-team-member-site")
        page = tab.goto(f"/charge-points/{tenant.charge_point_id}")
        form = page.locator("#need-default")
        expect(page.locator("#need-default-state")).to_have_text("Ready by 06:30 with 10 kWh.")
        expect(form.locator("input[name=energy_kwh]")).to_have_value("10")
        expect(form.locator("input[name=energy_kwh]")).to_be_disabled()
        expect(form.locator("input[name=departure_minute]")).to_be_disabled()
        expect(page.get_by_role("button", name="Save default")).to_have_count(0)
        expect(page.locator("#remove-need-default")).to_have_count(0)
        tab.shot("adaptive-role-team-member-charge-point")
        page = tab.goto(f"/teams/{tenant.team_id}")
        expect(page.locator("#token-defaults tr[data-id-tag=TAG-T]")).to_contain_text("06:45")
        expect(page.locator("#token-default")).to_have_count(0)
        expect(page.locator("#token-defaults button")).to_have_count(0)
        tab.shot("adaptive-role-team-member-team")
        tab.expect_no_script_errors()
    # The API refuses what the portal does not offer.
    with httpx.Client(base_url=server.base_url, timeout=30) as member_api:
        member_api.headers["Authorization"] = f"Bearer {login(member_api, email)}"
        for path, body in (
            (f"/sites/{tenant.site_id}/tariff", {"price_source": "none"}),
            (
                f"/charge-points/{tenant.charge_point_id}/need-default",
                {"departure_minute": 0, "energy_wh": 1000},
            ),
            (
                f"/teams/{tenant.team_id}/token-need-defaults",
                {"id_tag": "TAG-T", "departure_minute": 0, "energy_wh": 1000},
            ),
        ):
            assert member_api.put(f"/api/v1{path}", json=body).status_code == 403, path

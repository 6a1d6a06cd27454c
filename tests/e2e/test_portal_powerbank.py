"""PowerBank in the portal (seed 001), in chromium: team → Charge points → Actions → Sign up
for PowerBank, with the terms, the checkboxes, Facility ID inputs for Swedish charge points and
"Sign up all charge points"; then a charge point's functionalities → the PowerBank toggle."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.portal import api_client, portal
from tests.integration.api.conftest import create_user
from tests.support.live import LiveServer, live_server, make_settings

pytestmark = pytest.mark.browser
EMAIL = "owner@example.com"
TERMS = "PowerBank terms: amphub may lower the charging current of enrolled charge points."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("portal-powerbank")) / "amphub.sqlite3"
    with live_server(make_settings(database)) as live:
        yield live


@dataclass
class Swedish:
    team_id: int
    charge_point_ids: dict[str, int]


def arrange(server: LiveServer) -> Swedish:
    """A team with a site in Sweden: two compatible charge points and an incompatible one."""
    create_user(server, EMAIL)
    with api_client(server, EMAIL) as api:
        operator = api.post("/api/v1/operators", json={"name": "Nordic Charge"}).json()
        team = api.post(
            f"/api/v1/operators/{operator['id']}/teams", json={"name": "Göteborg"}
        ).json()
        site = api.post(
            f"/api/v1/teams/{team['id']}/sites",
            json={
                "name": "Hamnen",
                "country": "SE",
                "bidding_zone": "SE3",
                "time_zone": "Europe/Stockholm",
            },
        ).json()
        ids = {}
        for serial, brand in (("SE-1", "Easee"), ("SE-2", "Easee"), ("SE-3", "Acme")):
            response = api.post(
                f"/api/v1/sites/{site['id']}/charge-points",
                json={
                    "ocpp_identity": serial,
                    "serial_number": serial,
                    "brand": brand,
                    "model": "Charge",
                    "connectors": [{"connector_id": 1}],
                },
            )
            assert response.status_code == 201, response.text
            ids[serial] = response.json()["id"]
        base = f"/api/v1/operators/{operator['id']}/powerbank"
        assert api.post(f"{base}/terms", json={"text": TERMS}).status_code == 201
        compatible = {"brand": "Easee", "model": "Charge"}
        assert api.post(f"{base}/compatibility", json=compatible).status_code == 201
    return Swedish(team["id"], ids)


def enrolled(server: LiveServer, charge_point_id: int) -> bool:
    with api_client(server, EMAIL) as api:
        status = api.get(f"/api/v1/charge-points/{charge_point_id}/powerbank").json()["status"]
    return bool(status["enrolled"])


def test_sign_up_a_swedish_team_then_toggle_one_charge_point(
    server: LiveServer, browser: Browser
) -> None:
    swedish = arrange(server)
    ids = swedish.charge_point_ids
    with portal(browser, server, EMAIL) as tab:
        page = tab.goto("/charge-points")
        expect(page.locator("#team-actions")).to_be_hidden()
        page.select_option("#context", label="Nordic Charge › Göteborg")
        page.locator("#team-actions summary").click()
        page.click("#open-powerbank")
        dialog = page.locator("#powerbank-signup")
        expect(dialog.locator("#powerbank-terms")).to_have_text(TERMS)
        rows = dialog.locator("#powerbank-charge-points tbody tr")
        expect(rows).to_have_count(3)
        incompatible = dialog.locator("tr[data-serial=SE-3]")
        expect(incompatible.locator("input[type=checkbox]")).to_be_disabled()
        expect(incompatible.locator(".flag")).not_to_be_empty()

        # Terms not accepted: nothing is sent.
        dialog.locator("#sign-up-all").click()
        dialog.locator("button[type=submit]").click()
        expect(dialog.locator('[data-error-for="terms_version"]')).to_contain_text("Accept")
        # Accepted, but no Facility IDs: refused as a whole, each beside its input.
        dialog.locator("#accept-terms").check()
        dialog.locator("button[type=submit]").click()
        for serial in ("SE-1", "SE-2"):
            error = dialog.locator(f'[data-error-for="facility_ids.{ids[serial]}"]')
            expect(error).not_to_be_empty()
        tab.shot("powerbank-facility-ids-missing")
        assert not enrolled(server, ids["SE-1"]) and not enrolled(server, ids["SE-2"])

        dialog.locator(f'input[name="facility_ids.{ids["SE-1"]}"]').fill("735999000000000001")
        dialog.locator(f'input[name="facility_ids.{ids["SE-2"]}"]').fill("735 999 000 000 000 002")
        dialog.locator("button[type=submit]").click()
        expect(dialog.locator("#powerbank-result")).to_contain_text("Signed up 2")
        expect(dialog.locator("tr[data-serial=SE-1]")).to_contain_text("Enrolled")
        tab.shot("powerbank-signed-up")
        assert enrolled(server, ids["SE-1"]) and enrolled(server, ids["SE-2"])

        # Charge point → functionalities → PowerBank toggle off, and on again.
        page = tab.goto(f"/charge-points/{ids['SE-1']}")
        toggle = page.locator("#powerbank-switch")
        expect(toggle).to_be_checked()
        expect(page.locator("#cp-terms")).to_have_text(TERMS)
        toggle.uncheck()
        expect(page.locator("#powerbank-yesno")).to_have_text("No")
        expect(page.locator("#powerbank-state")).to_contain_text("Opted out")
        assert not enrolled(server, ids["SE-1"])
        toggle.check()
        expect(page.locator("#powerbank-yesno")).to_have_text("Yes")
        assert enrolled(server, ids["SE-1"])
        expect(page.locator("#powerbank-history li")).to_have_count(2)
        tab.shot("powerbank-toggle")
        tab.expect_no_script_errors("status of 422")

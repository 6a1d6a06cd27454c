"""The seed's flow in a real browser (seed 000, step by step), on a running amphub with real
OCPP chargers (one 1.6, one 2.0.1) and a meter pushing over HTTP:

log in → pick the team → Charging sites → the site → Go to Load Balancing → Create new group
→ General settings (name, total amps, cloud managed, Save changes; copy the identifier) →
Add or remove charge points (search by serial number; one already in another group is shown
as such) → register the meter (serial number and PIN shown once) → Meter settings (meter,
placement, dynamic buffer, fail-safe amps, meter timeout) → live view: the chart per phase and
each connector's limit follow a step in the building's load.

Screenshots of every step go to test-output/portal/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from ocpp.v16 import call as call16
from playwright.sync_api import Browser, expect

from tests.e2e.portal import BackgroundLoop, Portal, api_client, portal
from tests.e2e.test_balancing_e2e import Site, chargers, iso
from tests.integration.api.conftest import Tenant, charge_point_body, create_user, site_body
from tests.integration.ocpp.chargers import Charger16
from tests.support.live import LiveServer, live_server, make_settings

pytestmark = pytest.mark.browser
EMAIL = "installer@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = Path(tmp_path_factory.mktemp("portal")) / "amphub.sqlite3"
    settings = make_settings(database, balancing_cycle_s=0.5, balancing_lapse_s=10)
    with live_server(settings) as live:
        yield live


@dataclass
class Arranged:
    """What exists before the installer opens the portal: the site and its charge points
    (added and connected as the seed's earlier guide says), and a charge point of the site
    that another group already holds."""

    tenant: Tenant
    passwords: dict[str, str] = field(default_factory=dict)
    charge_point_ids: dict[str, int] = field(default_factory=dict)


def arrange(server: LiveServer) -> Arranged:
    user_id = create_user(server, EMAIL)
    with api_client(server, EMAIL) as api:
        operator = api.post("/api/v1/operators", json={"name": "Harbour Energy"}).json()
        team = api.post(
            f"/api/v1/operators/{operator['id']}/teams", json={"name": "Harbour team"}
        ).json()
        other = api.post(
            f"/api/v1/operators/{operator['id']}/teams", json={"name": "Inland team"}
        ).json()
        site = api.post(f"/api/v1/teams/{team['id']}/sites", json=site_body("Harbour")).json()
        api.post(f"/api/v1/teams/{other['id']}/sites", json=site_body("Inland"))
        tenant = Tenant("E", EMAIL, "", user_id, operator["id"], team["id"], site["id"])
        arranged = Arranged(tenant)
        for identity in ("E-16", "E-201", "E-OTHER"):
            response = api.post(
                f"/api/v1/sites/{site['id']}/charge-points",
                json=charge_point_body(identity, f"SN-{identity}"),
            )
            assert response.status_code == 201, response.text
            arranged.passwords[identity] = response.json()["ocpp_password"]
            arranged.charge_point_ids[identity] = response.json()["id"]
        response = api.post(
            f"/api/v1/sites/{site['id']}/groups", json={"name": "Workshop", "total_a": 16}
        )
        group_id = response.json()["id"]
        response = api.put(
            f"/api/v1/groups/{group_id}/layout",
            json={"charge_point_ids": [arranged.charge_point_ids["E-OTHER"]]},
        )
        assert response.status_code == 200, response.text
    return arranged


class SiteRunner:
    """The simulated site (chargers drawing what they are allowed, the meter pushing the
    building's load every second), run on a background loop."""

    def __init__(self, server: LiveServer, tenant: Tenant, passwords: dict[str, str]) -> None:
        self.loop = BackgroundLoop()
        self.site: Site | None = None
        self.old: Charger16 | None = None
        self.ready = self.loop.run(self._event())
        self.stop = self.loop.run(self._event())
        self.task = self.loop.start(self._run(server, tenant, passwords))
        self.loop.run(asyncio.wait_for(self.ready.wait(), 20))

    async def _event(self) -> asyncio.Event:
        return asyncio.Event()

    async def _run(self, server: LiveServer, tenant: Tenant, passwords: dict[str, str]) -> None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            self.site = Site(server, client, tenant, passwords, load=(10.0, 10.0, 10.0))
            async with chargers(self.site) as (old, _):
                self.old = old
                self.ready.set()
                await self.stop.wait()

    def building(self, l1: float, l2: float, l3: float) -> None:
        site = self.site
        assert site is not None
        self.loop.call(lambda: setattr(site, "load", (l1, l2, l3)))

    def start_session(self) -> int:
        """A car plugs into the 1.6 charger and starts a session."""
        charger = self.old
        assert charger is not None
        started = self.loop.run(
            charger.call(
                call16.StartTransaction(
                    connector_id=1, id_tag="CAR-1", meter_start=0, timestamp=iso(datetime.now(UTC))
                ),
                suppress=False,
            )
        )
        return int(started.transaction_id)

    def close(self) -> None:
        self.loop.call(self.stop.set)
        self.task.result(20)
        self.loop.close()


def chart_value(tab: Portal, phase: str, series: str) -> str:
    return tab.page.get_attribute(f"#chart-{phase} path[data-series={series}]", "data-last") or ""


def test_seed_flow_create_group_add_charge_points_set_meter_watch_live(
    server: LiveServer, browser: Browser
) -> None:
    arranged = arrange(server)
    tenant = arranged.tenant
    with portal(browser, server, EMAIL) as tab:
        page = tab.page
        # The operator/team switcher narrows the sites to the team's.
        expect(page.locator("#sites tbody tr")).to_have_count(2)
        page.select_option("#context", label="Harbour Energy › Harbour team")
        expect(page.locator("#sites tbody tr")).to_have_count(1)
        tab.shot("01-charging-sites")

        # Charging sites → site page → Go to Load Balancing → Create new group.
        page.click("#sites >> text=Harbour")
        page.click("#go-load-balancing")
        tab.ready()
        expect(page.locator("#groups tbody tr")).to_have_count(1)
        page.click("#create-group-button")
        form = page.locator("#create-group")
        form.locator("input[name=name]").fill("Garage")
        form.locator("input[name=total_a]").fill("40")
        form.locator("select[name=power_distribution]").select_option("cloud")
        tab.shot("02-create-group")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/groups/*#general")
        tab.ready()
        group_id = int(page.url.split("/groups/")[1].split("#")[0])
        identifier = page.locator("#group-identifier")
        expect(identifier).to_have_text(re.compile(r"^LBG-"))
        page.click("#copy-identifier")
        expect(page.locator("#copy-identifier")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == identifier.inner_text()
        tab.shot("03-general-settings")

        # Add or remove charge points: search by serial number; all connectors come along.
        page.click("[data-tab=charge-points]")
        expect(page.locator("#candidates tbody tr")).to_have_count(3)
        other = page.locator("#candidates tr[data-serial=SN-E-OTHER]")
        expect(other).to_contain_text("In group Workshop")
        expect(other.locator("input[type=checkbox]")).to_be_disabled()
        page.fill("#candidate-search", "SN-E-16")
        expect(page.locator("#candidates tbody tr")).to_have_count(1)
        page.check("#candidates tr[data-serial=SN-E-16] input[type=checkbox]")
        expect(page.locator("#notice")).to_contain_text("added")
        page.fill("#candidate-search", "")
        expect(page.locator("#candidates tbody tr")).to_have_count(3)
        page.check("#candidates tr[data-serial=SN-E-201] input[type=checkbox]")
        expect(page.locator("#candidates tr[data-serial=SN-E-201]")).to_contain_text("This group")
        tab.shot("04-charge-points")

        # Register the meter: serial number and PIN are shown once, with copy buttons.
        page.click("nav.side >> text=Meters")
        tab.ready()
        card = page.locator("#register-meter-card")
        card.locator("summary").click()
        card.locator("input[name=name]").fill("Enegic monitor")
        card.locator("input[name=main_fuse_a]").fill("40")
        card.locator("button[type=submit]").click()
        secret = page.locator("#meter-secret")
        expect(secret).to_be_visible()
        tenant.meter_serial = secret.locator("[data-value=serial]").inner_text()
        tenant.meter_pin = secret.locator("[data-value=pin]").inner_text()
        assert tenant.meter_serial.startswith("AMH-") and len(tenant.meter_pin) == 8
        expect(secret.locator("[data-value=instructions]")).to_contain_text(tenant.meter_serial)
        row = page.locator(f"#meters tr[data-serial='{tenant.meter_serial}']")
        expect(row).to_contain_text("NEVER_SEEN")
        tab.shot("05-meter-registered")

        # Meter settings of the group.
        tab.goto(f"/groups/{group_id}#meter")
        meter_form = page.locator("#meter-settings")
        meter_form.locator("select[name=meter_id]").select_option(index=1)
        meter_form.locator("select[name=placement]").select_option("BUILDING_ONLY")
        meter_form.locator("input[name=dynamic_buffer_a]").fill("3")
        meter_form.locator("input[name=fail_safe_a]").fill("6")
        meter_form.locator("input[name=meter_timeout_s]").fill("5")
        meter_form.locator("button[type=submit]").click()
        expect(page.locator("#notice")).to_have_text("Saved.")
        tab.shot("06-meter-settings")
        tab.expect_no_script_errors()

    with api_client(server, EMAIL) as api:
        group = api.get(f"/api/v1/groups/{group_id}").json()
    ids = arranged.charge_point_ids
    assert sorted(group["layout"]["charge_point_ids"]) == sorted([ids["E-16"], ids["E-201"]])
    assert (group["dynamic_buffer_a"], group["fail_safe_a"], group["meter_timeout_s"]) == (3, 6, 5)

    # The site runs: watch the live view follow a step in the building's load.
    runner = SiteRunner(server, tenant, arranged.passwords)
    try:
        with portal(browser, server, EMAIL) as tab:
            page = tab.page
            tab.goto(f"/groups/{group_id}#live")
            # 40 A total − 10 A building − 3 A buffer = 27 A for charging on every phase.
            for phase in ("l1", "l2", "l3"):
                expect(page.locator(f"#chart-{phase} path[data-series=limit]")).to_have_attribute(
                    "data-last", "27"
                )
            expect(page.locator("#connector-limits tbody tr")).to_have_count(2)
            expect(page.locator("#chart-l1 path[data-series=charging]")).not_to_have_attribute(
                "data-last", "0"
            )
            points_before = int(page.get_attribute("#chart-l1", "data-points") or 0)
            tab.shot("07-live-before-step")

            runner.building(30, 12, 12)  # 40 − 30 − 3 = 7 A left on L1
            expect(page.locator("#chart-l1 path[data-series=limit]")).to_have_attribute(
                "data-last", "7"
            )
            assert chart_value(tab, "l2", "limit") == "25"
            expect(page.locator("#chart-l1 path[data-series=building]")).to_have_attribute(
                "data-last", "30"
            )
            limits = page.locator("#connector-limits td.limit")
            page.wait_for_function(
                """() => [...document.querySelectorAll('#connector-limits td.limit')]
                     .reduce((sum, cell) => sum + Number(cell.textContent), 0) <= 7""",
            )
            assert sum(float(text) for text in limits.all_inner_texts()) <= 7
            bindings = page.locator("#connector-limits tbody tr").evaluate_all(
                "rows => rows.map(row => row.dataset.binding)"
            )
            capacity = {"GROUP_LIMIT", "PAUSED_NO_CAPACITY", "PAUSED_MIN_OFF_TIME"}
            assert set(bindings) & capacity, bindings
            labels = page.locator("#connector-limits td.binding").all_inner_texts()
            assert all(label and label.upper() != label for label in labels), labels
            assert int(page.get_attribute("#chart-l1", "data-points") or 0) > points_before
            tab.shot("08-live-after-step")

            # A car arrives at the 1.6 charger: its session can be planned (optiCharge).
            transaction_id = runner.start_session()
            page = tab.goto(f"/charge-points/{ids['E-16']}")
            plan = page.locator("#plans .plan[data-connector-id='1']")
            expect(plan).to_contain_text(f"session {transaction_id}")
            need = plan.locator("form.need")
            need.locator("button[type=submit]").click()
            expect(need.locator('[data-error-for="departure"]')).to_contain_text("departure")
            tomorrow = datetime.now() + timedelta(days=1)
            need.locator("input[name=departure]").fill(tomorrow.strftime("%Y-%m-%dT07:00"))
            need.locator("input[name=energy_kwh]").fill("20")
            need.locator("button[type=submit]").click()
            expect(page.locator("#notice")).to_contain_text("need saved")
            plan = page.locator("#plans .plan[data-connector-id='1']")
            expect(plan.locator(".plan-summary, p.muted").first).to_be_visible()
            expect(page.locator("#plans .form-error:visible")).to_have_count(0)
            tab.shot("09-session-plan")

            # The meter shows ACTIVE with its last reading now that data flows (seed 002).
            tab.goto("/meters")
            row = page.locator(f"#meters tr[data-serial='{tenant.meter_serial}']")
            expect(row).to_contain_text("ACTIVE")
            expect(row.locator("td.age")).to_contain_text("s ago")
            tab.shot("10-meter-active")

            # Charge points: connection status and search.
            tab.goto("/charge-points")
            expect(page.locator("#charge-points tbody tr")).to_have_count(3)
            page.fill("#search", "SN-E-201")
            expect(page.locator("#charge-points tbody tr")).to_have_count(1)
            expect(page.locator("#charge-points tbody tr")).to_contain_text("Connected")
            tab.shot("11-charge-points")
            tab.expect_no_script_errors()
    finally:
        runner.close()

import { get, post } from "/static/js/api.js";
import { setUpSwitcher } from "/static/js/context.js";
import { tariffEditor } from "/static/js/tariff.js";
import { $, addressLine, badge, body, gate, h, handleForm, permissions, showOnce, start } from "/static/js/ui.js";

const siteId = Number(body.siteId);

function connection(row) {
  return row.connected ? badge("Connected", "active") : badge("Offline", "inactive");
}

async function loadChargePoints() {
  const rows = await get("/overview/charge-points", { site_id: siteId, limit: 200 });
  $("#site-charge-points tbody").replaceChildren(
    ...rows.map((cp) =>
      h("tr", {},
        h("td", {}, h("a", { href: `/charge-points/${cp.id}`, text: cp.serial_number })),
        h("td", { text: cp.ocpp_identity }),
        h("td", { text: [cp.brand, cp.model].filter(Boolean).join(" ") }),
        h("td", { text: cp.connectors.length }),
        h("td", {}, connection(cp)))));
  $("#no-charge-points").hidden = rows.length > 0;
}

async function main() {
  setUpSwitcher(() => window.location.assign("/sites"));
  const site = await get(`/sites/${siteId}`);
  $("#site-name").textContent = site.name;
  document.title = `${site.name} · amphub`;
  $("#site-address").textContent = `${addressLine(site.address)} · ${site.country} · ${site.bidding_zone} · ${site.time_zone}`;
  const team = await get(`/teams/${site.team_id}`);
  $("#site-team").replaceChildren("Team ", h("a", { href: `/teams/${team.id}`, text: team.name }));
  const allowed = await permissions(site.operator_id, site.team_id);
  gate(allowed);
  await loadChargePoints();
  const meters = await get(`/sites/${siteId}/meters`, { limit: 200 });
  $("#site-meters").replaceChildren(
    ...meters.map((m) => h("li", {}, h("a", { href: `/meters/${m.id}`, text: m.name || m.serial }), " ", badge(m.status))));
  const form = $("#add-charge-point");
  if (form) {
    handleForm(form, async (values) => {
      const count = Number.isInteger(values.connector_count) ? values.connector_count : 1;
      const connectors = Array.from({ length: Math.max(0, Math.min(count, 100)) }, (_, i) => ({
        connector_id: i + 1,
        max_current_a: values.max_current_a,
      }));
      const created = await post(`/sites/${siteId}/charge-points`, {
        serial_number: values.serial_number,
        ocpp_identity: values.ocpp_identity,
        brand: values.brand,
        model: values.model,
        address: values.address,
        connectors,
      });
      form.reset();
      showOnce($("#charge-point-secret"), { identity: created.ocpp_identity, password: created.ocpp_password });
      await loadChargePoints();
    });
  }
  await tariffEditor(site, allowed);
}

start(main);

import { get, post } from "/static/js/api.js";
import { currentContext, setUpSwitcher } from "/static/js/context.js";
import { $, age, badge, h, handleForm, pagedTable, showOnce, when, start } from "/static/js/ui.js";

const sites = new Map();

function currents(reading) {
  if (!reading) return "—";
  const c = reading.currents_a;
  return `${c.l1} / ${c.l2} / ${c.l3} A at ${when(reading.measured_at)}`;
}

const table = pagedTable({
  tbody: $("#meters tbody"),
  more: $("#more-meters"),
  empty: $("#no-meters"),
  fetchPage: (page) => get("/overview/meters", { ...currentContext(), ...page }),
  row: (m) =>
    h("tr", { dataset: { meterId: m.id, serial: m.serial } },
      h("td", {}, h("a", { href: `/meters/${m.id}`, text: m.serial })),
      h("td", { text: m.name }),
      h("td", { text: sites.get(m.site_id)?.name || `#${m.site_id}` }),
      h("td", { text: m.transport.toUpperCase() }),
      h("td", {}, badge(m.status)),
      h("td", { text: currents(m.last_reading) }),
      h("td", { class: "age", text: age(m.last_reading?.age_s) })),
});

async function fillSites() {
  sites.clear();
  for (const site of await get("/overview/sites", { ...currentContext(), limit: 200 })) sites.set(site.id, site);
  $("#register-meter select[name=site_id]").replaceChildren(
    ...[...sites.values()].map((s) => h("option", { value: s.id, text: s.name })));
}

async function main() {
  await setUpSwitcher(async () => {
    await fillSites();
    await table.reload();
  });
  await fillSites();
  await table.reload();
  handleForm($("#register-meter"), async (values) => {
    const { site_id: siteId, ...meter } = values;
    if (!siteId) throw new Error("choose a site");
    const created = await post(`/sites/${siteId}/meters`, meter);
    $("#register-meter").reset();
    showOnce($("#meter-secret"), created);
    await table.reload();
  });
}

start(main);

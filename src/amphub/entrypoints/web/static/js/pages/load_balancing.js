import { get, post } from "/static/js/api.js";
import { setUpSwitcher } from "/static/js/context.js";
import { $, body, gate, h, handleForm, permissions, start } from "/static/js/ui.js";

const siteId = Number(body.siteId);
const DISTRIBUTION = { cloud: "Cloud managed", local: "Locally managed" };

async function main() {
  setUpSwitcher(() => window.location.assign("/sites"));
  const site = await get(`/sites/${siteId}`);
  $("#site-link").textContent = site.name;
  gate(await permissions(site.operator_id, site.team_id));
  const groups = await get(`/sites/${siteId}/groups`);
  $("#groups tbody").replaceChildren(
    ...groups.map((g) =>
      h("tr", {},
        h("td", {}, h("a", { href: `/groups/${g.id}`, text: g.name })),
        h("td", { text: `${g.total_a} A` }),
        h("td", { text: DISTRIBUTION[g.power_distribution] || g.power_distribution }),
        h("td", { text: g.layout.charge_point_ids.length + g.layout.sub_groups.length }),
        h("td", {}, h("code", { text: g.identifier })))));
  $("#no-groups").hidden = groups.length > 0;
  $("#create-group-button")?.addEventListener("click", () => {
    $("#create-group-card").hidden = false;
    $("#create-group input[name=name]").focus();
  });
  handleForm($("#create-group"), async (values) => {
    const created = await post(`/sites/${siteId}/groups`, values);
    window.location.assign(`/groups/${created.id}#general`);
  });
}

start(main);

import { get, post } from "/static/js/api.js";
import { currentContext, setUpSwitcher } from "/static/js/context.js";
import { $, addressLine, h, handleForm, pagedTable, permissions, start } from "/static/js/ui.js";

const table = pagedTable({
  tbody: $("#sites tbody"),
  more: $("#more-sites"),
  empty: $("#no-sites"),
  fetchPage: (page) => get("/overview/sites", { ...currentContext(), ...page }),
  row: (site) =>
    h("tr", { dataset: { siteId: site.id } },
      h("td", {}, h("a", { href: `/sites/${site.id}`, text: site.name })),
      h("td", { text: addressLine(site.address) }),
      h("td", { text: site.country }),
      h("td", { text: site.bidding_zone }),
      h("td", { text: site.time_zone })),
});

async function fillTeams(teams) {
  const select = $("#create-site select[name=team_id]");
  const context = currentContext();
  select.replaceChildren();
  for (const team of teams) {
    if (context.team_id && team.id !== context.team_id) continue;
    if (context.operator_id && team.operator_id !== context.operator_id) continue;
    const allowed = await permissions(team.operator_id, team.id);
    if (allowed.has("manage_sites")) {
      select.append(h("option", { value: team.id, text: `${team.operator_name} › ${team.name}` }));
    }
  }
  $("#create-site-card").hidden = select.options.length === 0;
}

async function main() {
  const teams = await setUpSwitcher(() => {
    table.reload();
    fillTeams(teams);
  });
  await Promise.all([table.reload(), fillTeams(teams)]);
  handleForm($("#create-site"), async (values) => {
    const { team_id: teamId, ...site } = values;
    if (!teamId) throw new Error("choose a team");
    const created = await post(`/teams/${teamId}/sites`, site);
    window.location.assign(`/sites/${created.id}`);
  });
}

start(main);

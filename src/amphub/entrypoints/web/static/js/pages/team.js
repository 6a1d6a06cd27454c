import { get } from "/static/js/api.js";
import { setUpSwitcher } from "/static/js/context.js";
import { tokenDefaults } from "/static/js/need_defaults.js";
import { $, addressLine, body, gate, h, permissions, start } from "/static/js/ui.js";

const teamId = Number(body.teamId);

async function main() {
  setUpSwitcher(() => window.location.assign("/sites"));
  const team = await get(`/teams/${teamId}`);
  $("#team-name").textContent = team.name;
  document.title = `${team.name} · amphub`;
  const allowed = await permissions(team.operator_id, team.id);
  gate(allowed);
  const sites = await get("/overview/sites", { team_id: teamId, limit: 200 });
  $("#team-sites").replaceChildren(
    ...sites.map((s) => h("li", {}, h("a", { href: `/sites/${s.id}`, text: s.name }), ` ${addressLine(s.address)}`)));
  $("#no-team-sites").hidden = sites.length > 0;
  await tokenDefaults(teamId, allowed);
}

start(main);

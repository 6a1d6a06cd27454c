import { get } from "/static/js/api.js";
import { currentContext, setUpSwitcher } from "/static/js/context.js";
import { signUpDialog } from "/static/js/powerbank.js";
import { $, addressLine, age, badge, h, notice, pagedTable, secondsSince, start } from "/static/js/ui.js";

const table = pagedTable({
  tbody: $("#charge-points tbody"),
  more: $("#more"),
  empty: $("#no-charge-points"),
  fetchPage: (page) =>
    get("/overview/charge-points", { ...currentContext(), search: $("#search").value.trim(), ...page }),
  row: (cp) =>
    h("tr", { dataset: { chargePointId: cp.id, connected: cp.connected } },
      h("td", {}, h("a", { href: `/charge-points/${cp.id}`, text: cp.serial_number })),
      h("td", { text: cp.ocpp_identity }),
      h("td", { text: [cp.brand, cp.model].filter(Boolean).join(" ") }),
      h("td", { text: addressLine(cp.address) }),
      h("td", {}, cp.connected ? badge("Connected", "active") : badge("Offline", "inactive"),
        cp.ocpp_version ? ` OCPP ${cp.ocpp_version}` : ""),
      h("td", { text: cp.connector_status.length
        ? cp.connector_status.map((c) => `${c.connector_id}: ${c.status || "?"}`).join(", ")
        : `${cp.connectors.length}` }),
      h("td", { text: age(secondsSince(cp.last_seen_at)) })),
});

function showActions() {
  const { team_id: teamId } = currentContext();
  $("#team-actions").hidden = !teamId;
  $("#open-team").href = `/teams/${teamId}#token-defaults-card`;
  $("#powerbank-signup").hidden = true;
}

let timer;
async function main() {
  await setUpSwitcher(() => {
    showActions();
    return table.reload();
  });
  showActions();
  $("#open-powerbank").addEventListener("click", async () => {
    $("#team-actions").open = false;
    const section = $("#powerbank-signup");
    const teamId = currentContext().team_id;
    if (section.dataset.team && Number(section.dataset.team) !== teamId) {
      window.location.reload(); // the dialog is wired to another team
      return;
    }
    if (!section.dataset.team) {
      await signUpDialog(section, teamId);
      section.dataset.team = String(teamId);
    }
    section.hidden = false;
  });
  await table.reload();
  $("#search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => table.reload().catch((e) => notice(e.message, "error")), 250);
  });
}

start(main);

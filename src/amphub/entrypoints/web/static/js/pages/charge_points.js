import { get } from "/static/js/api.js";
import { currentContext, setUpSwitcher } from "/static/js/context.js";
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

let timer;
async function main() {
  await setUpSwitcher(() => table.reload());
  await table.reload();
  $("#search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => table.reload().catch((e) => notice(e.message, "error")), 250);
  });
}

start(main);

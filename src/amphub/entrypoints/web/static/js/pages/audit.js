import { get } from "/static/js/api.js";
import { currentContext, setUpSwitcher } from "/static/js/context.js";
import { $, h, pagedTable, when, start } from "/static/js/ui.js";

const short = (value) => (value === null || value === undefined ? "—" : JSON.stringify(value));

const table = pagedTable({
  tbody: $("#audit tbody"),
  more: $("#older"),
  empty: $("#no-entries"),
  key: "min",
  fetchPage: (page) => get("/overview/audit-log", { ...currentContext(), ...page }),
  row: (entry) =>
    h("tr", { dataset: { action: entry.action } },
      h("td", { text: when(entry.at) }),
      h("td", { text: entry.actor }),
      h("td", { text: entry.action }),
      h("td", { text: `${entry.object_type} ${entry.object_id}` }),
      h("td", { class: "json", text: short(entry.old_value) }),
      h("td", { class: "json", text: short(entry.new_value) })),
});

async function main() {
  await setUpSwitcher(() => table.reload());
  await table.reload();
}

start(main);

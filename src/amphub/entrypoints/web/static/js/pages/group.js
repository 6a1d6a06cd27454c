import { get, put } from "/static/js/api.js";
import { renderChart } from "/static/js/chart.js";
import { setUpSwitcher } from "/static/js/context.js";
import {
  $, addressLine, body, copyButton, fillForm, gate, h, handleForm, notice, permissions, when, start,
} from "/static/js/ui.js";

const groupId = Number(body.groupId);
const SETTINGS = [
  "name", "total_a", "power_distribution", "master_charge_point_id", "meter_id", "placement",
  "dynamic_buffer_a", "fail_safe_a", "meter_timeout_s",
];
const BINDING = {
  NO_VEHICLE: "No vehicle",
  EXTERNAL_CAP: "Schedule, price plan or curtailment",
  CONNECTOR_MAX: "Connector maximum",
  EV_SUSPENDED: "Vehicle suspended",
  EV_DRAW: "Vehicle draws less",
  DAMPED_INCREASE: "Increase damped",
  GROUP_LIMIT: "Group limit",
  FAIL_SAFE: "Fail-safe (meter silent)",
  BELOW_THRESHOLD: "Change below threshold",
  PAUSED_NO_CAPACITY: "Paused: no capacity",
  PAUSED_FOR_ROTATION: "Paused: another car's turn",
  PAUSED_MIN_OFF_TIME: "Paused: minimum off-time",
};
const WINDOW_MS = 60 * 60 * 1000;
const POLL_MS = 3000;

let group;
let chargePoints = new Map(); // id → charge point of this site
let allowed = new Set();

const settingsOf = (g) => Object.fromEntries(SETTINGS.map((key) => [key, g[key]]));

// -- tabs --------------------------------------------------------------------------------

function showTab() {
  const name = (window.location.hash || "#general").slice(1);
  for (const tab of document.querySelectorAll("section.tab")) tab.hidden = tab.id !== `tab-${name}`;
  for (const link of document.querySelectorAll("[data-tab]")) {
    link.setAttribute("aria-selected", String(link.dataset.tab === name));
  }
  if (name === "live") startLive();
  if (name === "charge-points") loadCandidates();
}

// -- general and meter settings -----------------------------------------------------------

function showGroup() {
  $("#group-name").textContent = group.name;
  document.title = `${group.name} · amphub`;
  $("#group-identifier").textContent = group.identifier;
  fillForm($("#general-settings"), group);
  fillForm($("#meter-settings"), group);
  showMasterField();
}

function showMasterField() {
  const local = $("#general-settings select[name=power_distribution]").value === "local";
  $("#master-field").hidden = !local;
  const select = $("#general-settings select[name=master_charge_point_id]");
  const members = group.layout.charge_point_ids;
  select.replaceChildren(h("option", { value: "", text: "— choose —" }),
    ...members.map((id) => h("option", { value: id, text: chargePoints.get(id)?.serial_number || `#${id}` })));
  select.value = group.master_charge_point_id ?? "";
}

async function saveSettings(values) {
  const next = { ...settingsOf(group), ...values };
  if (next.power_distribution !== "local") next.master_charge_point_id = null;
  group = await put(`/groups/${groupId}`, next);
  showGroup();
  notice("Saved.");
}

// -- charge points -------------------------------------------------------------------------

function withoutChargePoint(subGroups, id) {
  return subGroups.map((sub) => ({
    ...sub,
    charge_point_ids: sub.charge_point_ids.filter((cp) => cp !== id),
    children: withoutChargePoint(sub.children, id),
  }));
}

async function toggleMember(candidate, checkbox) {
  const id = candidate.charge_point.id;
  const layout = {
    charge_point_ids: group.layout.charge_point_ids.filter((cp) => cp !== id),
    sub_groups: withoutChargePoint(group.layout.sub_groups, id),
  };
  if (checkbox.checked) layout.charge_point_ids.push(id);
  const error = $("#layout-error");
  error.hidden = true;
  try {
    group = await put(`/groups/${groupId}/layout`, layout);
    showMasterField();
    const updated = { ...candidate, group_id: checkbox.checked ? groupId : null, group_name: group.name };
    checkbox.closest("tr").replaceWith(candidateRow(updated));
    notice(checkbox.checked ? "Charge point added with all its connectors." : "Charge point removed.");
  } catch (failure) {
    checkbox.checked = !checkbox.checked;
    error.textContent = failure.message;
    error.hidden = false;
  }
}

function candidateRow(candidate) {
  const cp = candidate.charge_point;
  const elsewhere = candidate.group_id !== null && candidate.group_id !== groupId;
  const checkbox = h("input", {
    type: "checkbox",
    "aria-label": `In this group: ${cp.serial_number}`,
    checked: candidate.group_id === groupId,
    disabled: elsewhere || !allowed.has("configure_charge_points"),
  });
  checkbox.addEventListener("change", () => toggleMember(candidate, checkbox));
  const connectors = cp.connectors.length;
  return h("tr", { dataset: { chargePointId: cp.id, serial: cp.serial_number } },
    h("td", {}, checkbox),
    h("td", { text: cp.serial_number }),
    h("td", { text: addressLine(cp.address) }),
    h("td", { text: `${connectors} connector${connectors === 1 ? "" : "s"}` }),
    h("td", { class: elsewhere ? "elsewhere" : "" ,
      text: elsewhere ? `In group ${candidate.group_name}` : candidate.group_id === groupId ? "This group" : "—" }));
}

let searchTimer;
let after = 0;
async function loadCandidates(more = false) {
  if (!more) after = 0;
  const search = $("#candidate-search").value.trim();
  const found = await get(`/sites/${group.site_id}/group-candidates`, { search, limit: 50, after_id: after });
  const tbody = $("#candidates tbody");
  if (!more) tbody.replaceChildren();
  tbody.append(...found.map(candidateRow));
  if (found.length) after = found.at(-1).charge_point.id;
  $("#more-candidates").hidden = found.length < 50;
}

// -- live view ------------------------------------------------------------------------------

const history = { l1: [], l2: [], l3: [] }; // [{at, limit, building, charging}]
let lastAt = 0;
let polling = null;

function addPoint(point) {
  const at = new Date(point.at).getTime();
  if (at <= lastAt) return false;
  lastAt = at;
  for (const phase of ["l1", "l2", "l3"]) {
    history[phase].push({
      at,
      limit: point.limit[phase],
      building: point.building_load ? point.building_load[phase] : null,
      charging: point.charging[phase],
    });
    while (history[phase].length && history[phase][0].at < at - 2 * WINDOW_MS) history[phase].shift();
  }
  return true;
}

function drawCharts() {
  // The last hour; while there is less history than that, the span of what there is (at
  // least two minutes), so that a new group's chart is readable at once.
  const to = Date.now();
  const earliest = Math.min(to, ...history.l1.map((p) => p.at));
  const from = Math.max(to - WINDOW_MS, Math.min(earliest, to - 120e3));
  for (const phase of ["l1", "l2", "l3"]) {
    const points = history[phase];
    renderChart($(`#chart-${phase}`), {
      from, to, unit: "A",
      series: [
        { key: "limit", label: "Limit", color: "#d9480f", points: points.map((p) => [p.at, p.limit]) },
        { key: "building", label: "Building load", color: "#1971c2", points: points.map((p) => [p.at, p.building]) },
        { key: "charging", label: "Charging current", color: "#2f9e44", points: points.map((p) => [p.at, p.charging]) },
      ],
    });
  }
}

function showConnectors(live) {
  $("#connector-limits tbody").replaceChildren(
    ...live.connectors.map((c) =>
      h("tr", { dataset: { chargePointId: c.charge_point_id, connectorId: c.connector_id, binding: c.binding } },
        h("td", { text: chargePoints.get(c.charge_point_id)?.serial_number || `#${c.charge_point_id}` }),
        h("td", { text: c.connector_id }),
        h("td", { class: "number limit", text: c.limit_a.toFixed(1) }),
        h("td", { class: "number", text: c.delivered_a === null ? "—" : c.delivered_a.toFixed(1) }),
        h("td", { class: "binding", text: BINDING[c.binding] || c.binding }),
        h("td", { text: [c.node && c.node !== "root" ? c.node : "", c.phase ? `L${c.phase}` : "", c.detail].filter(Boolean).join(" · ") }))));
}

async function pollLive() {
  const live = await get(`/groups/${groupId}/live`);
  if (!live) return;
  const state = $("#live-state");
  state.textContent = `${live.fail_safe ? "Fail-safe: the meter is silent. " : ""}Last cycle ${when(live.at)} · limit ${live.limit.l1} / ${live.limit.l2} / ${live.limit.l3} A`;
  state.dataset.failSafe = String(live.fail_safe);
  addPoint(live);
  drawCharts();
  showConnectors(live);
}

async function startLive() {
  if (polling) return;
  polling = true;
  const points = await get(`/groups/${groupId}/history`, { minutes: 60 });
  for (const point of points) addPoint(point);
  drawCharts();
  const tick = async () => {
    if (window.location.hash !== "#live") {
      polling = null;
      return;
    }
    try {
      await pollLive();
    } catch (error) {
      notice(error.message, "error");
    }
    polling = setTimeout(tick, POLL_MS);
  };
  await tick();
}

// -- start ------------------------------------------------------------------------------------

async function main() {
  setUpSwitcher(() => window.location.assign("/sites"));
  group = await get(`/groups/${groupId}`);
  const site = await get(`/sites/${group.site_id}`);
  $("#site-link").textContent = site.name;
  $("#site-link").href = `/sites/${site.id}`;
  $("#lb-link").href = `/sites/${site.id}/load-balancing`;
  allowed = await permissions(site.operator_id, site.team_id);
  gate(allowed);
  const candidates = await get(`/sites/${group.site_id}/group-candidates`, { limit: 200 });
  chargePoints = new Map(candidates.map((c) => [c.charge_point.id, c.charge_point]));
  const meters = await get(`/sites/${group.site_id}/meters`, { limit: 200 });
  $("#meter-settings select[name=meter_id]").append(
    ...meters.map((m) => h("option", { value: m.id, text: `${m.name || "Meter"} (${m.serial}) · ${m.status}` })));
  showGroup();
  copyButton($("#copy-identifier"), () => group.identifier);
  $("#general-settings select[name=power_distribution]").addEventListener("change", showMasterField);
  handleForm($("#general-settings"), saveSettings);
  handleForm($("#meter-settings"), saveSettings);
  $("#candidate-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadCandidates().catch((e) => notice(e.message, "error")), 250);
  });
  $("#more-candidates").addEventListener("click", () => loadCandidates(true));
  window.addEventListener("hashchange", showTab);
  showTab();
}

start(main);

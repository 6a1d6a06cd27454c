import { get, post, put } from "/static/js/api.js";
import { renderChart } from "/static/js/chart.js";
import { setUpSwitcher } from "/static/js/context.js";
import { powerBankToggle } from "/static/js/powerbank.js";
import { scheduleEditor, sessionPlans } from "/static/js/adaptive.js";
import { chargePointDefault } from "/static/js/need_defaults.js";
import {
  $, addressLine, age, badge, body, gate, h, handleForm, notice, pagedTable, permissions, secondsSince, when, start,
} from "/static/js/ui.js";

const chargePointId = Number(body.chargePointId);
let allowed = new Set();

function fact(term, value) {
  return [h("dt", { text: term }), h("dd", { text: value || "—" })];
}

function phases(values) {
  return values ? `${values.l1} / ${values.l2} / ${values.l3}` : "—";
}

async function remoteStop(transactionId) {
  const result = $("#command-result");
  try {
    await post(`/charge-points/${chargePointId}/commands/remote-stop`, { transaction_id: transactionId });
    result.textContent = `The charger accepted to stop session ${transactionId}.`;
  } catch (error) {
    result.textContent = error.message;
  }
  result.hidden = false;
}

async function showStatus() {
  const status = await get(`/charge-points/${chargePointId}/status`);
  $("#cp-connection").replaceChildren(
    status.connected ? badge("Connected", "active") : badge("Offline", "inactive"));
  $("#cp-version").textContent = [
    status.ocpp_version ? `OCPP ${status.ocpp_version}` : "",
    status.last_heartbeat_at ? `heartbeat ${age(secondsSince(status.last_heartbeat_at))}` : "",
  ].filter(Boolean).join(" · ");
  $("#connectors tbody").replaceChildren(
    ...status.connectors.map((c) =>
      h("tr", { dataset: { connectorId: c.connector_id } },
        h("td", { text: c.connector_id }),
        h("td", {}, c.status ? badge(c.status) : "—"),
        h("td", { text: phases(c.current_a) }),
        h("td", { text: c.power_w ?? "—" }),
        h("td", { text: c.energy_wh ?? "—" }),
        h("td", { text: c.transaction_id ?? "—" }),
        h("td", {}, c.transaction_id && allowed.has("operate_charge_points")
          ? h("button", { type: "button", class: "remote-stop", onclick: () => remoteStop(c.transaction_id), text: "Remote stop" })
          : ""))));
  return status;
}

async function showSession(transactionId) {
  const session = await get(`/transactions/${transactionId}`);
  $("#chart-session").textContent = String(transactionId);
  const values = session.meter_values.map((v) => ({ ...v, ms: new Date(v.at).getTime() }));
  const from = new Date(session.started_at).getTime();
  const last = values.length ? values.at(-1).ms : from;
  const to = session.stopped_at ? new Date(session.stopped_at).getTime() : Math.max(last, from + 60e3);
  const series = ["l1", "l2", "l3"].map((phase, i) => ({
    key: phase,
    label: `Current ${phase.toUpperCase()}`,
    color: ["#d9480f", "#1971c2", "#2f9e44"][i],
    points: values.map((v) => [v.ms, v.current_a ? v.current_a[phase] : null]),
  }));
  renderChart($("#meter-values-chart"), { series, from, to, unit: "A" });
}

async function readConfiguration() {
  const error = $("#configuration-error");
  error.hidden = true;
  try {
    const values = await post(`/charge-points/${chargePointId}/configuration/read`, []);
    const editable = allowed.has("configure_charge_points");
    $("#configuration tbody").replaceChildren(...values.map((v) => {
      let cell = h("td", { text: v.value ?? "—" });
      if (editable && !v.readonly) {
        const form = h("form", { class: "row", novalidate: true },
          h("input", { name: "value", value: v.value ?? "", "aria-label": v.key }),
          h("button", { type: "submit", text: "Set" }),
          h("small", { class: "field-error", dataset: { errorFor: "value" } }),
          h("p", { class: "form-error", hidden: true }));
        handleForm(form, async ({ value }) => {
          const { outcome } = await put(`/charge-points/${chargePointId}/configuration`, { key: v.key, component: v.component, value });
          notice(`${v.key}: ${outcome}`);
        });
        cell = h("td", {}, form);
      }
      return h("tr", {}, h("td", { text: v.component ? `${v.component}.${v.key}` : v.key }), cell, h("td", { text: v.readonly ? "yes" : "no" }));
    }));
    $("#configuration").hidden = false;
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

async function main() {
  setUpSwitcher(() => window.location.assign("/charge-points"));
  const cp = await get(`/charge-points/${chargePointId}`);
  $("#cp-title").textContent = `${cp.serial_number} (${cp.ocpp_identity})`;
  document.title = `${cp.serial_number} · amphub`;
  const site = await get(`/sites/${cp.site_id}`);
  $("#cp-facts").replaceChildren(
    ...fact("Site", site.name),
    ...fact("Address", addressLine(cp.address)),
    ...fact("Brand / model", [cp.brand, cp.model].filter(Boolean).join(" ")),
    ...fact("Firmware", cp.firmware_version),
    ...fact("Connectors", cp.connectors.map((c) => `${c.connector_id}: ${c.phases}-phase, ${c.min_current_a}–${c.max_current_a} A`).join("; ")));
  $("#team-need-defaults").href = `/teams/${cp.team_id}#token-defaults-card`;
  allowed = await permissions(cp.operator_id, cp.team_id);
  gate(allowed);
  if (allowed.has("operate_charge_points")) {
    $("#commands").hidden = false;
    const result = $("#command-result");
    handleForm($("#remote-start"), async (values) => {
      await post(`/charge-points/${chargePointId}/commands/remote-start`, values);
      result.textContent = "The charger accepted the remote start.";
      result.hidden = false;
    });
    handleForm($("#reset"), async (values) => {
      const { outcome } = await post(`/charge-points/${chargePointId}/commands/reset`, values);
      result.textContent = `Reset ${outcome}.`;
      result.hidden = false;
    });
  } else {
    $("#commands").remove();
  }
  const status = await showStatus();
  let latest = status.connectors.find((c) => c.transaction_id)?.transaction_id ?? null;
  const sessions = pagedTable({
    tbody: $("#sessions tbody"),
    more: $("#more-sessions"),
    fetchPage: (page) => get(`/charge-points/${chargePointId}/transactions`, page),
    row: (t) => {
      latest ??= t.id;
      if (!status.connectors.some((c) => c.transaction_id)) latest = Math.max(latest, t.id);
      return h("tr", { dataset: { transactionId: t.id }, class: "clickable", onclick: () => showSession(t.id) },
        h("td", {}, h("button", { type: "button", class: "link", text: `#${t.id}` })),
        h("td", { text: t.connector_id }),
        h("td", { text: t.id_tag ?? "—" }),
        h("td", { text: when(t.started_at) }),
        h("td", { text: when(t.stopped_at) }),
        h("td", { text: t.energy_wh ?? "—" }));
    },
  });
  await sessions.reload();
  if (latest) await showSession(latest);
  $("#read-configuration").addEventListener("click", readConfiguration);
  await scheduleEditor(cp, allowed);
  await chargePointDefault(chargePointId, allowed);
  await sessionPlans(chargePointId, status.connectors, allowed);
  await powerBankToggle(chargePointId);
  setInterval(() => showStatus().catch(() => {}), 5000);
}

start(main);

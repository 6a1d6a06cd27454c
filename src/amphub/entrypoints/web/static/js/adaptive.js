// Adaptive charging on a charge point's page (seed 002): the simple weekly schedule, and each
// running session's price-optimised plan with its departure and energy need.

import { ApiError, del, get, put } from "/static/js/api.js";
import { renderChart } from "/static/js/chart.js";
import { $, clearErrors, h, notice, showErrors, when } from "/static/js/ui.js";

export const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** "HH:MM" of minutes after local midnight (1440, the end of the day, is "00:00"). */
export const clock = (minute) => `${String(Math.floor(minute / 60) % 24).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
/** Minutes after local midnight of an "HH:MM" input; an end of "00:00" is 1440. */
export function minutes(text, end) {
  const [hours, mins] = text.split(":").map(Number);
  const value = hours * 60 + mins;
  return end && value === 0 ? 1440 : value;
}

function windowRow(index, window, connectors, editable) {
  const field = (name, input) =>
    h("td", {}, input, h("small", { class: "field-error", role: "alert", dataset: { errorFor: `windows.${index}.${name}` } }));
  return h("tr", { dataset: { index } },
    field("weekday", h("select", { name: "weekday", disabled: !editable },
      ...DAYS.map((day, i) => h("option", { value: i, text: day, selected: i === window.weekday })))),
    field("start_minute", h("input", { type: "time", name: "start", value: clock(window.start_minute), disabled: !editable })),
    field("end_minute", h("input", { type: "time", name: "end", value: clock(window.end_minute), disabled: !editable })),
    field("max_a", h("input", { type: "number", step: "any", name: "max_a", value: window.max_a, disabled: !editable })),
    field("connector_id", h("select", { name: "connector_id", disabled: !editable },
      h("option", { value: "", text: "All" }),
      ...connectors.map((c) => h("option", { value: c.connector_id, text: c.connector_id, selected: c.connector_id === window.connector_id })))),
    h("td", {}, editable ? h("button", { type: "button", class: "link", text: "Remove", onclick: (e) => e.target.closest("tr").remove() }) : ""));
}

function readWindows(form) {
  return [...form.querySelectorAll("#schedule-windows tbody tr")].map((row) => {
    const value = (name) => row.querySelector(`[name=${name}]`).value;
    return {
      weekday: Number(value("weekday")),
      start_minute: value("start") ? minutes(value("start"), false) : null,
      end_minute: value("end") ? minutes(value("end"), true) : null,
      max_a: value("max_a") === "" ? null : Number(value("max_a")),
      connector_id: value("connector_id") === "" ? null : Number(value("connector_id")),
    };
  });
}

export async function scheduleEditor(chargePoint, allowed) {
  const form = $("#schedule");
  const editable = allowed.has("configure_charge_points");
  const tbody = $("#schedule-windows tbody");
  const show = (schedule) => {
    $("#schedule-enabled").checked = schedule.enabled && schedule.windows.length > 0;
    $("#schedule-enabled").disabled = !editable;
    tbody.replaceChildren(...schedule.windows.map((w, i) => windowRow(i, w, chargePoint.connectors, editable)));
  };
  show(await get(`/charge-points/${chargePoint.id}/schedule`));
  if (!editable) return;
  $("#add-window").addEventListener("click", () => {
    const index = tbody.children.length;
    tbody.append(windowRow(index, { weekday: 0, start_minute: 22 * 60, end_minute: 1440, max_a: 16, connector_id: null }, chargePoint.connectors, true));
    $("#schedule-enabled").checked = true;
  });
  $("#delete-schedule").addEventListener("click", async () => {
    await del(`/charge-points/${chargePoint.id}/schedule`);
    show(await get(`/charge-points/${chargePoint.id}/schedule`));
    notice("Schedule removed.");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    // Rows are numbered as sent, so that an error lands on its row.
    [...tbody.children].forEach((row, i) => {
      row.dataset.index = i;
      for (const slot of row.querySelectorAll("[data-error-for]")) {
        slot.dataset.errorFor = slot.dataset.errorFor.replace(/^windows\.\d+\./, `windows.${i}.`);
      }
    });
    try {
      show(await put(`/charge-points/${chargePoint.id}/schedule`, { enabled: $("#schedule-enabled").checked, windows: readWindows(form) }));
      notice("Schedule saved.");
    } catch (error) {
      showErrors(form, error);
    }
  });
}

function planChart(figure, plan) {
  const slotMs = plan.slot_minutes * 60e3;
  const points = (key) => plan.slots.map((s) => [new Date(s.start).getTime(), s[key]]);
  const from = plan.slots.length ? new Date(plan.slots[0].start).getTime() : Date.now();
  const to = plan.slots.length ? new Date(plan.slots.at(-1).start).getTime() + slotMs : from + 3600e3;
  renderChart(figure.querySelector(".current"), {
    from, to, unit: "A",
    series: [
      { key: "planned", label: "Planned current", color: "#2f9e44", points: points("planned_a") },
      { key: "cap", label: "Cap for the balancer", color: "#d9480f", points: points("cap_a") },
    ],
  });
  renderChart(figure.querySelector(".price"), {
    from, to, unit: "/kWh",
    series: [{ key: "price", label: "Price per kWh", color: "#1971c2", points: points("price_per_kwh") }],
  });
}

function needForm(chargePointId, connectorId, reload) {
  const form = h("form", { class: "row need", novalidate: true },
    h("label", { class: "field" }, h("span", { text: "Departure" }), h("input", { type: "datetime-local", name: "departure" }),
      h("small", { class: "field-error", role: "alert", dataset: { errorFor: "departure" } })),
    h("label", { class: "field" }, h("span", { text: "Energy need (kWh)" }), h("input", { type: "number", step: "any", name: "energy_kwh" }),
      h("small", { class: "field-error", role: "alert", dataset: { errorFor: "energy_wh" } })),
    h("button", { type: "submit", text: "Plan" }),
    h("button", { type: "button", class: "charge-now", text: "Charge now" }),
    h("p", { class: "form-error", role: "alert", hidden: true }));
  const send = async (body) => {
    clearErrors(form);
    try {
      await put(`/charge-points/${chargePointId}/connectors/${connectorId}/need`, body);
      notice(body.charge_now ? "Charging now." : "Departure and energy need saved; the session is planned with them.");
      await reload();
    } catch (error) {
      showErrors(form, error);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const departure = form.elements.departure.value;
    const kwh = form.elements.energy_kwh.value;
    if (!departure) {
      showErrors(form, new ApiError(422, { detail: [{ loc: ["body", "departure"], msg: "Give a departure time." }] }));
      return;
    }
    send({
      departure: new Date(departure).toISOString(),
      energy_wh: kwh === "" ? null : Number(kwh) * 1000,
      charge_now: false,
    });
  });
  form.querySelector(".charge-now").addEventListener("click", () => send({ charge_now: true }));
  return form;
}

/** Each connector with a running session: its plan (chart) and the need form. */
export async function sessionPlans(chargePointId, connectors, allowed) {
  const box = $("#plans");
  const running = connectors.filter((c) => c.transaction_id);
  if (!running.length) return;
  const reload = () => sessionPlans(chargePointId, connectors, allowed);
  box.replaceChildren(...await Promise.all(running.map(async (c) => {
    const plan = await get(`/charge-points/${chargePointId}/connectors/${c.connector_id}/plan`);
    const part = h("div", { class: "plan", dataset: { connectorId: c.connector_id } },
      h("h4", { text: `Connector ${c.connector_id}, session ${c.transaction_id}` }));
    if (plan) {
      part.append(h("p", { class: "plan-summary", text:
        `${plan.status}: ${plan.message} Departure ${when(plan.departure)}, need ${(plan.need_wh / 1000).toFixed(1)} kWh, planned ${(plan.planned_wh / 1000).toFixed(1)} kWh, cost ${plan.cost.toFixed(2)}.` }));
      const figure = h("div", { class: "charts" },
        h("figure", { class: "chart card current" }, h("figcaption", { text: "Planned current" })),
        h("figure", { class: "chart card price" }, h("figcaption", { text: "Price" })));
      part.append(figure);
      planChart(figure, plan);
    } else {
      part.append(h("p", { class: "muted", text: "Not planned: it charges at once. Give a departure time and an energy need to plan it." }));
    }
    if (allowed.has("operate_charge_points")) part.append(needForm(chargePointId, c.connector_id, reload));
    return part;
  })));
}

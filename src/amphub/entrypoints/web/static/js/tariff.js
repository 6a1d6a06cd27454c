// A site's electricity tariff on its page (issue 9): price source, currency and rate to EUR,
// taxes per kWh, VAT, and the time-of-use grid tariff bands, over GET/PUT /sites/{id}/tariff.
// The form saves in one call; a 422 lands beside the field it names, a band's on its row.

import { get, put } from "/static/js/api.js";
import { DAYS, clock, minutes } from "/static/js/adaptive.js";
import { $, clearErrors, fillForm, formValues, h, notice, showErrors } from "/static/js/ui.js";

const BAND = /^grid_windows\.\d+\./;

/** What a new tariff starts from: Danish sites have Energi Data Service without a token. */
function blank(site) {
  const danish = site.country === "DK";
  return {
    price_source: danish ? "energi_data_service" : "none",
    currency: danish ? "DKK" : "EUR",
    eur_rate: 1,
    vat_percent: 0,
    fixed_per_kwh: 0,
    grid_windows: [],
  };
}

function bandRow(band) {
  const cell = (field, ...inputs) =>
    h("td", {}, ...inputs, h("small", { class: "field-error", role: "alert", dataset: { errorFor: `grid_windows.0.${field}` } }));
  const days = DAYS.map((day, i) =>
    h("label", { class: "day", title: day },
      h("input", { type: "checkbox", name: "grid_windows.0.weekdays", value: i, checked: band.weekdays.includes(i), "aria-label": day }),
      day.slice(0, 2)));
  return h("tr", {},
    cell("weekdays", h("span", { class: "days" }, ...days)),
    cell("start_minute", h("input", { type: "time", name: "grid_windows.0.start_minute", value: clock(band.start_minute), "aria-label": "From" })),
    cell("end_minute", h("input", { type: "time", name: "grid_windows.0.end_minute", value: clock(band.end_minute), "aria-label": "To" })),
    cell("per_kwh", h("input", { type: "number", step: "any", name: "grid_windows.0.per_kwh", value: band.per_kwh, "aria-label": "Price per kWh" })),
    h("td", { "data-needs": "configure_charge_points" },
      h("button", { type: "button", class: "link remove-band", text: "Remove", onclick: (e) => e.target.closest("tr").remove() })));
}

/** Number the rows as they will be sent, so that the API's grid_windows.<n> finds its row. */
function numberRows(rows) {
  rows.forEach((row, i) => {
    for (const node of row.querySelectorAll("[name], [data-error-for]")) {
      if (node.name) node.name = node.name.replace(BAND, `grid_windows.${i}.`);
      if (node.dataset.errorFor) node.dataset.errorFor = node.dataset.errorFor.replace(BAND, `grid_windows.${i}.`);
    }
  });
}

function readBand(row) {
  const value = (field) => row.querySelector(`[name$=".${field}"]`).value;
  const perKwh = value("per_kwh").trim();
  return {
    weekdays: [...row.querySelectorAll('input[type=checkbox]:checked')].map((box) => Number(box.value)),
    start_minute: value("start_minute") ? minutes(value("start_minute"), false) : null,
    end_minute: value("end_minute") ? minutes(value("end_minute"), true) : null,
    per_kwh: perKwh === "" ? null : Number(perKwh),
  };
}

export async function tariffEditor(site, allowed) {
  const form = $("#tariff");
  const editable = allowed.has("configure_charge_points");
  const tbody = $("#tariff-bands tbody");
  const showCurrency = () => {
    const currency = form.elements.currency.value.trim().toUpperCase() || "…";
    for (const slot of form.querySelectorAll("[data-currency]")) slot.textContent = currency;
  };
  const sourceName = (value) => [...form.elements.price_source.options].find((o) => o.value === value)?.text ?? value;
  const show = (tariff) => {
    const state = $("#tariff-state");
    state.textContent = tariff
      ? `Set: ${tariff.grid_windows.length} grid tariff band(s), ${tariff.vat_percent} % VAT, prices from ${sourceName(tariff.price_source)}.`
      : "No tariff yet: sessions at this site are not price-optimised.";
    state.dataset.set = tariff ? "1" : "";
    const values = tariff ?? blank(site);
    fillForm($("#tariff-general"), values);
    tbody.replaceChildren(...values.grid_windows.map(bandRow));
    numberRows([...tbody.children]);
    if (!editable) for (const node of form.querySelectorAll("[data-needs]")) node.remove();
    showCurrency();
  };
  $("#tariff-time-zone").textContent = site.time_zone;
  $("#tariff-fields").disabled = !editable;
  show(await get(`/sites/${site.id}/tariff`));
  form.elements.currency.addEventListener("input", showCurrency);
  if (!editable) return;
  $("#add-band").addEventListener("click", () => {
    tbody.append(bandRow({ weekdays: [0, 1, 2, 3, 4], start_minute: 17 * 60, end_minute: 21 * 60, per_kwh: "" }));
    numberRows([...tbody.children]);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clearErrors(form);
    const rows = [...tbody.children];
    numberRows(rows);
    try {
      const general = formValues($("#tariff-general"));
      show(await put(`/sites/${site.id}/tariff`, { ...general, grid_windows: rows.map(readBand) }));
      notice("Tariff saved.");
    } catch (error) {
      showErrors(form, error);
    } finally {
      button.disabled = false;
    }
  });
}

// Need defaults (issue 9): what a session is planned for when nobody set its own need — the
// default of the driver's id tag (per team), else the charge point's. "Ready by 07:00 with
// 20 kWh": a time of day in the site's local time and an energy, entered in kWh, sent in Wh.

import { del, get, put } from "/static/js/api.js";
import { clock, minutes } from "/static/js/adaptive.js";
import { $, clearErrors, notice, showErrors } from "/static/js/ui.js";

/** The form's departure and energy as the API wants them (null where empty: the API says so). */
function needOf(form) {
  const departure = form.elements.departure_minute.value;
  const kwh = form.elements.energy_kwh.value.trim();
  return {
    departure_minute: departure ? minutes(departure, false) : null,
    energy_wh: kwh === "" ? null : Math.round(Number(kwh) * 1e6) / 1e3,
  };
}

const kwhText = (energyWh) => `${energyWh / 1000} kWh`;

/** Show a refusal on the form; the API's energy_wh is the kWh input here. */
function refused(form, error) {
  showErrors(form, error);
  if (form.querySelector('[data-error-for="energy_wh"]')?.textContent) {
    form.elements.energy_kwh.setAttribute("aria-invalid", "true");
  }
}

/** Submit through ``action()``; a refusal lands beside its fields and nothing else moves. */
function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clearErrors(form);
    try {
      await action();
    } catch (error) {
      refused(form, error);
    } finally {
      button.disabled = false;
    }
  });
}

/** The charge point's default need, on its page. */
export async function chargePointDefault(chargePointId, allowed) {
  const form = $("#need-default");
  const editable = allowed.has("configure_charge_points");
  const url = `/charge-points/${chargePointId}/need-default`;
  const show = (found) => {
    form.elements.departure_minute.value = found ? clock(found.departure_minute) : "";
    form.elements.energy_kwh.value = found ? String(found.energy_wh / 1000) : "";
    $("#need-default-state").textContent = found
      ? `Ready by ${clock(found.departure_minute)} with ${kwhText(found.energy_wh)}.`
      : "No default: sessions without a need of their own charge at once.";
    const remove = $("#remove-need-default");
    if (remove) remove.hidden = !found;
  };
  $("#need-default-fields").disabled = !editable;
  show(await get(url));
  if (!editable) return;
  onSubmit(form, async () => {
    await put(url, needOf(form));
    show(await get(url));
    notice("Default need saved.");
  });
  $("#remove-need-default").addEventListener("click", async () => {
    clearErrors(form);
    try {
      await del(url);
      show(await get(url));
      notice("Default need removed.");
    } catch (error) {
      refused(form, error);
    }
  });
}

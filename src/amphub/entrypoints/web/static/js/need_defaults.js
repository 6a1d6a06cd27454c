// Need defaults (issue 9): what a session is planned for when nobody set its own need — the
// default of the driver's id tag (per team), else the charge point's. "Ready by 07:00 with
// 20 kWh": a time of day in the site's local time and an energy, entered in kWh, sent in Wh.

import { api, del, get, put } from "/static/js/api.js";
import { clock, minutes } from "/static/js/adaptive.js";
import { $, clearErrors, h, notice, showErrors } from "/static/js/ui.js";

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

/** A team's defaults per id tag, on the team's page: the list, and a form to add or replace
 * one (a row's Edit fills it). The team's allow-listed id tags are offered in the input. */
export async function tokenDefaults(teamId, allowed) {
  const url = `/teams/${teamId}/token-need-defaults`;
  const form = $("#token-default");
  const editable = allowed.has("configure_charge_points") && form !== null;
  const cards = new Map((await get(`/teams/${teamId}/id-tags`)).map((t) => [t.id_tag.toUpperCase(), t.label]));
  const edit = (found) => {
    form.elements.id_tag.value = found.id_tag;
    form.elements.departure_minute.value = clock(found.departure_minute);
    form.elements.energy_kwh.value = String(found.energy_wh / 1000);
    clearErrors(form);
    form.elements.departure_minute.focus();
  };
  const remove = async (idTag) => {
    await api("DELETE", url, undefined, { id_tag: idTag });
    await load();
    notice(`The default of ${idTag} is removed.`);
  };
  async function load() {
    const found = await get(url);
    $("#token-defaults tbody").replaceChildren(...found.map((d) =>
      h("tr", { dataset: { idTag: d.id_tag } },
        h("td", {}, h("code", { text: d.id_tag })),
        h("td", { text: cards.get(d.id_tag) || "—" }),
        h("td", { text: clock(d.departure_minute) }),
        h("td", { text: String(d.energy_wh / 1000) }),
        h("td", {}, editable
          ? [h("button", { type: "button", class: "link edit", text: "Edit", onclick: () => edit(d) }), " ",
             h("button", { type: "button", class: "link remove", text: "Remove", onclick: () => remove(d.id_tag).catch((e) => notice(e.message, "error")) })]
          : ""))));
    $("#no-token-defaults").hidden = found.length > 0;
  }
  await load();
  if (!editable) return;
  $("#team-id-tags").replaceChildren(...[...cards].map(([tag, label]) => h("option", { value: tag, text: label })));
  onSubmit(form, async () => {
    const idTag = form.elements.id_tag.value.trim();
    await put(url, { id_tag: idTag, ...needOf(form) });
    form.reset();
    await load();
    notice(`Default need of ${idTag.toUpperCase()} saved.`);
  });
}

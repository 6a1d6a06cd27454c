// PowerBank in the portal (seed 001): the team's sign-up dialog and a charge point's toggle,
// both over the PowerBank API; Facility ID refusals land beside each charge point's input.

import { ApiError, del, get, post } from "/static/js/api.js";
import { $, badge, clearErrors, h, showErrors, when } from "/static/js/ui.js";

function state(status) {
  if (status.enrolled) return badge("Enrolled", "active");
  if (status.opted_out) return badge("Opted out", "inactive");
  return badge("Not enrolled", "never_seen");
}

function flags(status) {
  return status.reasons.filter((r) => !r.problem.startsWith("facility_id")).map((r) => h("div", { class: "flag", text: r.message }));
}

/** The team's "Sign up for PowerBank" dialog inside ``section``. */
export async function signUpDialog(section, teamId) {
  const form = $("#powerbank-form", section);
  let data;
  let allCompatible = false;
  async function load() {
    data = await get(`/teams/${teamId}/powerbank`);
    $("#powerbank-terms", section).textContent = data.terms ? data.terms.text : "No terms have been published yet.";
    $("#terms-version", section).textContent = data.terms ? data.terms.version : "—";
    $("#powerbank-charge-points tbody", section).replaceChildren(...data.charge_points.map((s) => {
      const joinable = s.compatible && !s.enrolled && !s.reasons.some((r) => r.problem === "country");
      const box = h("input", { type: "checkbox", name: "sign_up", value: s.charge_point_id,
        "aria-label": `Sign up ${s.serial_number}`, disabled: !joinable || !data.can_manage });
      box.addEventListener("change", () => (allCompatible = false));
      const facility = s.needs_facility_id
        ? [h("input", { name: `facility_ids.${s.charge_point_id}`, value: s.facility_id || "", placeholder: "735999…",
            "aria-label": `Facility ID of ${s.serial_number}` }),
           h("small", { class: "field-error", role: "alert", dataset: { errorFor: `facility_ids.${s.charge_point_id}` } })]
        : "—";
      return h("tr", { dataset: { chargePointId: s.charge_point_id, serial: s.serial_number } },
        h("td", {}, box),
        h("td", {}, h("a", { href: `/charge-points/${s.charge_point_id}`, text: s.serial_number }), ` ${s.brand} ${s.model}`, ...flags(s)),
        h("td", { text: `${s.site_name} (${s.country})` }),
        h("td", {}, facility),
        h("td", {}, state(s)));
    }));
  }
  $("#sign-up-all", section).addEventListener("click", () => {
    allCompatible = true;
    for (const box of form.querySelectorAll("input[name=sign_up]:not(:disabled)")) box.checked = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const result = $("#powerbank-result", section);
    result.hidden = true;
    const refuse = (field, message) =>
      showErrors(form, new ApiError(422, { detail: [{ loc: ["body", ...(field ? [field] : [])], msg: message }] }));
    if (!data.terms) return refuse("", "No terms have been published yet.");
    if (!$("#accept-terms", form).checked) return refuse("terms_version", "Accept the terms and conditions to sign up.");
    const selected = [...form.querySelectorAll("input[name=sign_up]:checked")].map((b) => Number(b.value));
    if (!allCompatible && !selected.length) return refuse("", "Choose charge points to sign up, or sign up all of them.");
    const facilityIds = {};
    for (const input of form.querySelectorAll("input[name^='facility_ids.']")) {
      if (input.value.trim()) facilityIds[input.name.split(".")[1]] = input.value.trim();
    }
    try {
      const answer = await post(`/teams/${teamId}/powerbank/sign-up`, {
        terms_version: data.terms.version,
        all_compatible: allCompatible,
        charge_point_ids: allCompatible ? [] : selected,
        facility_ids: facilityIds,
      });
      await load();
      const flagged = answer.not_enrolled.map((n) => `${n.charge_point.serial_number}: ${n.reasons.map((r) => r.message).join("; ")}`);
      result.textContent = `Signed up ${answer.enrolled.length} charge point(s).${flagged.length ? ` Not signed up: ${flagged.join(" · ")}` : ""}`;
      result.hidden = false;
    } catch (error) {
      showErrors(form, error);
    }
  });
  await load();
}

/** Charge point functionalities → PowerBank toggle. */
export async function powerBankToggle(chargePointId) {
  const form = $("#powerbank-toggle");
  const toggle = $("#powerbank-switch");
  let data;
  async function load() {
    data = await get(`/charge-points/${chargePointId}/powerbank`);
    const s = data.status;
    toggle.checked = s.enrolled;
    toggle.disabled = !s.can_manage || (!s.enrolled && !data.terms);
    $("#powerbank-yesno").textContent = s.enrolled ? "Yes" : "No";
    $("#cp-terms").textContent = data.terms ? data.terms.text : "";
    $("#cp-facility").hidden = !s.needs_facility_id;
    if (s.needs_facility_id && s.facility_id) form.elements.facility_id.value = s.facility_id;
    const why = s.reasons.map((r) => r.message).join("; ");
    $("#powerbank-state").replaceChildren(state(s), s.opted_out ? ` since ${when(s.opted_out_at)} by ${s.opted_out_by}` : "",
      why && !s.enrolled ? ` · ${why}` : "", s.can_manage ? "" : " · your role may not change this");
    $("#powerbank-history").replaceChildren(...data.history.map((e) =>
      h("li", { text: `${when(e.enrolled_at)} ${e.basis} by ${e.enrolled_by}${e.ended_at ? ` — ended ${when(e.ended_at)} by ${e.ended_by}` : ""}` })));
  }
  toggle.addEventListener("change", async () => {
    clearErrors(form);
    try {
      if (toggle.checked) {
        const facility = form.elements.facility_id.value.trim();
        await post(`/charge-points/${chargePointId}/powerbank/enrolment`, {
          terms_version: data.terms.version,
          facility_id: $("#cp-facility").hidden || !facility ? null : facility,
        });
      } else {
        await del(`/charge-points/${chargePointId}/powerbank/enrolment`);
      }
      await load();
    } catch (error) {
      toggle.checked = !toggle.checked;
      showErrors(form, error);
    }
  });
  await load();
}

import { get, post } from "/static/js/api.js";
import { setUpSwitcher } from "/static/js/context.js";
import { $, age, badge, body, gate, h, permissions, showOnce, when, start } from "/static/js/ui.js";

const meterId = Number(body.meterId);

function fact(term, value) {
  return [h("dt", { text: term }), h("dd", { text: value })];
}

async function refresh() {
  const meter = await get(`/meters/${meterId}`);
  $("#meter-title").textContent = meter.name ? `${meter.name} (${meter.serial})` : meter.serial;
  $("#meter-status").replaceChildren(badge(meter.status));
  $("#meter-last").textContent = when(meter.last_reading?.measured_at);
  $("#meter-age").textContent = age(meter.last_reading?.age_s);
  const c = meter.last_reading?.currents_a;
  $("#meter-currents").textContent = c ? `L1 ${c.l1} A · L2 ${c.l2} A · L3 ${c.l3} A` : "No reading yet.";
  return meter;
}

async function main() {
  setUpSwitcher(() => window.location.assign("/meters"));
  const meter = await refresh();
  const site = await get(`/sites/${meter.site_id}`);
  $("#meter-facts").replaceChildren(
    ...fact("Serial number", meter.serial),
    ...fact("Site", site.name),
    ...fact("Main fuse", `${meter.main_fuse_a} A`),
    ...fact("Transport", meter.transport.toUpperCase()),
    ...fact("Timeout", `${meter.timeout_s} s`));
  gate(await permissions(site.operator_id, site.team_id));
  const events = await get(`/meters/${meterId}/status-events`, { limit: 50 });
  $("#status-events").replaceChildren(
    ...events.map((e) => h("li", {}, `${when(e.at)}: `, badge(e.from_status), " → ", badge(e.to_status))));
  $("#new-pin")?.addEventListener("click", async () => {
    try {
      showOnce($("#meter-secret"), await post(`/meters/${meterId}/pin`));
    } catch (error) {
      $("#pin-error").textContent = error.message;
      $("#pin-error").hidden = false;
    }
  });
  setInterval(() => refresh().catch(() => {}), 5000);
}

start(main);

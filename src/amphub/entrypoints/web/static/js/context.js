// The operator/team switcher: which operator or team the lists show. Remembered in this
// browser; the lists pass it to the API as operator_id or team_id.

import { get } from "/static/js/api.js";
import { h } from "/static/js/ui.js";

const KEY = "amphub.context";

export function currentContext() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) || "{}");
    return { operator_id: stored.operator_id || null, team_id: stored.team_id || null };
  } catch {
    return { operator_id: null, team_id: null };
  }
}

/** Fill the switcher; call ``onChange`` when the person picks another operator or team. */
export async function setUpSwitcher(onChange) {
  const select = document.getElementById("context");
  if (!select) return [];
  const operators = await get("/operators", { limit: 200 });
  const context = currentContext();
  const teams = [];
  for (const operator of operators) {
    select.append(h("option", { value: `operator:${operator.id}`, text: `${operator.name} — all teams` }));
    for (const team of await get(`/operators/${operator.id}/teams`, { limit: 200 })) {
      teams.push({ ...team, operator_name: operator.name });
      select.append(h("option", { value: `team:${team.id}`, text: `${operator.name} › ${team.name}` }));
    }
  }
  const value = context.team_id ? `team:${context.team_id}` : context.operator_id ? `operator:${context.operator_id}` : "";
  select.value = [...select.options].some((o) => o.value === value) ? value : "";
  if (select.value !== value) localStorage.removeItem(KEY);
  select.addEventListener("change", () => {
    const [kind, id] = select.value.split(":");
    const next = { operator_id: kind === "operator" ? Number(id) : null, team_id: kind === "team" ? Number(id) : null };
    localStorage.setItem(KEY, JSON.stringify(next));
    onChange?.(next);
  });
  return teams;
}

// Small DOM helpers: elements from data (never innerHTML), forms whose errors come from the
// API, copy buttons, badges, times.

import { ApiError, get } from "/static/js/api.js";

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const body = document.body.dataset;
export const $ = (selector, root = document) => root.querySelector(selector);

export function notice(message, kind = "info") {
  const box = $("#notice");
  if (!box) return;
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = !message;
}

/** The form's fields as the API wants them: numbers, ints, nested "address.city" names. */
export function formValues(form) {
  const values = {};
  for (const field of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (field.closest("[hidden]") && field.closest("[hidden]") !== form) continue;
    let value = field.value;
    const type = field.dataset.type;
    if (field.type === "checkbox") value = field.checked;
    else if (type === "number") value = value.trim() === "" ? null : Number(value);
    else if (type === "int") value = value === "" ? null : Number.parseInt(value, 10);
    const path = field.name.split(".");
    let target = values;
    for (const part of path.slice(0, -1)) target = target[part] ??= {};
    target[path.at(-1)] = value;
  }
  return values;
}

export function fillForm(form, values) {
  for (const field of form.querySelectorAll("input[name], select[name]")) {
    const value = field.name.split(".").reduce((at, part) => (at ? at[part] : undefined), values);
    if (value === undefined) continue;
    if (field.type === "checkbox") field.checked = Boolean(value);
    else field.value = value === null ? "" : String(value);
  }
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  const general = $(".form-error", form);
  if (general) {
    general.textContent = "";
    general.hidden = true;
  }
}

/** Put each API error next to its field; what names no field of this form goes on top. */
export function showErrors(form, error) {
  clearErrors(form);
  const general = $(".form-error", form);
  const leftover = [];
  const fields = error instanceof ApiError ? error.fieldErrors() : [];
  for (const { field, message } of fields) {
    let name = field;
    let slot = null;
    while (name && !(slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`))) {
      name = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : "";
    }
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
      form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute("aria-invalid", "true");
    } else {
      leftover.push(field ? `${field}: ${message}` : message);
    }
  }
  if (!fields.length) leftover.push(error.message || String(error));
  if (leftover.length && general) {
    general.textContent = leftover.join("; ");
    general.hidden = false;
  }
}

/** Submit through ``action(values)``; errors go next to their fields, nothing else moves. */
export function handleForm(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    clearErrors(form);
    try {
      await action(formValues(form));
    } catch (error) {
      showErrors(form, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

export function copyButton(button, textOf) {
  button.addEventListener("click", async () => {
    const done = await copyText(textOf());
    button.textContent = done ? "Copied" : "Select and copy";
    setTimeout(() => (button.textContent = "Copy"), 2000);
  });
}

/** A "shown once" box: fill its [data-value] slots, wire its copy buttons, show it. */
export function showOnce(box, values) {
  for (const slot of box.querySelectorAll("[data-value]")) {
    slot.textContent = values[slot.dataset.value] ?? "";
  }
  for (const button of box.querySelectorAll("[data-copy]")) {
    if (!button.dataset.wired) {
      copyButton(button, () => box.querySelector(`[data-value="${button.dataset.copy}"]`).textContent);
      button.dataset.wired = "1";
    }
  }
  box.hidden = false;
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind || String(text).toLowerCase()}`, text });
}

export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

export function secondsSince(iso) {
  return iso ? Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000) : null;
}

export function addressLine(address) {
  if (!address) return "";
  return [address.street, [address.postal_code, address.city].filter(Boolean).join(" ")]
    .filter(Boolean)
    .join(", ");
}

/** Rows of a table body, paged with keyset pagination behind a "Load more" button. */
export function pagedTable({ tbody, more, empty, fetchPage, row, limit = 50, key = "id", reset }) {
  let after = 0;
  let count = 0;
  async function load() {
    const items = await fetchPage({ limit, after_id: after });
    for (const item of items) tbody.append(row(item));
    count += items.length;
    if (items.length) after = key === "min" ? Math.min(...items.map((i) => i.id)) : items.at(-1).id;
    if (more) more.hidden = items.length < limit;
    if (empty) empty.hidden = count > 0;
  }
  more?.addEventListener("click", () => load().catch((error) => notice(error.message, "error")));
  return {
    async reload() {
      tbody.replaceChildren();
      after = 0;
      count = 0;
      if (reset) reset();
      await load();
    },
  };
}

/** What the logged-in person may do on an operator or team (GET …/permissions). */
export async function permissions(operatorId, teamId) {
  const found = await get(`/operators/${operatorId}/permissions`, { team_id: teamId });
  return new Set(found.actions);
}

/** Show controls marked data-needs="action" only if allowed; remove them otherwise. */
export function gate(allowed, root = document) {
  for (const node of root.querySelectorAll("[data-needs]")) {
    if (!allowed.has(node.dataset.needs)) node.remove();
  }
}

/** Run a page's main(); the body says data-ready="1" once its forms and data are in place. */
export function start(main) {
  main()
    .catch((error) => notice(error.message, "error"))
    .finally(() => {
      document.body.dataset.ready = "1";
    });
}

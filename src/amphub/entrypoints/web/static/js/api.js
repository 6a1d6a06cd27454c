// The one way the portal talks to amphub: the REST API under /api/v1, with the session
// cookie and, on every unsafe method, the session's CSRF token (docs/portal.md).

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && body.detail;
    let message = `request failed (${status})`;
    if (typeof detail === "string") message = detail;
    else if (Array.isArray(detail)) message = detail.map((item) => item.msg).join("; ");
    super(message);
    this.status = status;
    this.body = body;
  }

  /** Field errors of a 422 (FastAPI's shape): [{field: "address.city", message}]. */
  fieldErrors() {
    const detail = this.body && this.body.detail;
    if (!Array.isArray(detail)) return [];
    return detail.map((item) => ({
      field: (item.loc || []).slice(1).map(String).join("."),
      message: item.msg || "invalid",
    }));
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function api(method, path, body, params) {
  const headers = { Accept: "application/json" };
  if (!["GET", "HEAD"].includes(method)) headers["X-CSRF-Token"] = csrfToken;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}${query(params)}`, init);
  if (response.status === 401) {
    window.location.assign("/login");
    throw new ApiError(401, { detail: "logged out" });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, params) => api("GET", path, undefined, params);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

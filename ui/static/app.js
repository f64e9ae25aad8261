// Shared by every page: the API client (session cookie + CSRF header), small DOM helpers, formats.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const taskUrl = document.querySelector('meta[name="prism-task-url"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.detail === "string" ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 401) {
    location.assign(`/ui/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, { detail: "log in again" });
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// el("td", {class: "x", onclick: f}, "text", child) — text is always text, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function show(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : `${iso}Z`);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// A run's inputs as "name: value" pairs, leaving out the ones nobody filled in.
export function givenInputs(inputs) {
  return Object.entries(inputs)
    .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]);
}

export function status(value) {
  return el("span", { class: `status status-${value}` }, value.replaceAll("_", " "));
}

export function taskLink(taskExtId) {
  if (!taskUrl) return el("code", {}, taskExtId);
  return el(
    "a",
    { href: taskUrl.replace("{task_ext_id}", encodeURIComponent(taskExtId)), target: "_blank", rel: "noopener",
      class: "task", title: "the Prism task" },
    taskExtId,
  );
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  if (!box) return;
  box.className = `toast-${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 6000);
}

export function errorBox(error) {
  return el("p", { class: "error", role: "alert" }, error.message || String(error));
}

export function empty(text) {
  return el("p", { class: "empty" }, text);
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await api("/api/auth/logout", { method: "POST" }).catch(() => {});
  location.assign("/ui/login");
});

// The approvals badge in the header: how many requests wait for this user.
const badge = document.getElementById("approvals-count");
if (badge) {
  api("/api/approvals")
    .then((gates) => {
      badge.textContent = gates.length;
      badge.hidden = gates.length === 0;
      badge.setAttribute("aria-label", `${gates.length} waiting`);
    })
    .catch(() => {});
}

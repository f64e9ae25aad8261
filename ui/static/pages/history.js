import { api, el, empty, errorBox, show, status, when } from "../app.js";

const form = document.getElementById("filters");
const box = document.getElementById("runs");
const chain = document.getElementById("chain");

const titles = new Map();
const PAGE = 50;

function row(run) {
  return el("tr", { dataset: { execution: run.id } },
    el("td", {}, el("a", { href: `/ui/runs/${run.id}` }, titles.get(run.item_id) || run.item_id || run.playbook)),
    el("td", {}, run.operator), el("td", {}, status(run.status)),
    el("td", {}, when(run.created_at)), el("td", {}, run.source),
    el("td", { class: "exports" },
      el("a", { href: `/api/runs/${run.id}/evidence?format=json`, download: true, "aria-label": `evidence of ${run.id} as JSON` }, "JSON"), " ",
      el("a", { href: `/api/runs/${run.id}/evidence?format=csv`, download: true, "aria-label": `evidence of ${run.id} as CSV` }, "CSV")));
}

async function load() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {
    if (!value) continue;
    // Dates are whole days in the browser's time zone.
    if (key === "since") params.set(key, new Date(`${value}T00:00:00`).toISOString());
    else if (key === "until") params.set(key, new Date(`${value}T23:59:59.999`).toISOString());
    else params.set(key, value);
  }
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
  show(box, el("p", { class: "muted" }, "Loading…"));
  try {
    const runs = await api(`/api/runs?${params}&limit=${PAGE}`);
    if (!runs.length) {
      show(box, empty(params.size ? "No run matches these filters." : "No runs yet: start one from the catalog."));
      return;
    }
    const body = el("tbody", {}, runs.map(row));
    show(box, el("table", { class: "runs" },
      el("thead", {}, el("tr", {}, ["Item", "User", "Outcome", "Requested", "Source", "Evidence"].map((h) => el("th", { scope: "col" }, h)))),
      body));
    if (runs.length === PAGE) box.append(older(params, body, runs.at(-1).id));
  } catch (error) {
    show(box, errorBox(error));
  }
}

// The API answers a page at a time: the next one starts after the last run shown.
function older(params, body, lastId) {
  const button = el("button", { type: "button", onclick: async () => {
    button.disabled = true;
    try {
      const runs = await api(`/api/runs?${params}&limit=${PAGE}&before=${encodeURIComponent(lastId)}`);
      body.append(...runs.map(row));
      if (runs.length === PAGE) button.replaceWith(older(params, body, runs.at(-1).id));
      else button.remove();
    } catch (error) {
      button.replaceWith(errorBox(error));
    }
  } }, "Older runs");
  return button;
}

async function verify() {
  try {
    const report = await api("/api/audit/status");
    chain.className = `chain ${report.ok ? "chain-ok" : "chain-broken"}`;
    chain.textContent = report.ok
      ? `Audit chain intact (${report.entries} records)`
      : `Audit chain broken: ${report.problems.length} problem(s): ${report.problems.slice(0, 3).map((p) => p.message || JSON.stringify(p)).join("; ")}`;
  } catch (error) {
    chain.textContent = error.message;
  }
}

for (const [key, value] of new URLSearchParams(location.search)) {
  const field = form.elements[key];
  if (field) field.value = key === "since" || key === "until" ? value.slice(0, 10) : value;
}
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
api("/api/catalog")
  .then((items) => {
    const select = document.getElementById("filter-item");
    const wanted = new URLSearchParams(location.search).get("item_id");
    for (const item of items) {
      titles.set(item.id, item.title);
      select.append(el("option", { value: item.id, selected: item.id === wanted }, item.title));
    }
  })
  .finally(load);
verify();

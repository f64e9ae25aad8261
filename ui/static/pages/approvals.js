import { api, el, givenInputs, empty, errorBox, show, status, toast, when } from "../app.js";
import { decided } from "../words.js";

const inbox = document.getElementById("inbox");
const decidedList = document.getElementById("decided");

const titles = new Map();

function inputsList(inputs) {
  return el("dl", { class: "facts small" }, givenInputs(inputs).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

async function request(gate) {
  const run = await api(`/api/runs/${gate.execution_id}`);
  const comment = el("textarea", { id: `comment-${gate.id}`, rows: 2, placeholder: "Why (kept in the audit record)" });
  const scope = el("div", { class: "scope muted" }, "Reading the scope…");
  api(`/api/runs/${gate.execution_id}/scope`)
    .then((p) => show(scope, p.count === null ? "" : `${p.count} VMs in scope: ${p.vms.map((v) => v.name).slice(0, 12).join(", ")}${p.count > 12 ? "…" : ""}`))
    .catch(() => show(scope, ""));
  // A run gate's details are the inputs shown above; a playbook gate says what it is about to do.
  const details = gate.kind === "playbook" && Object.keys(gate.details || {}).length ? el("pre", { class: "details" }, JSON.stringify(gate.details, null, 2)) : null;
  async function decide(decision) {
    try {
      await api(`/api/approvals/${gate.id}/decision`, { method: "POST", body: { decision, comment: comment.value } });
      toast(decision === "approve" ? "Approved." : "Rejected.");
      api("/api/catalog")
  .then((items) => items.forEach((item) => titles.set(item.id, item.title)))
  .catch(() => {})
  .finally(load);
    } catch (error) {
      toast(error.message, "error");
    }
  }
  return el("article", { class: "card request", dataset: { gate: gate.id } },
    el("h2", {}, el("a", { href: `/ui/runs/${gate.execution_id}` }, titles.get(run.item_id) || run.item_id || run.playbook),
      gate.kind === "playbook" ? ` — gate “${gate.name}”` : ""),
    el("p", {}, `Requested by `, el("strong", {}, gate.requested_by), ` at ${when(gate.created_at)}`,
      gate.expires_at ? `; fails closed after ${when(gate.expires_at)}` : ""),
    gate.message ? el("p", {}, gate.message) : null,
    inputsList(run.inputs),
    details,
    scope,
    gate.decisions.length ? el("p", { class: "muted" }, `So far: ${gate.decisions.map((d) => `${decided(d.decision)} by ${d.reviewer}`).join(", ")} (${gate.required} needed)`) : null,
    el("label", { for: comment.id }, "Comment"), comment,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", onclick: () => decide("approve") }, "Approve"),
      el("button", { type: "button", class: "danger", onclick: () => decide("reject") }, "Reject")));
}

function decidedRow(gate) {
  const last = gate.decisions.at(-1);
  return el("tr", {},
    el("td", {}, el("a", { href: `/ui/runs/${gate.execution_id}` }, gate.name)),
    el("td", {}, gate.requested_by), el("td", {}, status(gate.status)),
    el("td", {}, last ? `${last.reviewer}, ${when(last.decided_at)}` : ""), el("td", {}, last?.comment || ""));
}

async function load() {
  try {
    const gates = await api("/api/approvals");
    show(inbox, gates.length ? await Promise.all(gates.map(request)) : empty("Nothing waits for you."));
    const done = (await Promise.all(["approved", "rejected", "timed_out"].map((s) => api(`/api/approvals?status=${s}&mine=false`)))).flat();
    done.sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    show(decidedList, done.length
      ? el("table", {}, el("thead", {}, el("tr", {}, ["Request", "Requested by", "Decision", "Decided by", "Comment"].map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, done.slice(0, 20).map(decidedRow)))
      : empty("No decisions yet."));
  } catch (error) {
    show(inbox, errorBox(error));
  }
}

api("/api/catalog")
  .then((items) => items.forEach((item) => titles.set(item.id, item.title)))
  .catch(() => {})
  .finally(load);

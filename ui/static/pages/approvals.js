import { api, el, empty, errorBox, show, status, toast, when } from "../app.js";
import { decided } from "../words.js";

const inbox = document.getElementById("inbox");
const decidedList = document.getElementById("decided");

// Label/value pairs as the API words them: inputs under their form labels, VMs and choices by name.
function factsList(pairs) {
  return el("dl", { class: "facts small" }, pairs.flatMap((p) => [el("dt", {}, p.label), el("dd", {}, p.value)]));
}

async function request(gate) {
  const change = await api(`/api/runs/${gate.execution_id}/request`);
  const comment = el("textarea", { id: `comment-${gate.id}`, rows: 2, placeholder: "Why (kept in the audit record)" });
  const scope = el("div", { class: "scope muted" }, "Reading the scope…");
  api(`/api/runs/${gate.execution_id}/scope`)
    .then((p) => show(scope, p.count === null ? "" : `${p.count} VMs in scope: ${p.vms.map((v) => v.name).slice(0, 12).join(", ")}${p.count > 12 ? "…" : ""}`))
    .catch(() => show(scope, ""));
  // A run gate's details are the inputs shown above; a playbook gate says what it is about to do.
  const gateDetails = change.gates[gate.id] || [];
  const details = gate.kind === "playbook" && gateDetails.length ? factsList(gateDetails) : null;
  async function decide(decision) {
    try {
      await api(`/api/approvals/${gate.id}/decision`, { method: "POST", body: { decision, comment: comment.value } });
      toast(decision === "approve" ? "Approved." : "Rejected.");
      load();
    } catch (error) {
      toast(error.message, "error");
    }
  }
  return el("article", { class: "card request", dataset: { gate: gate.id } },
    el("h2", {}, el("a", { href: `/ui/runs/${gate.execution_id}` }, change.title),
      gate.kind === "playbook" ? ` — gate “${gate.name}”` : ""),
    el("p", {}, `Requested by `, el("strong", {}, gate.requested_by), ` at ${when(gate.created_at)}`,
      gate.expires_at ? `; fails closed after ${when(gate.expires_at)}` : ""),
    // What it will do: the item's own words, and whether it destroys or changes something for good.
    el("p", { class: "change" }, change.destructive ? el("span", { class: "tag tag-warn" }, "destructive") : null, " ", change.description),
    gate.kind === "playbook" && gate.message ? el("p", { class: "gate-summary" }, el("strong", {}, "The playbook asks: "), gate.message) : null,
    factsList(change.inputs),
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

load();

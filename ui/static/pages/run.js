import { api, el, givenInputs, errorBox, show, status, taskLink, toast, when } from "../app.js";
import { decided } from "../words.js";

const root = document.getElementById("run");
const id = root.dataset.executionId;
const TERMINAL = ["successful", "failed", "canceled", "interrupted", "rejected", "expired"];
const log = document.getElementById("log");
let lines = 0;
let current = null;
let title = null;

document.getElementById("export-json").href = `/api/runs/${id}/evidence?format=json`;
document.getElementById("export-csv").href = `/api/runs/${id}/evidence?format=csv`;

function facts(run) {
  const inputs = givenInputs(run.inputs).map(([k, v]) => `${k}: ${v}`).join(" · ");
  const pairs = [
    ["Requested by", run.operator], ["Requested", when(run.created_at)], ["Started", when(run.started_at)],
    ["Finished", when(run.finished_at)], ["Inputs", inputs || "none"], ["Source", run.source],
  ];
  return pairs.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]);
}

function approvalsView(gates) {
  return gates.map((gate) => el("div", { class: "gate" },
    el("p", {}, el("strong", {}, gate.kind === "run" ? "Before the run" : `Gate “${gate.name}”`), " ", status(gate.status),
      ` — asks ${gate.reviewer_group ? `group ${gate.reviewer_group}` : gate.reviewers.join(", ")}, ${gate.required} needed`),
    gate.message ? el("p", { class: "muted" }, gate.message) : null,
    el("ul", { class: "decisions" }, gate.decisions.length
      ? gate.decisions.map((d) => el("li", {}, el("strong", {}, d.reviewer), ` ${decided(d.decision)} at ${when(d.decided_at)}`, d.comment ? ` — “${d.comment}”` : ""))
      : el("li", { class: "muted" }, "No decision yet."))));
}

// What changed something, failed, started a Prism task or is running now: the rest on demand.
const notable = (step) => ["changed", "failed", "unreachable", "running"].includes(step.status) || step.task_ext_ids.length;

function stepView(step) {
  return el("li", { class: `step step-${step.status}` },
    el("span", {}, step.task), " ", el("small", {}, step.status),
    step.task_ext_ids.length ? el("span", { class: "tasks" }, step.task_ext_ids.map(taskLink)) : null);
}

function stepsView(steps) {
  const shown = steps.filter(notable);
  return [
    el("ol", { class: "steps" }, shown.map(stepView)),
    shown.length < steps.length
      ? el("details", { class: "all-steps" }, el("summary", {}, `all ${steps.length} steps`), el("ol", { class: "steps" }, steps.map(stepView)))
      : null,
  ];
}

function hostsView(progress) {
  if (!progress.rows.length) {
    return el("p", { class: "empty" }, TERMINAL.includes(progress.status) ? "This run touched no VM." : "No VM has started yet.");
  }
  return el("table", { class: "hosts" },
    el("thead", {}, el("tr", {}, ["VM", "Progress", "Steps"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, progress.rows.map((row) => el("tr", { dataset: { host: row.host, status: row.status } },
      el("th", { scope: "row" }, row.host, row.recovered ? el("span", { class: "tag tag-warn" }, "recovered") : null),
      el("td", {}, el("progress", { max: 100, value: row.percent, "aria-label": `${row.host}: ${row.percent}%` }), " ", status(row.status)),
      el("td", {}, stepsView(row.steps))))));
}

async function refresh() {
  const [run, progress] = await Promise.all([api(`/api/runs/${id}`), api(`/api/runs/${id}/hosts`)]);
  current = run;
  title ??= run.item_id ? await api(`/api/catalog/${run.item_id}`).then((i) => i.title).catch(() => run.item_id) : run.playbook;
  document.getElementById("run-title").textContent = title;
  document.title = `${title}: ${run.status.replaceAll("_", " ")} · day2ops`;
  show(document.getElementById("run-status"), status(run.status));
  show(document.getElementById("run-facts"), facts(run));
  document.getElementById("cancel").hidden = TERMINAL.includes(run.status);
  show(document.getElementById("hosts"), hostsView(progress));
  const record = await api(`/api/runs/${id}/evidence`);
  document.getElementById("approvals-section").hidden = !record.approvals.length;
  show(document.getElementById("approvals"), approvalsView(record.approvals));
}

let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh().catch(() => {}); }, 700);
}

function stream() {
  const source = new EventSource(`/api/runs/${id}/events/stream`);
  source.addEventListener("runner", (message) => {
    const event = JSON.parse(message.data);
    if (event.stdout) {
      log.append(`${event.stdout}\n`);
      lines += 1;
      document.getElementById("log-count").textContent = `(${lines} lines)`;
    }
    refreshSoon();
  });
  source.addEventListener("status", (message) => {
    const { status: now } = JSON.parse(message.data);
    refresh().catch(() => {});
    if (TERMINAL.includes(now)) source.close();
  });
  // The server ends the stream when the run has ended; the browser would reconnect forever.
  source.onerror = () => { if (current && TERMINAL.includes(current.status)) source.close(); };
}

document.getElementById("cancel").addEventListener("click", async () => {
  if (!confirm("Cancel this run? Steps already done in Prism stay done.")) return;
  try {
    await api(`/api/runs/${id}/cancel`, { method: "POST" });
    toast("Canceling…");
    refresh();
  } catch (error) {
    toast(error.message, "error");
  }
});

refresh().then(stream).catch((error) => show(root, errorBox(error)));

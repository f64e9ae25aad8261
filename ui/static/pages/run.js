import { api, el, errorBox, show, status, taskLink, toast, when } from "../app.js";
import { decided } from "../words.js";

const root = document.getElementById("run");
const id = root.dataset.executionId;
const TERMINAL = ["successful", "failed", "canceled", "interrupted", "rejected", "expired"];
const log = document.getElementById("log");
let lines = 0;
let current = null;
let request = null;
let reportsRead = false;

document.getElementById("export-json").href = `/api/runs/${id}/evidence?format=json`;
document.getElementById("export-csv").href = `/api/runs/${id}/evidence?format=csv`;

function facts(run) {
  // Each input under its form label, a chosen value under the name its dropdown showed.
  const inputs = request.inputs.map((i) => `${i.label}: ${i.value}`).join(" · ");
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

// A VM by its name, its ext_id on hover.
const vmName = (name, extId) => el("span", { class: "vm", title: extId ? `ext_id ${extId}` : undefined }, name);

function summaryView(summary) {
  const failed = summary.failed.map((f) => el("li", {},
    el("strong", {}, vmName(f.vm, f.host !== f.vm ? f.host : undefined)), ` ${f.status}`, f.task ? ` at “${f.task}”` : "", f.reason ? `: ${f.reason}` : ""));
  const controller = summary.controller.map((f) => el("li", {}, el("strong", {}, `“${f.task}”`), ` ${f.status}`, f.reason ? `: ${f.reason}` : ""));
  const left = summary.left_behind.map((x) => el("li", {}, x.kind === "recovery_point"
    ? ["Recovery point ", el("code", { title: `ext_id ${x.ext_id}` }, x.name), " of ", vmName(x.vm, x.vm_ext_id),
      x.expiration_time ? ` kept until ${when(x.expiration_time)}` : " kept (no expiry)"]
    : [vmName(x.vm, x.vm_ext_id), " left powered off"]));
  return [
    failed.length ? [el("h3", {}, "Failed VMs"), el("ul", { class: "failed-vms" }, failed)] : null,
    controller.length ? [el("h3", {}, "Failed steps"), el("ul", {}, controller)] : null,
    summary.recovered.length ? el("p", {}, `Recovered after a failure: ${summary.recovered.join(", ")}`) : null,
    left.length ? [el("h3", {}, "Left behind"), el("ul", { class: "left-behind" }, left)] : null,
  ].flat();
}

function hostsView(progress) {
  if (!progress.rows.length) {
    return el("p", { class: "empty" }, TERMINAL.includes(progress.status) ? "This run touched no VM." : "No VM has started yet.");
  }
  return el("table", { class: "hosts" },
    el("thead", {}, el("tr", {}, ["VM", "Progress", "Steps"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, progress.rows.map((row) => el("tr", { class: `row-${row.status}`, dataset: { host: row.name, status: row.status } },
      el("th", { scope: "row" }, vmName(row.name, row.ext_id), row.recovered ? el("span", { class: "tag tag-warn" }, "recovered") : null),
      el("td", {}, el("progress", { max: 100, value: row.percent, "aria-label": `${row.name}: ${row.percent}%` }), " ", status(row.status)),
      el("td", {}, stepsView(row.steps))))));
}

async function summarize(run) {
  const summary = await api(`/api/runs/${id}/summary`);
  const told = summary.failed.length || summary.controller.length;
  document.getElementById("summary-section").hidden = !told;
  if (told) show(document.getElementById("summary"), summaryView(summary));
}

async function reports() {
  // Only who ran it, or an admin, may read them: the API refuses anyone else, and the section stays hidden.
  const files = await api(`/api/runs/${id}/reports`).catch(() => []);
  reportsRead = true;
  document.getElementById("reports-section").hidden = !files.length;
  show(document.getElementById("reports"), files.map((f) => el("li", {},
    el("a", { href: `/api/runs/${id}/reports/${encodeURIComponent(f.name)}`, download: f.name }, f.name), ` (${f.bytes} bytes)`)));
}

async function refresh() {
  const [run, progress] = await Promise.all([api(`/api/runs/${id}`), api(`/api/runs/${id}/hosts`)]);
  current = run;
  request ??= await api(`/api/runs/${id}/request`);
  // A run held at a gate of its playbook says so, not "running".
  const shown = run.status === "running" ? progress.status : run.status;
  document.getElementById("run-title").textContent = request.title;
  document.title = `${request.title}: ${shown.replaceAll("_", " ")} · day2ops`;
  show(document.getElementById("run-status"), status(shown));
  show(document.getElementById("run-facts"), facts(run));
  const ended = TERMINAL.includes(run.status);
  document.getElementById("cancel").hidden = ended;
  document.getElementById("relaunch").hidden = !(ended && run.item_id && (await mayRelaunch(run)));
  show(document.getElementById("hosts"), hostsView(progress));
  await summarize(run);
  if (ended && !reportsRead) await reports();
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

let me = null;
async function mayRelaunch(run) {
  me ??= await api("/api/auth/me");
  return me.username === run.operator || me.roles.includes("admin");
}

async function relaunch(secrets) {
  try {
    const again = await api(`/api/runs/${id}/relaunch`, { method: "POST", body: { secrets } });
    location.assign(`/ui/runs/${again.id}`);
  } catch (error) {
    toast(error.message, "error");
  }
}

const relaunchForm = document.getElementById("relaunch-form");
document.getElementById("relaunch").addEventListener("click", () => {
  if (!request.secrets.length) return relaunch({});
  show(document.getElementById("relaunch-secrets"), request.secrets.map((name) => {
    const label = request.inputs.find((i) => i.name === name)?.label || name;
    return [el("label", { for: `secret-${name}` }, label), el("input", { id: `secret-${name}`, name, type: "password", autocomplete: "off" })];
  }));
  relaunchForm.hidden = false;
});
relaunchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  relaunch(Object.fromEntries(request.secrets.map((n) => [n, relaunchForm.elements[n].value]).filter(([, v]) => v)));
});

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

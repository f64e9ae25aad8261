import { api, el, empty, errorBox, show, toast, when } from "../app.js";
import { renderFields } from "../fields.js";

const box = document.getElementById("schedules");
const form = document.getElementById("schedule-form");
const itemSelect = document.getElementById("s-item");
const inputsBox = document.getElementById("s-inputs");
const error = document.getElementById("schedule-error");
let fields = null;

async function act(label, request) {
  try {
    const result = await request();
    toast(label);
    load();
    return result;
  } catch (failure) { toast(failure.message, "error"); return null; }
}

function buttons(schedule) {
  const path = `/api/schedules/${schedule.id}`;
  return [
    el("button", { type: "button", onclick: () => act(schedule.enabled ? `${schedule.name} paused.` : `${schedule.name} resumed.`,
      () => api(path, { method: "PATCH", body: { enabled: !schedule.enabled } })) }, schedule.enabled ? "Pause" : "Resume"),
    el("button", { type: "button", onclick: () => edit(schedule) }, "Edit"),
    el("button", { type: "button", onclick: async () => {
      const run = await act(`${schedule.name} started now.`, () => api(`${path}/run`, { method: "POST" }));
      if (run) window.location.href = `/ui/runs/${run.id}`;
    } }, "Run now"),
    el("button", { type: "button", class: "danger", onclick: () => {
      if (window.confirm(`Delete the schedule ${schedule.name}?`)) act(`${schedule.name} deleted.`, () => api(path, { method: "DELETE" }));
    } }, "Delete"),
  ];
}

function row(schedule) {
  // The next fire in the schedule's own zone, as the server words it; the browser's zone would mislead.
  const next = schedule.enabled ? el("span", { class: "next-fire", title: schedule.next_fire_at }, schedule.next_fire_local) : "paused";
  return el("tr", { dataset: { schedule: schedule.name } },
    el("th", { scope: "row" }, schedule.name), el("td", {}, schedule.item_id),
    el("td", {}, el("code", {}, schedule.cron), ` (${schedule.timezone})`),
    el("td", {}, next),
    el("td", {}, schedule.last_fire_at ? el("a", { href: `/ui/runs/${schedule.last_execution_id}` }, when(schedule.last_fire_at)) : "never"),
    el("td", {}, schedule.missed === "skip" ? "skip" : "run once"), el("td", {}, schedule.owner), el("td", { class: "actions" }, buttons(schedule)));
}

async function load() {
  try {
    const schedules = await api("/api/schedules");
    show(box, schedules.length
      ? el("table", {}, el("thead", {}, el("tr", {}, ["Name", "Item", "When", "Next", "Last", "Missed", "Owner", ""].map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, schedules.map(row)))
      : empty("No schedules yet. Patch windows, daily DR and weekly chargeback belong here."));
  } catch (failure) {
    show(box, errorBox(failure));
  }
}

async function pickItem(values = {}) {
  inputsBox.replaceChildren(el("legend", {}, "Fixed inputs"));
  fields = null;
  if (!itemSelect.value) return;
  const item = await api(`/api/catalog/${itemSelect.value}`);
  // Editing: the schedule's stored inputs are the fields' starting values.
  const inputs = item.inputs.map((i) => (i.name in values ? { ...i, default: values[i.name] } : i));
  fields = renderFields(inputsBox, { ...item, inputs }, { skipSecrets: true });
  if (item.inputs.some((i) => i.type === "secret")) {
    inputsBox.append(el("p", { class: "muted" }, "Secrets are never stored with a schedule: scheduled runs take them from the app's environment."));
  }
}

let editing = null;
const heading = form.querySelector("h2");
const submit = form.querySelector("button[type=submit]");

function editMode(schedule) {
  editing = schedule;
  heading.textContent = schedule ? `Edit ${schedule.name}` : "New schedule";
  submit.textContent = schedule ? "Save the schedule" : "Create the schedule";
  itemSelect.disabled = Boolean(schedule);  // a new item is a new schedule
}

async function edit(schedule) {
  editMode(schedule);
  form.name.value = schedule.name;
  form.cron.value = schedule.cron;
  form.timezone.value = schedule.timezone;
  form.missed.value = schedule.missed;
  itemSelect.value = schedule.item_id;
  await pickItem(schedule.inputs);
  form.scrollIntoView();
  form.name.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const body = {
    name: form.name.value, cron: form.cron.value, timezone: form.timezone.value,
    missed: form.missed.value, inputs: fields ? fields.values() : {},
  };
  try {
    if (editing) {
      await api(`/api/schedules/${editing.id}`, { method: "PUT", body });
      toast(`Schedule ${body.name} saved.`);
      editMode(null);
    } else {
      await api("/api/schedules", { method: "POST", body: { ...body, item_id: itemSelect.value } });
      toast(`Schedule ${body.name} created.`);
    }
    form.name.value = "";
    load();
  } catch (failure) {
    if (failure.status === 422 && fields?.showErrors(failure.body.errors)) return;
    const field = failure.body.errors?.[0];
    error.textContent = field ? `${field.field}: ${field.message}` : failure.message;
    error.hidden = false;
  }
});

api("/api/catalog").then((items) => {
  itemSelect.append(el("option", { value: "" }, "Choose…"), ...items.map((i) => el("option", { value: i.id }, i.title)));
});
itemSelect.addEventListener("change", () => pickItem());
load();

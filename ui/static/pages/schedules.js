import { api, el, empty, errorBox, show, toast, when } from "../app.js";
import { renderFields } from "../fields.js";

const box = document.getElementById("schedules");
const form = document.getElementById("schedule-form");
const itemSelect = document.getElementById("s-item");
const inputsBox = document.getElementById("s-inputs");
const error = document.getElementById("schedule-error");
let fields = null;

function row(schedule) {
  const toggle = el("button", { type: "button", onclick: async () => {
    try {
      await api(`/api/schedules/${schedule.id}`, { method: "PATCH", body: { enabled: !schedule.enabled } });
      load();
    } catch (failure) { toast(failure.message, "error"); }
  } }, schedule.enabled ? "Pause" : "Resume");
  return el("tr", { dataset: { schedule: schedule.name } },
    el("th", { scope: "row" }, schedule.name), el("td", {}, schedule.item_id),
    el("td", {}, el("code", {}, schedule.cron), ` (${schedule.timezone})`),
    el("td", {}, schedule.enabled ? when(schedule.next_fire_at) : "paused"),
    el("td", {}, schedule.last_fire_at ? el("a", { href: `/ui/runs/${schedule.last_execution_id}` }, when(schedule.last_fire_at)) : "never"),
    el("td", {}, schedule.missed === "skip" ? "skip" : "run once"), el("td", {}, schedule.owner), el("td", {}, toggle));
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

async function pickItem() {
  inputsBox.replaceChildren(el("legend", {}, "Fixed inputs"));
  fields = null;
  if (!itemSelect.value) return;
  const item = await api(`/api/catalog/${itemSelect.value}`);
  fields = renderFields(inputsBox, item, { skipSecrets: true });
  if (item.inputs.some((i) => i.type === "secret")) {
    inputsBox.append(el("p", { class: "muted" }, "Secrets are never stored with a schedule: scheduled runs take them from the app's environment."));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const body = {
    name: form.name.value, item_id: itemSelect.value, cron: form.cron.value, timezone: form.timezone.value,
    missed: form.missed.value, inputs: fields ? fields.values() : {},
  };
  try {
    await api("/api/schedules", { method: "POST", body });
    toast(`Schedule ${body.name} created.`);
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
itemSelect.addEventListener("change", pickItem);
load();

import { api, el, errorBox, show, toast } from "../app.js";
import { renderFields } from "../fields.js";

const head = document.getElementById("item");
const form = document.getElementById("run-form");
const formError = document.getElementById("form-error");
const previewBox = document.getElementById("preview");
const previewBody = document.getElementById("preview-body");
const itemId = head.dataset.itemId;

function previewTable(result) {
  if (result.count === null) return el("p", { class: "muted" }, "This item does not work on a set of VMs.");
  if (!result.count) return el("p", { class: "empty" }, "No VM matches: the run would do nothing.");
  const rows = result.vms.map((vm) => el("tr", {}, el("td", {}, vm.name), el("td", {}, vm.power_state)));
  return [
    el("p", { class: "count" }, el("strong", { id: "preview-count" }, String(result.count)), result.count === 1 ? " VM" : " VMs"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "VM"), el("th", { scope: "col" }, "power"))), el("tbody", {}, rows)),
    result.count > result.vms.length ? el("p", { class: "muted" }, `and ${result.count - result.vms.length} more`) : null,
  ];
}

async function main() {
  let item;
  try {
    item = await api(`/api/catalog/${encodeURIComponent(itemId)}`);
  } catch (error) {
    show(head, errorBox(error));
    return;
  }
  document.title = `${item.title} · day2ops`;
  show(head,
    el("h1", {}, item.title),
    el("p", {}, item.description),
    item.approval.required
      ? el("p", { class: "notice" }, `Needs ${item.approval.required} approval from ${item.approval.group || item.approval.users.join(", ")} before it runs. You cannot approve your own request.`)
      : null);
  const fields = renderFields(document.getElementById("fields"), item);
  document.getElementById("submit").textContent = item.approval.required ? "Ask for approval" : "Run";
  form.hidden = false;
  const scoped = Boolean(item.inventory || item.scope);
  previewBox.hidden = !scoped;
  document.getElementById("preview-button").hidden = !scoped;

  async function preview() {
    show(previewBody, el("p", { class: "muted" }, "Asking Prism…"));
    try {
      const result = await api(`/api/catalog/${item.id}/preview`, { method: "POST", body: { inputs: fields.values() } });
      fields.clearErrors();
      show(previewBody, previewTable(result));
    } catch (error) {
      if (error.status === 422 && error.body.errors) {
        const missing = error.body.errors.map((e) => e.field).join(", ");
        show(previewBody, el("p", { class: "muted" }, `Fill in ${missing} to see the VMs in scope.`));
      } else show(previewBody, errorBox(error));
    }
  }
  document.getElementById("preview-button").addEventListener("click", preview);
  if (scoped) fields.onChange(() => { clearTimeout(preview.timer); preview.timer = setTimeout(preview, 400); });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.hidden = true;
    const button = document.getElementById("submit");
    button.disabled = true;
    try {
      const execution = await api("/api/runs", { method: "POST", body: { item_id: item.id, inputs: fields.values() } });
      toast(execution.status === "pending_approval" ? "Sent for approval." : "Started.");
      location.assign(`/ui/runs/${execution.id}`);
    } catch (error) {
      button.disabled = false;
      if (error.status === 422 && fields.showErrors(error.body.errors)) return;
      formError.textContent = error.message;
      formError.hidden = false;
    }
  });
}

main();

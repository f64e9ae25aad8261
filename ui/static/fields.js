// A catalog item's typed inputs as form fields: labels, hints, live choices from Prism, and an error
// slot per field for the API's per-field messages. Used by the run form and the schedule form.
import { api, el, when } from "./app.js";

// A choice list longer than this gets a search box: 300 VMs are not found by scrolling.
const SEARCH_FROM = 12;

// A recovery point's label gives its creation time in UTC; the reader sees their own time instead.
function choiceLabel(choice) {
  if (!choice.created) return choice.label;
  const utc = `${new Date(choice.created).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return choice.label.replace(utc, when(choice.created));
}

// The options that match the search words (all when there are none), keeping what is chosen already.
function choiceOptions(select, choices, current, required) {
  select.choiceList = choices;
  const words = (select.searchBox?.value || "").trim().toLowerCase().split(/\s+/).filter(Boolean);
  const chosen = new Set(current);
  const shown = choices.filter((c) => chosen.has(c.value) || words.every((w) => choiceLabel(c).toLowerCase().includes(w)));
  const options = shown.map((c) => el("option", { value: c.value, selected: chosen.has(c.value) }, choiceLabel(c)));
  if (!select.multiple) options.unshift(el("option", { value: "" }, required ? "Choose…" : "(none)"));
  select.replaceChildren(...options);
  if (select.searchBox) {
    select.searchBox.closest(".choice-search").hidden = choices.length < SEARCH_FROM;
    select.searchStatus.textContent = words.length ? `${shown.length} of ${choices.length} match` : `${choices.length} to choose from`;
  }
  return shown;
}

function chosenValues(select) {
  return [...select.selectedOptions].map((o) => o.value).filter(Boolean);
}

// A labelled search field that narrows the select's options as one types; Enter or the down arrow moves
// to the list, and a search that leaves one choice picks it (a change, as if picked by hand).
// Its name is "Search" and the list's label its description: a name holding the list's label would make
// the label name two fields.
function searchFor(select, id) {
  const box = el("input", { type: "search", id: `${id}-search`, "aria-controls": id, "aria-describedby": `${id}-label ${id}-search-status`, autocomplete: "off" });
  const status = el("small", { id: `${id}-search-status`, class: "muted", "aria-live": "polite" });
  select.searchBox = box;
  select.searchStatus = status;
  box.addEventListener("input", () => {
    const before = select.value;
    const shown = choiceOptions(select, select.choiceList || [], chosenValues(select), select.required);
    const only = shown.length === 1 && !select.multiple ? shown[0].value : null;
    if (only && select.value !== only) select.value = only;
    if (select.value !== before) select.dispatchEvent(new Event("change"));
  });
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== "ArrowDown") return;
    event.preventDefault();
    select.focus();
  });
  return el("div", { class: "choice-search", hidden: true }, el("label", { for: box.id }, "Search"), box, status);
}

function where(input) {
  return input.choices_from?.source === "waves" ? "The wave file" : "Prism";
}

export function renderFields(container, item, { skipSecrets = false } = {}) {
  const controls = new Map();
  const errors = new Map();
  const loaders = [];
  const inputs = item.inputs.filter((input) => !(skipSecrets && input.type === "secret"));

  for (const input of inputs) {
    const id = `in-${input.name}`;
    const hint = input.description ? el("small", { id: `${id}-hint`, class: "muted" }, input.description) : null;
    const error = el("p", { id: `${id}-error`, class: "field-error", role: "alert", hidden: true });
    const described = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" ");
    let control;
    let search = null;
    if (input.type === "boolean") {
      control = el("input", { type: "checkbox", id, name: input.name, checked: input.default === true, "aria-describedby": described });
    } else if (input.type === "choice" || input.type === "multi_choice") {
      control = el("select", { id, name: input.name, multiple: input.type === "multi_choice", required: input.required, "aria-describedby": described });
      search = searchFor(control, id);
      const initial = input.default === null || input.default === undefined ? [] : [].concat(input.default).map(String);
      if (input.choices_from) {
        control.append(el("option", { value: "" }, "Loading…"));
        const load = async () => {
          const parentInput = input.choices_from.depends_on;
          let path = `/api/catalog/${item.id}/choices/${input.name}`;
          if (parentInput) {
            const parent = controls.get(parentInput)?.value;
            if (!parent) {
              control.replaceChildren(el("option", { value: "" }, `Choose the ${parentInput} first`));
              return;
            }
            path += `?parent=${encodeURIComponent(parent)}`;
          }
          try {
            const choices = await api(path);
            choiceOptions(control, choices, initial, input.required);
            if (!choices.length) control.replaceChildren(el("option", { value: "" }, `${where(input)} has none`));
          } catch (failure) {
            control.replaceChildren(el("option", { value: "" }, `${where(input)} did not answer`));
            error.textContent = failure.message;
            error.hidden = false;
          }
        };
        loaders.push(load);
        if (input.choices_from.depends_on) {
          queueMicrotask(() => controls.get(input.choices_from.depends_on)?.addEventListener("change", load));
        }
      } else {
        choiceOptions(control, input.choices.map((c) => ({ value: c, label: c || "(default)" })), initial, input.required);
      }
    } else {
      const type = input.type === "integer" ? "number" : input.type === "secret" ? "password" : "text";
      control = el("input", {
        type, id, name: input.name, required: input.required, "aria-describedby": described,
        value: input.default ?? undefined,
        min: input.type === "integer" ? input.min ?? undefined : undefined,
        max: input.type === "integer" ? input.max ?? undefined : undefined,
        maxlength: input.type === "string" && input.max ? input.max : undefined,
        autocomplete: input.type === "secret" ? "off" : undefined,
      });
    }
    controls.set(input.name, control);
    errors.set(input.name, error);
    const label = el("label", { for: id, id: `${id}-label` }, input.label, input.required ? el("span", { class: "req", "aria-hidden": "true" }, " *") : null);
    const wrapper = el("div", { class: `field field-${input.type}`, dataset: { field: input.name } });
    const parts = input.type === "boolean" ? [el("div", { class: "check" }, control, label), hint, error] : [label, search, control, hint, error];
    wrapper.append(...parts.filter(Boolean));
    container.append(wrapper);
  }
  loaders.forEach((load) => load());

  return {
    values() {
      const values = {};
      for (const input of inputs) {
        const control = controls.get(input.name);
        if (input.type === "boolean") values[input.name] = control.checked;
        else if (input.type === "multi_choice") values[input.name] = chosenValues(control);
        else if (control.value === "") continue;
        else if (input.type === "integer") values[input.name] = Number(control.value);
        else values[input.name] = control.value;
      }
      return values;
    },
    showErrors(list) {
      this.clearErrors();
      let first = null;
      for (const { field, message } of list || []) {
        const slot = errors.get(field.replace(/^inputs\./, ""));
        if (!slot) continue;
        slot.textContent = message;
        slot.hidden = false;
        const control = controls.get(field.replace(/^inputs\./, ""));
        control.setAttribute("aria-invalid", "true");
        first ??= control;
      }
      first?.focus();
      return first !== null;
    },
    clearErrors() {
      for (const [name, slot] of errors) {
        slot.hidden = true;
        slot.textContent = "";
        controls.get(name).removeAttribute("aria-invalid");
      }
    },
    onChange(handler) {
      for (const control of controls.values()) control.addEventListener("change", handler);
    },
  };
}

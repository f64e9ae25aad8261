// A catalog item's typed inputs as form fields: labels, hints, live choices from Prism, and an error
// slot per field for the API's per-field messages. Used by the run form and the schedule form.
import { api, el } from "./app.js";

function choiceOptions(select, choices, current, required) {
  const options = choices.map((c) => el("option", { value: c.value, selected: current.includes(c.value) }, c.label));
  if (!select.multiple) options.unshift(el("option", { value: "" }, required ? "Choose…" : "(none)"));
  select.replaceChildren(...options);
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
    if (input.type === "boolean") {
      control = el("input", { type: "checkbox", id, name: input.name, checked: input.default === true, "aria-describedby": described });
    } else if (input.type === "choice" || input.type === "multi_choice") {
      control = el("select", { id, name: input.name, multiple: input.type === "multi_choice", required: input.required, "aria-describedby": described });
      const initial = input.default === null || input.default === undefined ? [] : [].concat(input.default).map(String);
      if (input.choices_from) {
        control.append(el("option", { value: "" }, "Loading from Prism…"));
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
            if (!choices.length) control.replaceChildren(el("option", { value: "" }, "Prism has none"));
          } catch (failure) {
            control.replaceChildren(el("option", { value: "" }, "Prism did not answer"));
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
    const label = el("label", { for: id }, input.label, input.required ? el("span", { class: "req", "aria-hidden": "true" }, " *") : null);
    const wrapper = el("div", { class: `field field-${input.type}`, dataset: { field: input.name } });
    const parts = input.type === "boolean" ? [el("div", { class: "check" }, control, label), hint, error] : [label, control, hint, error];
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
        else if (input.type === "multi_choice") values[input.name] = [...control.selectedOptions].map((o) => o.value).filter(Boolean);
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

import { api, el, empty, errorBox, show } from "../app.js";

const box = document.getElementById("catalog");
const search = document.getElementById("catalog-search");
let items = [];

function card(item) {
  const badges = [
    item.destructive ? el("span", { class: "tag tag-warn" }, "changes VMs") : null,
    item.approval.required ? el("span", { class: "tag" }, `${item.approval.required} approval from ${item.approval.group || item.approval.users.join(", ")}`) : null,
  ];
  return el("li", { class: "item card" },
    el("h3", {}, el("a", { href: `/ui/items/${item.id}` }, item.title)),
    el("p", {}, item.description),
    el("div", { class: "tags" }, badges));
}

function render() {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = items.filter((item) => {
    const text = `${item.title} ${item.description} ${item.group}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  if (!items.length) return show(box, empty("Nothing in the catalog for your roles. An admin can give you the operator role."));
  if (!shown.length) return show(box, empty(`Nothing matches “${search.value}”.`));
  const groups = Map.groupBy ? Map.groupBy(shown, (i) => i.group) : shown.reduce((m, i) => m.set(i.group, [...(m.get(i.group) || []), i]), new Map());
  show(box, [...groups].map(([group, list]) =>
    el("section", { class: "group" }, el("h2", {}, group), el("ul", { class: "items" }, list.map(card)))));
}

search.addEventListener("input", render);
api("/api/catalog")
  .then((list) => { items = list; render(); })
  .catch((error) => show(box, errorBox(error)));

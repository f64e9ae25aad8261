import { api, el, empty, errorBox, show } from "../app.js";

const box = document.getElementById("chargeback");
const metric = document.getElementById("metric");
const money = (value, currency) => `${Number(value).toFixed(2)} ${currency}`;

function table(report) {
  const head = ["VMs", "powered on", "vCPU", "memory GiB", "storage GiB", `cost (${report.currency})`];
  return el("table", { class: "numbers" },
    el("caption", {}, `Per ${report.key}, ${report.date}`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, report.key), head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, report.groups.map((g) => el("tr", {},
      el("th", { scope: "row" }, g.group), el("td", {}, g.vms), el("td", {}, g.powered_on), el("td", {}, g.vcpus),
      el("td", {}, g.memory_gib.toFixed(2)), el("td", {}, g.storage_gib.toFixed(2)), el("td", {}, g.cost.total.toFixed(2))))),
    el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, "Total"), el("td", {}, report.totals.vms), el("td", {}, report.totals.powered_on),
      el("td", {}, report.totals.vcpus), el("td", {}, report.totals.memory_gib.toFixed(2)), el("td", {}, report.totals.storage_gib.toFixed(2)),
      el("td", {}, report.totals.cost.total.toFixed(2)))));
}

async function load() {
  try {
    const data = await api(`/api/reports/chargeback?metric=${metric.value}`);
    if (!data.report) {
      show(box, empty("No chargeback report yet."), el("p", {}, el("a", { href: "/ui/items/chargeback" }, "Run the chargeback report"), " or schedule it weekly."));
      return;
    }
    const report = data.report;
    const chart = el("figure", { class: "chart card" });
    // The SVG comes from the collection's trend_svg filter, which escapes every text it draws.
    chart.innerHTML = data.chart_svg;
    chart.append(el("figcaption", {}, `${metric.selectedOptions[0].text} per ${report.key}, one point per run`));
    const untagged = report.untagged?.length
      ? el("section", { class: "card warn" }, el("h2", {}, `${report.untagged.length} VMs without a ${report.key}`),
          el("p", {}, "Nobody pays for these: tag them."), el("ul", { class: "columns-list" }, report.untagged.slice(0, 60).map((vm) => el("li", {}, vm.name || vm))))
      : el("p", { class: "ok" }, `Every VM has a ${report.key}.`);
    show(box,
      el("p", { class: "lead" }, `${report.totals.vms} VMs, ${money(report.totals.cost.total, report.currency)} a month`),
      chart, el("section", { class: "card" }, table(report)), untagged);
  } catch (error) {
    show(box, errorBox(error));
  }
}

metric.addEventListener("change", load);
load();

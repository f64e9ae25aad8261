import { api, el, empty, errorBox, show } from "../app.js";

const box = document.getElementById("chargeback");
const metric = document.getElementById("metric");
const runSelect = document.getElementById("run");
const downloads = document.getElementById("downloads");
const money = (value, currency) => `${Number(value).toFixed(2)} ${currency}`;
const cells = (row) => [row.vms, row.powered_on, row.vcpus, row.memory_gib.toFixed(2), row.storage_gib.toFixed(2), row.cost.total.toFixed(2)]
  .map((value) => el("td", {}, value));

function table(report, rows) {
  const head = ["VMs", "powered on", "vCPU", "memory GiB", "storage GiB", `cost (${report.currency})`];
  return el("table", { class: "numbers" },
    el("caption", {}, `Per ${report.key}, ${report.date}`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, report.key), head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", { class: row.group === "(untagged)" ? "untagged" : "" },
      el("th", { scope: "row" }, row.group === "(untagged)" ? `untagged (no ${report.key})` : row.group), cells(row)))),
    el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, "Total"), cells(report.totals))));
}

function untaggedList(report) {
  if (!report.untagged?.length) return el("p", { class: "ok" }, `Every VM has a ${report.key}.`);
  const owner = (vm) => vm.owner || (vm.owner_ext_id ? el("code", { title: "the owner Prism records (ownershipInfo)" }, vm.owner_ext_id) : "unknown");
  return el("section", { class: "card warn" }, el("h2", {}, `${report.untagged.length} VMs without a ${report.key}`),
    el("p", {}, "Charged in the untagged row; their owners, please tag them."),
    el("table", { class: "untagged-vms" },
      el("thead", {}, el("tr", {}, ["VM", "cluster", "owner", "power"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, report.untagged.slice(0, 200).map((vm) => el("tr", {},
        el("th", { scope: "row", title: vm.ext_id }, vm.name), el("td", {}, vm.cluster || ""), el("td", {}, owner(vm)), el("td", {}, vm.power_state || ""))))));
}

function choices(runs, chosen) {
  runSelect.replaceChildren(...runs.map((r) => el("option", { value: r.run, selected: r.run === chosen },
    `${r.week} · ${r.date} · by ${r.key} · ${money(r.total, r.currency)}`)));
  const run = runs.find((r) => r.run === chosen);
  downloads.replaceChildren(
    el("a", { class: "button", href: `/api/reports/chargeback/${chosen}.csv`, download: "" }, "Download CSV"),
    run?.html ? el("a", { class: "button", href: `/api/reports/chargeback/${chosen}.html`, download: "" }, "Download HTML") : "");
}

async function load() {
  try {
    const query = new URLSearchParams({ metric: metric.value });
    if (runSelect.value) query.set("run", runSelect.value);
    const data = await api(`/api/reports/chargeback?${query}`);
    if (!data.report) {
      show(box, empty("No chargeback report yet."), el("p", {}, el("a", { href: "/ui/items/chargeback" }, "Run the chargeback report"), " or schedule it weekly."));
      return;
    }
    choices(data.runs, data.run);
    const report = data.report;
    const chart = el("figure", { class: "chart card" });
    // The SVG comes from the collection's trend_svg filter, which escapes every text it draws.
    chart.innerHTML = data.chart_svg;
    chart.append(el("figcaption", {}, `${metric.selectedOptions[0].text} per ${report.key}, one point per run grouped by ${report.key}`));
    const twice = report.estate && report.estate.vms !== report.totals.vms
      ? el("p", { class: "muted" }, `${report.estate.vms} VMs; some carry two values of ${report.key} and are charged to each.`) : "";
    show(box,
      el("p", { class: "lead" }, `${report.estate?.vms ?? report.totals.vms} VMs, ${money(report.totals.cost.total, report.currency)} a month`),
      twice, chart, el("section", { class: "card" }, table(report, data.rows)), untaggedList(report));
  } catch (error) {
    show(box, errorBox(error));
  }
}

metric.addEventListener("change", load);
runSelect.addEventListener("change", load);
load();

"""The chargeback report in the app: runs by week and grouping, CSV and HTML downloads, rows that add up
to the totals, the owners of untagged VMs, the trend per grouping, and the rate card from the form."""

import csv
import io
import json

import pytest
import requests
from app_process import start_app

RATES = {"currency": "EUR", "rate_vcpu": "10", "rate_memory_gib": "2", "rate_storage_gib": "0.5"}


@pytest.fixture(scope="module")
def app(sim_process, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("chargeback")
    app = start_app(sim_process, workdir, f"sqlite:///{workdir / 'audit.db'}")
    yield app
    app.stop()


def _run(client, **inputs):
    execution = client.wait(client.run("chargeback", **inputs)["id"])
    assert execution["status"] == "successful", execution
    return execution


def _an_earlier_week(app, report):
    """A run from a week before, as the role would have left it (a schedule's last Monday)."""
    directory = app.workdir / "data" / "state" / "chargeback"
    earlier = dict(report, date="2020-01-06", currency="USD")
    (directory / "chargeback-2020-01-06-Department.json").write_text(json.dumps(earlier))
    return "chargeback-2020-01-06-Department"


def test_the_weekly_report_by_run(app, sim_process):
    olivia = app.client("olivia")
    assert olivia.get("/api/reports/chargeback").json()["report"] is None
    _run(olivia, group_by="Department", **RATES)
    data = olivia.get("/api/reports/chargeback").json()
    report, rows = data["report"], data["rows"]
    # The rows, the untagged one last, add up to the totals.
    assert rows[-1]["group"] == "(untagged)" and rows[-1]["vms"] == len(report["untagged"]) > 0
    for name in ("vms", "vcpus", "memory_gib", "storage_gib"):
        assert round(sum(r[name] for r in rows), 2) == report["totals"][name], name
    assert round(sum(r["cost"]["total"] for r in rows), 2) == report["totals"]["cost"]["total"]
    # Every untagged VM with the owner Prism records for it.
    vms, _ = sim_process.estate()
    owners = {vm["extId"]: vm["ownershipInfo"]["owner"]["extId"] for vm in vms}
    assert all(u["owner_ext_id"] == owners[u["ext_id"]] for u in report["untagged"])
    # The rate card from the form prices the run: 10 EUR a vCPU.
    assert report["currency"] == "EUR"
    assert all(r["cost"]["vcpu"] == r["vcpus"] * 10 for r in rows)
    department = data["run"]

    # A run by Environment is a run of its own; the Department one stays, and each has its own trend.
    _run(olivia, group_by="Environment", **{**RATES, "rate_vcpu": "20"})
    data = olivia.get("/api/reports/chargeback").json()
    assert data["report"]["key"] == "Environment" and data["run"] != department
    assert {r["key"] for r in data["runs"]} == {"Department", "Environment"}
    assert {t["key"] for t in data["trend"]} == {"Environment"}
    assert all(g["group"] in data["chart_svg"] for g in data["report"]["groups"])
    assert "Finance" not in data["chart_svg"]  # a Department value
    assert all(r["cost"]["vcpu"] == r["vcpus"] * 20 for r in data["rows"])
    chosen = olivia.get("/api/reports/chargeback", params={"run": department}).json()
    assert chosen["report"] == report and {t["key"] for t in chosen["trend"]} == {"Department"}

    # Runs by week: an earlier week's run is listed, with its ISO week, and can be chosen.
    earlier = _an_earlier_week(app, report)
    runs = olivia.get("/api/reports/chargeback").json()["runs"]
    assert runs[-1] == {**runs[-1], "run": earlier, "week": "2020-W02", "currency": "USD"}
    assert (
        olivia.get("/api/reports/chargeback", params={"run": earlier}).json()["report"]["date"]
        == "2020-01-06"
    )
    assert olivia.get("/api/reports/chargeback", params={"run": "../../audit"}).status_code == 422
    assert olivia.get("/api/reports/chargeback", params={"run": "chargeback-2019-01-01"}).status_code == 404


def test_downloads_match_the_report_and_are_safe(app):
    olivia = app.client("olivia")
    data = olivia.get("/api/reports/chargeback").json()
    run = next(r["run"] for r in data["runs"] if r["key"] == "Department" and r["html"])
    report = olivia.get("/api/reports/chargeback", params={"run": run}).json()
    r = olivia.get(f"/api/reports/chargeback/{run}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="{run}.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["group"] for row in rows] == [row["group"] for row in report["rows"]]
    assert [float(row["cost"]) for row in rows] == [row["cost"]["total"] for row in report["rows"]]
    html = olivia.get(f"/api/reports/chargeback/{run}.html")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert "(untagged)" in html.text and f"{report['report']['totals']['cost']['total']:.2f}" in html.text
    # Not without a session.
    assert requests.get(f"{app.url}/api/reports/chargeback/{run}.csv", timeout=30).status_code == 401
    # A Category value a spreadsheet would run is plain text in the CSV.
    directory = app.workdir / "data" / "state" / "chargeback"
    evil = dict(report["report"], groups=[dict(report["rows"][0], group='=HYPERLINK("http://x")')])
    (directory / "chargeback-2020-02-03-Department.json").write_text(json.dumps(evil))
    text = olivia.get("/api/reports/chargeback/chargeback-2020-02-03-Department.csv").text
    assert next(csv.DictReader(io.StringIO(text)))["group"] == '\'=HYPERLINK("http://x")'

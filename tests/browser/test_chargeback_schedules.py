"""Chargeback as a weekly report and schedules from the UI: the week picker, CSV and HTML downloads,
the untagged row, and a schedule edited, run now and deleted, its next run in its own time zone."""

import csv
import io
import re
from pathlib import Path

import pytest
from app_process import start_app
from conftest import screenshot
from playwright.sync_api import expect


def berlin(day, time):
    """The next run as the schedule's own clock shows it, "Mon 7 Dec 2026 07:00 CET (Europe/Berlin)"."""
    return re.compile(rf"^{day} \d+ \w+ \d{{4}} {time} CES?T \(Europe/Berlin\)$")


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}")
    yield app
    app.stop()


def run_chargeback(page, app, group_by, vcpu):
    page.goto(f"{app.url}/ui/items/chargeback")
    page.get_by_label("Group by Category").select_option(group_by)
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Price of a vCPU per month").fill(vcpu)
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#run-status")).to_have_text("successful", timeout=120_000)


def test_chargeback_weeks_downloads_and_untagged_row(app, new_page):
    olivia = new_page(app, "olivia")
    run_chargeback(olivia, app, "Department", "10")
    run_chargeback(olivia, app, "Environment", "20")
    olivia.goto(f"{app.url}/ui/chargeback")
    runs = app.client("olivia").get("/api/reports/chargeback").json()["runs"]
    expect(olivia.locator("#run option")).to_have_count(len(runs))
    expect(olivia.locator("table.numbers caption")).to_contain_text("Per Environment")
    # The week picker: the Department run, its rows, the untagged one last, and its owners.
    department = next(r for r in runs if r["key"] == "Department")
    olivia.locator("#run").select_option(department["run"])
    expect(olivia.locator("table.numbers caption")).to_contain_text("Per Department")
    data = app.client("olivia").get("/api/reports/chargeback", params={"run": department["run"]}).json()
    rows = olivia.locator("table.numbers tbody tr")
    expect(rows).to_have_count(len(data["rows"]))
    expect(rows.last).to_contain_text("untagged (no Department)")
    expect(olivia.locator("table.numbers tfoot")).to_contain_text(
        f"{data['report']['totals']['cost']['total']:.2f}"
    )
    expect(olivia.locator("table.untagged-vms tbody tr")).to_have_count(len(data["report"]["untagged"]))
    owner = data["report"]["untagged"][0]["owner_ext_id"]
    expect(olivia.locator("table.untagged-vms tbody tr").first).to_contain_text(owner)
    screenshot(olivia, "chargeback-weekly")
    with olivia.expect_download() as csv_download:
        olivia.get_by_role("link", name="Download CSV").click()
    text = Path(csv_download.value.path()).read_text()
    assert [r["group"] for r in csv.DictReader(io.StringIO(text))] == [r["group"] for r in data["rows"]]
    with olivia.expect_download() as html_download:
        olivia.get_by_role("link", name="Download HTML").click()
    assert "(untagged)" in Path(html_download.value.path()).read_text()


def test_schedule_edit_run_now_delete_and_time_zone(app, new_page):
    olivia = new_page(app, "olivia")
    olivia.goto(f"{app.url}/ui/schedules")
    olivia.get_by_label("Name").fill("weekly chargeback")
    olivia.get_by_label("Catalog item").select_option("chargeback")
    olivia.get_by_label("Cron").fill("0 7 * * mon")
    olivia.get_by_label("Time zone").fill("Europe/Berlin")
    olivia.get_by_role("button", name="Create the schedule").click()
    row = olivia.locator('tr[data-schedule="weekly chargeback"]')
    expect(row.locator(".next-fire")).to_have_text(berlin("Mon", "07:00"))
    # Edit: a new name and time; the row follows.
    row.get_by_role("button", name="Edit").click()
    olivia.get_by_label("Name").fill("chargeback Tuesday")
    olivia.get_by_label("Cron").fill("30 6 * * tue")
    olivia.get_by_role("button", name="Save the schedule").click()
    row = olivia.locator('tr[data-schedule="chargeback Tuesday"]')
    expect(row.locator(".next-fire")).to_have_text(berlin("Tue", "06:30"))
    screenshot(olivia, "schedules-edit")
    # Run now opens the run it started.
    row.get_by_role("button", name="Run now").click()
    expect(olivia).to_have_url(re.compile(r"/ui/runs/"))
    expect(olivia.locator("#run-status")).to_have_text("successful", timeout=120_000)
    olivia.goto(f"{app.url}/ui/schedules")
    olivia.once("dialog", lambda dialog: dialog.accept())
    olivia.locator('tr[data-schedule="chargeback Tuesday"]').get_by_role("button", name="Delete").click()
    expect(olivia.locator("#schedules")).to_contain_text("No schedules yet")

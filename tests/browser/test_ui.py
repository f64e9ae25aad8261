"""The UI in a real browser against the real app and simulator: what an operator and an approver do."""

import csv
import io
import re

import pytest
from app_process import start_app, start_patch_lab_app
from conftest import screenshot
from playwright.sync_api import expect

BROKEN = "hr-portal-tst-app-141"
SCOPE = {"hr-wiki-tst-app-036", "hr-portal-tst-app-071", BROKEN}  # HR, Test, App in the demo estate


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}")
    yield app
    app.stop()


def fill_safe_patch(page, app):
    page.goto(f"{app.url}/ui/")
    page.get_by_label("Search the catalog").fill("patch safely")
    expect(page.locator(".item")).to_have_count(1)
    page.get_by_role("link", name="Patch VMs safely").click()
    # The dropdowns fill from Prism; the form then previews the VMs in scope.
    expect(page.locator("#in-department option", has_text="HR")).to_have_count(1)
    page.get_by_label("Department").select_option("HR")
    page.get_by_label("Environment").select_option("Test")
    page.get_by_label("Application tier").select_option("App")
    page.get_by_label("VMs per batch").fill("3")


@pytest.fixture
def lab_app(sim, sshd, tmp_path):
    """The app set up to patch for real over the loopback sshd. Asked for before new_page, so its pages
    close before it stops (an open run page would report the refused reconnects)."""
    app = start_patch_lab_app(sim, sshd, tmp_path)
    yield app
    app.stop()


def test_operator_patches_approver_approves_run_completes_with_evidence(sim, lab_app, new_page):
    app = lab_app
    sim.control("POST", f"guests/{sim.vm(BROKEN)['extId']}", {"break_next_patch": True})
    olivia = new_page(app, "olivia")
    fill_safe_patch(olivia, app)
    expect(olivia.locator("#preview-count")).to_have_text("3")
    expect(olivia.locator("#preview-body tbody tr")).to_have_count(3)
    assert set(olivia.locator("#preview-body tbody td:first-child").all_inner_texts()) == SCOPE
    screenshot(olivia, "form-safe-patch")
    olivia.get_by_role("button", name="Ask for approval").click()
    olivia.wait_for_url(re.compile(r".*/ui/runs/[^/]+$"))
    execution_id = olivia.url.rsplit("/", 1)[1]
    expect(olivia.locator("#run-status")).to_have_text("pending approval")

    alex = new_page(app, "alex")
    expect(alex.locator("#approvals-count")).to_have_text("1")
    alex.get_by_role("link", name=re.compile("Approvals")).click()
    request = alex.locator("article[data-gate]").filter(has_text="Patch VMs safely")
    expect(request).to_contain_text("Requested by olivia")
    expect(request).to_contain_text("Department")
    expect(request.locator(".scope")).to_contain_text("3 VMs in scope")
    screenshot(alex, "approvals")
    request.get_by_label("Comment").fill("window ok, CHG0042")
    request.get_by_role("button", name="Approve").click()
    expect(alex.locator("#inbox")).to_contain_text("Nothing waits for you")

    # The operator's page follows the run live: per-VM rows, steps, Prism task links.
    expect(olivia.locator("#run-status")).to_have_text(re.compile("successful|failed"), timeout=300_000)
    rows = olivia.locator("table.hosts tbody tr")
    expect(rows).to_have_count(3)
    assert {r.get_attribute("data-host") for r in rows.all()} == SCOPE
    broken = olivia.locator(f'tr[data-host="{BROKEN}"]')
    expect(broken.locator(".step", has_text="Revert")).not_to_have_count(0)
    expect(olivia.locator("#approvals")).to_contain_text("alex approved")
    expect(olivia.locator("#approvals")).to_contain_text("window ok, CHG0042")
    shown_tasks = set(olivia.locator("table.hosts a.task").all_text_contents())
    screenshot(olivia, "run-safe-patch")

    with olivia.expect_download() as download:
        olivia.get_by_role("link", name="Evidence (CSV)").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    exported_tasks = {t for row in exported for t in row["task_ext_ids"].split()}
    evidence = app.client("olivia").get(f"/api/runs/{execution_id}/evidence").json()
    assert exported_tasks == set(evidence["task_ext_ids"]) and exported_tasks
    assert shown_tasks == exported_tasks
    assert {row["host"] for row in exported} == SCOPE
    assert all("approve by alex" in row["approvals"] for row in exported)


def test_a_rejected_request_never_runs(app, sim, new_page):
    olivia = new_page(app, "olivia")
    olivia.goto(f"{app.url}/ui/items/dr_drill")
    vm = olivia.locator("#in-vm option").nth(1)
    expect(vm).to_be_attached()
    olivia.get_by_label("Production VM").select_option(index=1)
    expect(olivia.locator("#in-recovery_points")).to_contain_text("Prism has none")
    olivia.get_by_role("button", name="Ask for approval").click()
    # Required multi-choice left empty: the API's message shows under that field, nothing submitted.
    error = olivia.locator("#in-recovery_points-error")
    expect(error).to_be_visible()
    expect(olivia.locator("#in-recovery_points")).to_have_attribute("aria-invalid", "true")
    assert app.client("olivia").get("/api/runs").json() == []

    # With a recovery point to drill, the request goes to the DR approvers.
    vm_ext_id = olivia.get_by_label("Production VM").input_value()
    r = sim.api(
        "POST",
        "/api/dataprotection/v4.0/config/recovery-points",
        json={"name": "before-the-drill", "vmRecoveryPoints": [{"vmExtId": vm_ext_id}]},
    )
    sim.wait_task(r.json()["data"]["extId"])
    olivia.reload()
    olivia.get_by_label("Production VM").select_option(vm_ext_id)
    # The placeholder "Prism has none" is an option too: wait for the point itself, not for any one option.
    expect(olivia.locator("#in-recovery_points option")).to_have_count(1)
    expect(olivia.locator("#in-recovery_points option")).to_contain_text(["before-the-drill"])
    olivia.get_by_label("Recovery points to drill").select_option(index=0)
    olivia.get_by_role("button", name="Ask for approval").click()
    olivia.wait_for_url(re.compile(r".*/ui/runs/[^/]+$"))
    execution_id = olivia.url.rsplit("/", 1)[1]

    alex = new_page(app, "alex")
    alex.goto(f"{app.url}/ui/approvals")
    request = alex.locator("article[data-gate]")
    expect(request).to_have_count(1)
    request.get_by_label("Comment").fill("not during the freeze")
    request.get_by_role("button", name="Reject").click()
    expect(alex.locator("#decided")).to_contain_text("not during the freeze")

    olivia.reload()
    expect(olivia.locator("#run-status")).to_have_text("rejected")
    expect(olivia.locator("#hosts")).to_contain_text("touched no VM")
    assert app.client("olivia").get(f"/api/runs/{execution_id}/events").json() == []
    olivia.goto(f"{app.url}/ui/history?status=rejected")
    expect(olivia.locator("table.runs tbody tr")).to_have_count(1)
    expect(olivia.locator("#chain")).to_contain_text("Audit chain intact")
    screenshot(olivia, "history")


def test_login_is_required_and_returns_to_the_page(app, new_page):
    page = new_page(app, None)
    page.goto(f"{app.url}/ui/history?status=failed")
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    page.get_by_label("User name").fill("olivia")
    page.get_by_label("Password").fill("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("wrong user name or password")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{app.url}/ui/history?status=failed")
    screenshot(page, "history-empty")
    expect(page.locator("#runs")).to_contain_text("No run matches these filters")
    # An operator sees no approvals link, and the catalog items their role may run.
    expect(page.get_by_role("link", name=re.compile("Approvals"))).to_have_count(0)
    page.get_by_role("link", name="Catalog").click()
    titles = {item["title"] for item in app.client("olivia").get("/api/catalog").json()}
    expect(page.locator(".item h3")).to_have_count(len(titles))
    assert set(page.locator(".item h3").all_inner_texts()) == titles
    screenshot(page, "catalog")


def test_chargeback_and_schedules_pages(app, new_page, webhook):
    ada = new_page(app, "ada")
    ada.goto(f"{app.url}/ui/chargeback")
    expect(ada.locator("#chargeback")).to_contain_text("No chargeback report yet")
    ada.goto(f"{app.url}/ui/items/chargeback")
    ada.get_by_label("Slack-compatible webhook").fill(webhook.url)
    ada.get_by_role("button", name="Run").click()
    expect(ada.locator("#run-status")).to_have_text("successful", timeout=120_000)
    ada.goto(f"{app.url}/ui/chargeback")
    expect(ada.locator("figure.chart svg")).to_be_visible()
    data = app.client("ada").get("/api/reports/chargeback").json()
    report = data["report"]
    expect(ada.locator("table.numbers tfoot")).to_contain_text(f"{report['totals']['cost']['total']:.2f}")
    # The groups and the untagged VMs' row, which add up to the total.
    expect(ada.locator("table.numbers tbody tr")).to_have_count(len(data["rows"]))
    screenshot(ada, "chargeback")

    ada.goto(f"{app.url}/ui/schedules")
    expect(ada.locator("#schedules")).to_contain_text("No schedules yet")
    ada.get_by_label("Name").fill("weekly chargeback")
    ada.get_by_label("Catalog item").select_option("chargeback")
    expect(ada.locator("#s-inputs")).to_contain_text("never stored with a schedule")
    ada.get_by_label("Cron").fill("0 7 * * mon")
    ada.get_by_label("Time zone").fill("Mars/Olympus")
    ada.get_by_role("button", name="Create the schedule").click()
    expect(ada.locator("#schedule-error")).to_contain_text("timezone")
    ada.get_by_label("Time zone").fill("Europe/Berlin")
    ada.get_by_role("button", name="Create the schedule").click()
    row = ada.locator('tr[data-schedule="weekly chargeback"]')
    expect(row).to_contain_text("(Europe/Berlin)")
    expect(row).to_contain_text("never")
    row.get_by_role("button", name="Pause").click()
    expect(row).to_contain_text("paused")
    screenshot(ada, "schedules")
    # Keyboard only, from a fresh page: the skip link first, then the brand link home.
    ada.reload()
    ada.keyboard.press("Tab")
    expect(ada.locator(".skip")).to_be_focused()
    ada.keyboard.press("Tab")
    expect(ada.locator(".brand")).to_be_focused()

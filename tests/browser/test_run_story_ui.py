"""The run page tells the story in a real browser: a safe patch where one VM breaks shows a failure
summary naming the VM and the module's reason, a red row, VM names with their ext_ids on hover; the
approver's inbox reads like a change request (the item's title, inputs under their labels)."""

import re

import pytest
from app_process import start_patch_lab_app
from conftest import screenshot
from playwright.sync_api import expect

BROKEN = "hr-portal-tst-app-141"


@pytest.fixture
def lab_app(sim, sshd, tmp_path):
    """Asked for before new_page, so its pages close before it stops."""
    app = start_patch_lab_app(sim, sshd, tmp_path)
    yield app
    app.stop()


def ask_for_a_safe_patch(page, app):
    page.goto(f"{app.url}/ui/items/safe_patch")
    expect(page.locator("#in-department option", has_text="HR")).to_have_count(1)
    page.get_by_label("Department").select_option("HR")
    page.get_by_label("Environment").select_option("Test")
    page.get_by_label("Application tier").select_option("App")
    page.get_by_label("VMs per batch").fill("3")
    page.get_by_role("button", name="Ask for approval").click()
    page.wait_for_url(re.compile(r".*/ui/runs/[^/]+$"))


def test_a_broken_vm_is_named_with_its_reason_in_a_red_row(sim, lab_app, new_page):
    app = lab_app
    broken_ext_id = sim.vm(BROKEN)["extId"]
    sim.control("POST", f"guests/{broken_ext_id}", {"break_next_patch": True})
    olivia = new_page(app, "olivia")
    ask_for_a_safe_patch(olivia, app)

    alex = new_page(app, "alex")
    alex.goto(f"{app.url}/ui/approvals")
    request = alex.locator("article[data-gate]")
    # The item's title, not its id; inputs under their form labels; what the item does.
    expect(request.get_by_role("heading")).to_have_text("Patch VMs safely")
    expect(request.locator("dl.facts dt")).to_contain_text(["Department", "Environment", "Application tier"])
    expect(request.locator("dl.facts")).not_to_contain_text("safe_patch_")
    expect(request).not_to_contain_text("{")
    expect(request.locator(".scope")).to_contain_text(BROKEN)
    screenshot(alex, "approvals-change-request")
    request.get_by_role("button", name="Approve").click()
    expect(alex.locator("#inbox")).to_contain_text("Nothing waits for you")

    expect(olivia.locator("#run-status")).to_have_text("failed", timeout=300_000)
    summary = olivia.locator("#summary-section")
    expect(summary).to_be_visible()
    expect(summary.locator(".failed-vms li")).to_have_count(1)
    failed = summary.locator(".failed-vms li")
    expect(failed).to_contain_text(BROKEN)
    # The module's reason: the role's own message, not the raw "fatal: [...]" line.
    expect(failed).to_contain_text("ROLLED BACK")
    expect(failed).not_to_contain_text("fatal:")
    row = olivia.locator(f'tr[data-host="{BROKEN}"]')
    expect(row).to_have_attribute("data-status", "failed")
    expect(row).to_have_class(re.compile("row-failed"))
    expect(row.locator(".status-done")).to_have_count(0)
    assert int(row.locator("progress").get_attribute("value")) < 100
    expect(row.locator("th .vm")).to_have_attribute("title", f"ext_id {broken_ext_id}")
    # Every other VM got through, green, with its ext_id on hover too.
    others = olivia.locator("table.hosts tbody tr[data-status='done']")
    expect(others).to_have_count(2)
    for other in others.all():
        assert other.locator("th .vm").get_attribute("title").startswith("ext_id ")
    expect(olivia.locator("#run-facts")).to_contain_text("Department: HR")
    expect(olivia.locator("#relaunch")).to_be_visible()
    screenshot(olivia, "run-failure-summary")

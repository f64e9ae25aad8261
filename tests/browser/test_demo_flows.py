"""The headline flows end to end from the UI of a real `day2ops demo` (what `make demo` starts), in
headless Chromium: olivia asks, alex approves in his inbox, and each outcome the run page shows is checked
against the app's API or the simulator. Screenshots: tests/output/browser/demo-*.png. Patching, DR and
chargeback here, template releases and migration waves in test_demo_releases.py: a demo each, on two test
workers, as one module they were the browser stage's longest by half."""

import csv
import io
import re
from pathlib import Path

import pytest
from conftest import screenshot
from demo_ui import BROKEN, PATCHED, approve_in_inbox, ends, pick_vm, sim_vm_names, submit
from playwright.sync_api import expect


def test_patch_vms_safely_names_the_broken_vm_and_its_reason(demo, as_user):
    broken = demo.sim.vm(BROKEN)["extId"]
    demo.sim.guest(broken, {"break_next_patch": True})
    levels = {g["name"]: g["patch_level"] for g in demo.sim.guests()}
    olivia, alex = as_user("olivia"), as_user("alex")
    olivia.goto(f"{demo.url}/ui/items/safe_patch")
    olivia.get_by_label("Department").select_option("HR")
    olivia.get_by_label("Environment").select_option("Test")
    olivia.get_by_label("Application tier").select_option("App")
    olivia.get_by_label("VMs per batch").fill("3")
    execution_id = submit(olivia)
    expect(olivia.locator("#run-status")).to_have_text("pending approval")

    alex.goto(f"{demo.url}/ui/approvals")
    request = alex.locator("article[data-gate]")
    expect(request.locator("dl.facts dt")).to_contain_text(["Department", "Environment", "Application tier"])
    expect(request.locator(".scope")).to_contain_text(BROKEN)
    approve_in_inbox(alex, demo, execution_id, "Patch VMs safely")

    ends(olivia, demo, execution_id, "failed")
    failed = olivia.locator("#summary-section .failed-vms li")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(BROKEN)
    expect(failed).to_contain_text("ROLLED BACK")
    expect(failed).not_to_contain_text("fatal:")
    row = olivia.locator(f'tr[data-host="{BROKEN}"]')
    expect(row).to_have_class(re.compile("row-failed"))
    expect(row.locator("th .vm")).to_have_attribute("title", f"ext_id {broken}")
    done = olivia.locator("table.hosts tbody tr[data-status='done']")
    expect(done).to_have_count(2)
    for name in PATCHED:
        ext_id = demo.sim.vm(name)["extId"]
        vm = olivia.locator(f'tr[data-host="{name}"] th .vm')
        expect(vm).to_have_attribute("title", f"ext_id {ext_id}")
        assert demo.sim.guest(ext_id)["patch_level"] > levels[name]
    screenshot(olivia, "demo-patch-failure-summary")
    assert demo.sim.guest(broken)["patch_level"] == levels[BROKEN]  # rolled back to its recovery point


def test_dr_replicate_then_drill_leaves_no_drill_vm(demo, as_user):
    olivia, alex = as_user("olivia"), as_user("alex")
    olivia.goto(f"{demo.url}/ui/items/dr_replicate")
    olivia.get_by_label("Environment").select_option("Test")
    olivia.get_by_label("Department").select_option("HR")
    replicated = submit(olivia)
    ends(olivia, demo, replicated, "successful")
    screenshot(olivia, "demo-dr-replicate")

    olivia.goto(f"{demo.url}/ui/items/dr_drill")
    pick_vm(olivia, "vm", PATCHED[0])
    source = olivia.locator("#in-recovery_points option", has_text="(source)").first
    expect(source).to_be_attached()
    olivia.get_by_label("Recovery points to drill").select_option(source.get_attribute("value"))
    execution_id = submit(olivia)
    approve_in_inbox(alex, demo, execution_id, "DR drill")
    olivia.bring_to_front()
    ends(olivia, demo, execution_id, "successful")
    reports = olivia.locator("#reports-section")
    expect(reports).to_be_visible()
    expect(reports.locator("a[download]").first).to_be_visible()
    with olivia.expect_download() as report:
        reports.locator("a[download]").first.click()
    assert Path(report.value.path()).stat().st_size > 0
    screenshot(olivia, "demo-dr-drill")
    assert [n for n in sim_vm_names(demo) if n.startswith("drill-")] == []


def test_chargeback_rows_add_up_to_the_total(demo, as_user):
    olivia = as_user("olivia")
    olivia.goto(f"{demo.url}/ui/items/chargeback")
    execution_id = submit(olivia)
    ends(olivia, demo, execution_id, "successful")
    olivia.goto(f"{demo.url}/ui/chargeback")
    data = demo.user("olivia").get("/api/reports/chargeback")
    total = data["report"]["totals"]["cost"]["total"]
    expect(olivia.locator("table.numbers tbody tr").last).to_contain_text("untagged (no Department)")
    expect(olivia.locator("table.numbers tfoot")).to_contain_text(f"{total:.2f}")
    screenshot(olivia, "demo-chargeback")
    with olivia.expect_download() as download:
        olivia.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[-1]["group"] == "(untagged)"
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(total, abs=0.01 * len(rows))

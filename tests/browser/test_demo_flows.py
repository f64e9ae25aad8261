"""The five headline flows end to end from the UI of a real `day2ops demo` (what `make demo` starts), in
headless Chromium: olivia asks, alex approves in his inbox, and each outcome the run page shows is checked
against the app's API or the simulator. Screenshots: tests/output/browser/demo-*.png."""

import csv
import io
import re
import time
from pathlib import Path

import pytest
import requests
from conftest import screenshot
from day2ops_cli.demo import SIM_PASSWORD, SIM_USER
from demo_process import start_demo
from playwright.sync_api import Page, expect

BROKEN = "hr-portal-tst-app-141"
PATCHED = ("hr-wiki-tst-app-036", "hr-portal-tst-app-071")
GOLDEN = "mkt-crm-tst-cache-018"  # the README's golden VM: in no other flow's scope
RUN = 300_000  # a run's whole life, in ms
ENDED = re.compile(r"^(successful|failed|canceled|interrupted)$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo = start_demo(tmp_path_factory.mktemp("demo"))
    yield demo
    code = demo.stop()
    assert code == 0 and "Traceback" not in demo.output(), demo.output()[-3000:]


@pytest.fixture
def as_user(new_page, demo):
    """as_user(name) -> a Page logged in as that demo user with their own password."""
    return lambda username: new_page(demo, username, demo.users[username])


def submit(page: Page) -> str:
    """Run or ask for approval; the new run's id."""
    page.get_by_role("button", name=re.compile(r"^(Run|Ask for approval)$")).click()
    page.wait_for_url(re.compile(r".*/ui/runs/[^/]+$"))
    return page.url.rsplit("/", 1)[1]


def pick_vm(page: Page, field: str, name: str) -> None:
    """The search box over the long VM list: one match is picked."""
    page.locator(f"#in-{field}-search").fill(name)
    expect(page.locator(f"#in-{field} option")).to_have_count(2)


def approve_in_inbox(alex: Page, demo, execution_id: str, title: str, required: bool = True) -> None:
    """alex's inbox, reloaded until the run's gate (before the run or inside it) is there; approved. A run
    that ends without asking fails the test when a gate was required."""
    request = alex.locator("article[data-gate]", has_text=title)
    deadline = time.monotonic() + RUN / 1000
    while True:
        alex.goto(f"{demo.url}/ui/approvals")
        expect(alex.locator("#inbox")).not_to_be_empty()
        if request.count():
            break
        status = demo.user("olivia").get(f"/api/runs/{execution_id}")["status"]
        if ENDED.match(status) and not required:
            return
        assert not ENDED.match(status), f"run {execution_id} ended {status} without asking alex"
        assert time.monotonic() < deadline, f"no gate of run {execution_id} in alex's inbox"
        time.sleep(2)
    # The item's title, then for an in-run gate the playbook's name for it.
    expect(request.get_by_role("heading")).to_have_text(re.compile(rf"^{re.escape(title)}( — gate “.+”)?$"))
    expect(request).not_to_contain_text("{")
    screenshot(alex, f"demo-inbox-{title.split()[0].lower()}")
    request.get_by_role("button", name="Approve").click()
    expect(alex.locator("#inbox")).to_contain_text("Nothing waits for you")


def events_tail(demo, execution_id: str) -> str:
    events = demo.user("olivia").get(f"/api/runs/{execution_id}/events", limit=1000)
    return "".join(e.get("stdout") or "" for e in events)[-3000:]


def ends(page: Page, demo, execution_id: str, status: str) -> None:
    try:
        expect(page.locator("#run-status")).to_have_text(ENDED, timeout=RUN)
        expect(page.locator("#run-status")).to_have_text(status)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{events_tail(demo, execution_id)}") from None


def sim_vm_names(demo) -> list[str]:
    names, page = [], 0
    while True:
        answer = requests.get(
            f"{demo.sim.url}/api/vmm/v4.0/ahv/config/vms",
            params={"$page": page, "$limit": 100},
            auth=(SIM_USER, SIM_PASSWORD),
            verify=demo.sim.ca_path,
            timeout=30,
        ).json()
        found = [vm["name"] for vm in answer.get("data") or []]
        names += found
        if len(found) < 100:
            return names
        page += 1


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


def release(olivia: Page, alex: Page, demo, golden: str | None) -> str:
    """A release from the golden VM, or (golden None) the default rollback; alex approves if asked."""
    olivia.goto(f"{demo.url}/ui/items/template_release")
    olivia.locator("#in-template").select_option(label="rocky9-base")
    if golden:
        pick_vm(olivia, "golden_vm", golden)
    else:
        olivia.get_by_label("Release or roll back").select_option("rollback")
    execution_id = submit(olivia)
    # A release asks at its in-run gate; a failed smoke test or a rollback may end without asking.
    approve_in_inbox(alex, demo, execution_id, "Release a template version", required=False)
    olivia.bring_to_front()
    return execution_id


def versions(demo, template: str) -> list[dict]:
    return demo.user("olivia").get("/api/catalog/template_release/choices/rollback_version", parent=template)


def test_template_release_and_a_rollback_that_skips_the_failed_version(demo, as_user):
    olivia, alex = as_user("olivia"), as_user("alex")
    templates = demo.user("olivia").get("/api/catalog/template_release/choices/template")
    template = next(t["value"] for t in templates if t["label"] == "rocky9-base")
    released = release(olivia, alex, demo, GOLDEN)
    ends(olivia, demo, released, "successful")
    screenshot(olivia, "demo-template-released")
    good = next(v for v in versions(demo, template) if "(active)" in v["label"])

    golden = demo.sim.vm(GOLDEN)["extId"]
    demo.sim.guest(golden, {"app_healthy": False})
    try:
        broken = release(olivia, alex, demo, GOLDEN)
        ends(olivia, demo, broken, "failed")
    finally:
        demo.sim.guest(golden, {"app_healthy": True})
    expect(olivia.locator("#summary-section")).to_contain_text("application unhealthy")
    expect(olivia.locator("#summary-section")).not_to_contain_text("Unknown error")
    screenshot(olivia, "demo-template-smoke-failed")

    offered = versions(demo, template)
    failed = [v for v in offered if v["label"].endswith("— failed smoke test")]
    assert len(failed) == 1 and failed[0]["value"] != good["value"], offered
    # The default rollback: the newest good version older than the active one, never the failed one.
    active = next(i for i, v in enumerate(offered) if "(active)" in v["label"])
    expected = next(v for v in offered[active + 1 :] if "failed smoke test" not in v["label"])
    olivia.goto(f"{demo.url}/ui/items/template_release")
    olivia.locator("#in-template").select_option(label="rocky9-base")
    picker = olivia.locator("#in-rollback_version option", has_text="— failed smoke test")
    expect(picker).to_have_count(1)
    assert picker.get_attribute("value") == failed[0]["value"]
    screenshot(olivia, "demo-template-rollback-picker")
    rolled = release(olivia, alex, demo, None)
    ends(olivia, demo, rolled, "successful")
    now = versions(demo, template)
    activated = next(v for v in now if "(active)" in v["label"])
    assert activated["value"] == expected["value"] != failed[0]["value"], now
    screenshot(olivia, "demo-template-rolled-back")


def test_migration_wave_from_the_wave_select(demo, as_user):
    olivia, alex = as_user("olivia"), as_user("alex")
    olivia.goto(f"{demo.url}/ui/items/migration_wave")
    olivia.get_by_role("combobox", name="Wave", exact=True).select_option("finance-test")
    execution_id = submit(olivia)
    approve_in_inbox(alex, demo, execution_id, "Migrate a wave from VMware to AHV")
    ends(olivia, demo, execution_id, "successful")
    names = olivia.locator("table.hosts tbody tr th .vm")
    expect(names.first).to_be_visible()
    for name in names.all_inner_texts():
        assert name and not UUID.search(name), name
    screenshot(olivia, "demo-migration-wave")

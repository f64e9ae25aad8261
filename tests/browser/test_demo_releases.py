"""Template releases and a migration wave end to end from the UI of a real `day2ops demo`, as
test_demo_flows.py runs the other headline flows (its own demo, so the two modules run side by side)."""

from conftest import screenshot
from demo_ui import GOLDEN, UUID, approve_in_inbox, ends, pick_vm, submit
from playwright.sync_api import Page, expect


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

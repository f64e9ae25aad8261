"""The run form in a real browser: a search box over a long VM list whose pick submits its ext_id, recovery
points a person can tell apart, pattern errors in words, and the migration wave picked from the wave file."""

import re
from pathlib import Path

import pytest
import yaml
from app_process import start_app
from conftest import screenshot
from playwright.sync_api import expect
from replicas import a_point_and_its_replica, a_prod_vm

EXAMPLE_WAVES = Path(__file__).resolve().parents[2] / "playbooks" / "waves.example.yml"


@pytest.fixture
def app(sim, tmp_path):
    site = tmp_path / "site.yml"
    site.write_text(yaml.safe_dump({"migration_wave_file": str(EXAMPLE_WAVES)}))
    app = start_app(sim, tmp_path / "app", f"sqlite:///{tmp_path / 'audit.db'}", site_vars_file=site)
    yield app
    app.stop()


def test_search_narrows_the_vm_list_and_the_pick_submits_its_ext_id(app, sim, new_page):
    vm = a_prod_vm(sim)
    source, replica = a_point_and_its_replica(sim, vm["extId"])

    page = new_page(app, "olivia")
    page.goto(f"{app.url}/ui/items/dr_drill")
    options = page.locator("#in-vm option")
    expect(options.nth(20)).to_be_attached()  # a long list: the search box is offered
    every = options.count() - 1  # and "Choose…"
    search = page.locator("#in-vm-search")
    expect(search).to_be_visible()
    expect(page.get_by_label("Search").first).to_have_attribute("aria-controls", "in-vm")
    search.fill(vm["name"])
    # One VM left: it is picked, and its recovery points load as if picked by hand.
    expect(options).to_have_count(2)  # "Choose…" and the VM
    expect(page.locator("#in-vm-search-status")).to_have_text(f"1 of {every} match")
    expect(page.get_by_label("Production VM")).to_have_value(vm["extId"])
    search.press("Enter")
    expect(page.get_by_label("Production VM")).to_be_focused()

    points = page.locator("#in-recovery_points option")
    expect(points).to_have_count(2)
    expect(points).to_contain_text(
        [re.compile(r"on prod-ahv-01 \(source\)"), re.compile(r"on dr-ahv-01 \(replica\)")]
    )
    # The creation time in the reader's own time, not the API's UTC.
    assert "UTC" not in " ".join(points.all_inner_texts())
    screenshot(page, "form-polish-vm-search-and-points")
    page.get_by_label("Recovery points to drill").select_option(source)
    page.get_by_role("button", name="Ask for approval").click()
    page.wait_for_url(re.compile(r".*/ui/runs/[^/]+$"))
    execution = app.client("olivia").get(f"/api/runs/{page.url.rsplit('/', 1)[1]}").json()
    assert execution["inputs"]["vm"] == vm["extId"]
    assert execution["inputs"]["recovery_points"] == [source] and replica != source


def test_a_bad_pattern_is_explained_in_words(app, new_page):
    page = new_page(app, "olivia")
    page.goto(f"{app.url}/ui/items/safe_patch")
    page.get_by_label("Keep the recovery points for").fill("3 weeks")
    page.get_by_role("button", name="Ask for approval").click()
    error = page.locator("#in-retention-error")
    expect(error).to_have_text(
        "Keep the recovery points for: expected a whole number of hours or days, like 12h or 3d"
    )
    expect(page.get_by_label("Keep the recovery points for")).to_have_attribute("aria-invalid", "true")
    assert "[0-9]" not in page.locator("#run-form").inner_text()
    screenshot(page, "form-polish-pattern-in-words")


def test_the_wave_is_picked_from_the_wave_file(app, new_page):
    page = new_page(app, "olivia")
    page.goto(f"{app.url}/ui/items/migration_wave")
    waves = page.locator("#in-wave option")
    expect(waves).to_have_count(3)
    expect(waves).to_have_text(
        [
            "Choose…",
            "finance-test · window 2026-01-01 00:00 UTC to 2030-12-31 23:59 UTC · 2 groups",
            "legal-staging · any time · 1 group",
        ]
    )
    expect(page.locator("#in-wave-search")).to_be_hidden()  # two waves need no search
    page.get_by_role("combobox", name="Wave", exact=True).select_option("legal-staging")
    screenshot(page, "form-polish-wave-choice")

"""The steps the demo's flows share in the UI of a real `day2ops demo` (the `demo` and `as_user` fixtures
are in conftest): submitting a form, picking a VM, alex approving in his inbox, waiting for a run's end."""

import re
import time

import requests
from conftest import screenshot
from day2ops_cli.demo import SIM_PASSWORD, SIM_USER
from playwright.sync_api import Page, expect

BROKEN = "hr-portal-tst-app-141"
PATCHED = ("hr-wiki-tst-app-036", "hr-portal-tst-app-071")
GOLDEN = "mkt-crm-tst-cache-018"  # the README's golden VM: in no other flow's scope
RUN = 300_000  # a run's whole life, in ms
ENDED = re.compile(r"^(successful|failed|canceled|interrupted)$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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

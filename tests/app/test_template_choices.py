"""The template_release item's live choices: templates and a template's versions, from the simulator
through the app's API, and checked again when a run is asked for."""

# The app as a real process on the shipped catalog.
from test_api import app  # noqa: F401


def test_templates_and_their_versions_come_from_prism(app, sim):  # noqa: F811
    olivia = app.client("olivia")
    offered = olivia.get("/api/catalog/template_release/choices/template").json()
    listed = sim.api("GET", "/api/vmm/v4.0/content/templates").json()["data"]
    assert offered == [
        {"value": t["extId"], "label": t["templateName"]}
        for t in sorted(listed, key=lambda t: t["templateName"])
    ]
    rocky = next(t["value"] for t in offered if t["label"] == "rocky9-base")
    versions = olivia.get(f"/api/catalog/template_release/choices/rollback_version?parent={rocky}").json()
    assert [v["label"] for v in versions] == ["2025.02 (active)", "2025.01"]
    # A template Prism does not know has no versions to offer; that is no outage of Prism.
    unknown = olivia.get(
        "/api/catalog/template_release/choices/rollback_version?parent=00000000-0000-4000-8000-000000000000"
    )
    assert unknown.status_code == 200 and unknown.json() == []

    # A version made a moment ago is offered at once.
    template = sim.api("GET", f"/api/vmm/v4.0/content/templates/{rocky}")
    body = {**template.json()["data"]}
    body["templateVersionSpec"] = {
        "versionName": "2025.03",
        "versionDescription": "made by the test",
        "isActiveVersion": False,
        "versionSource": {
            "$objectType": "vmm.v4.content.TemplateVmReference",
            "extId": sim.vm("hr-portal-tst-app-071")["extId"],
        },
    }
    task = sim.api(
        "PUT",
        f"/api/vmm/v4.0/content/templates/{rocky}",
        json=body,
        headers={"If-Match": template.headers["ETag"]},
    )
    assert sim.wait_task(task.json()["data"]["extId"])["status"] == "SUCCEEDED"
    versions = olivia.get(f"/api/catalog/template_release/choices/rollback_version?parent={rocky}").json()
    assert [v["label"] for v in versions] == ["2025.03", "2025.02 (active)", "2025.01"]

    # On submit the form asks Prism again, with the chosen template: a version of another is refused.
    win = next(t["value"] for t in offered if t["label"] == "win2022-base")
    r = olivia.post(
        "/api/runs",
        {
            "item_id": "template_release",
            "inputs": {"template": win, "mode": "rollback", "rollback_version": versions[0]["value"]},
        },
    )
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "rollback_version" and "is not offered by Prism" in error["message"]


def test_a_version_that_failed_its_smoke_test_is_marked_in_the_picker(app, sim):  # noqa: F811
    # The template_release role records such a version on the template's description (a version cannot be
    # changed once made); the picker says so, the other versions are as they were.
    olivia = app.client("olivia")
    offered = olivia.get("/api/catalog/template_release/choices/template").json()
    rocky = next(t["value"] for t in offered if t["label"] == "rocky9-base")
    listed = sim.api("GET", f"/api/vmm/v4.0/content/templates/{rocky}/versions").json()["data"]
    old = next(v["extId"] for v in listed if v["versionName"] == "2025.01")
    template = sim.api("GET", f"/api/vmm/v4.0/content/templates/{rocky}")
    body = {
        "templateName": "rocky9-base",
        "templateDescription": f"Rocky 9 golden image\n[day2ops: failed smoke test: {old}]",
    }
    task = sim.api(
        "PUT",
        f"/api/vmm/v4.0/content/templates/{rocky}",
        json=body,
        headers={"If-Match": template.headers["ETag"]},
    )
    assert sim.wait_task(task.json()["data"]["extId"])["status"] == "SUCCEEDED"
    versions = olivia.get(f"/api/catalog/template_release/choices/rollback_version?parent={rocky}").json()
    assert [v["label"] for v in versions] == ["2025.02 (active)", "2025.01 — failed smoke test"]
    assert versions[1]["value"] == old

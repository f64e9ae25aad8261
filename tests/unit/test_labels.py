"""A playbook gate's details as an approver reads them: no Python dicts, VMs by name, empty facts left out."""

from day2ops_app.services.labels import labelled_details


def test_nested_details_read_as_words_with_vm_names():
    details = {
        "window": {"start": "2026-01-01T00:00:00+00:00", "end": "2030-12-31T23:59:59+00:00"},
        "groups_in_order": {"databases": ["vm-1"], "applications": ["vm-2", "vm-3"]},
        "not_ready": {},
        "ready": ["vm-1"],
    }
    names = {"vm-1": "fin-fileshare-tst-003", "vm-2": "fin-docs-tst-025", "vm-3": "fin-web-07"}
    shown = {d["label"]: d["value"] for d in labelled_details(details, names)}
    assert shown == {
        "window": "start: 2026-01-01T00:00:00+00:00; end: 2030-12-31T23:59:59+00:00",
        "groups in order": "databases: fin-fileshare-tst-003; applications: fin-docs-tst-025, fin-web-07",
        "ready": "fin-fileshare-tst-003",
    }
    assert not any("{" in value for value in shown.values())

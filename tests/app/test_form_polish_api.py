"""Form polish through the app: recovery point labels that tell a source from its replica, the migration
wave as a choice from the site's wave file, and pattern errors said in words, never as the regex."""

import re
from pathlib import Path

import pytest
import yaml
from app_process import start_app
from day2ops_app.catalog.forms import pattern_message
from day2ops_app.catalog.model import Catalog, Input
from replicas import RPS, a_point_and_its_replica, a_prod_vm

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_WAVES = REPO / "playbooks" / "waves.example.yml"


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}")
    yield app
    app.stop()


def test_a_source_point_and_its_replica_are_told_apart(app, sim):
    olivia = app.client("olivia")
    vm = a_prod_vm(sim)
    source, replica = a_point_and_its_replica(sim, vm["extId"])

    offered = olivia.get(f"/api/catalog/dr_drill/choices/recovery_points?parent={vm['extId']}").json()
    labels = {c["value"]: c["label"] for c in offered}
    assert set(labels) == {source, replica}  # the values stay the points' ext_ids
    assert labels[source] != labels[replica]
    created = sim.api("GET", f"{RPS}/{source}").json()["data"]["creationTime"]
    minute = f"{created[:10]} {created[11:16]} UTC"
    assert labels[source] == f"pre-patch · {minute} · on prod-ahv-01 (source)"
    assert labels[replica] == f"pre-patch · {minute} · on dr-ahv-01 (replica)"
    # The form shows the creation time in the reader's own time zone.
    assert {c["created"] for c in offered} == {created}


def test_waves_are_the_choices_of_the_site_wave_file(sim, tmp_path):
    site = tmp_path / "site.yml"
    site.write_text(yaml.safe_dump({"migration_wave_file": str(EXAMPLE_WAVES)}))
    app = start_app(sim, tmp_path / "app", f"sqlite:///{tmp_path / 'audit.db'}", site_vars_file=site)
    try:
        olivia = app.client("olivia")
        waves = olivia.get("/api/catalog/migration_wave/choices/wave").json()
        assert waves == [
            {
                "value": "finance-test",
                "label": "finance-test · window 2026-01-01 00:00 UTC to 2030-12-31 23:59 UTC · 2 groups",
            },
            {"value": "legal-staging", "label": "legal-staging · any time · 1 group"},
        ]
        r = olivia.post("/api/catalog/migration_wave/preview", {"inputs": {"wave": "finance-test"}})
        assert r.status_code == 200, r.text
        r = olivia.post("/api/runs", {"item_id": "migration_wave", "inputs": {"wave": "finance-prod"}})
        assert r.status_code == 422
        (error,) = r.json()["errors"]
        assert error == {
            "field": "wave",
            "message": "'finance-prod' is not offered by the site's wave file; "
            "choose one of finance-test, legal-staging",
        }
        assert olivia.get("/api/runs").json() == []
        # A wave added to the file is offered at once.
        document = yaml.safe_load(EXAMPLE_WAVES.read_text())
        document["waves"].append({"name": "finance-prod", "groups": []})
        waves_file = tmp_path / "waves.yml"
        waves_file.write_text(yaml.safe_dump(document))
        site.write_text(yaml.safe_dump({"migration_wave_file": str(waves_file)}))
        offered = [w["value"] for w in olivia.get("/api/catalog/migration_wave/choices/wave").json()]
        assert offered == ["finance-test", "legal-staging", "finance-prod"]
    finally:
        app.stop()


def test_without_a_wave_file_the_form_says_what_to_set(app):
    r = app.client("olivia").get("/api/catalog/migration_wave/choices/wave")
    assert r.status_code == 503
    assert r.json()["detail"] == "no wave file: set migration_wave_file in DAY2OPS_SITE_VARS_FILE"


def test_a_value_off_the_pattern_is_refused_in_words(app):
    olivia = app.client("olivia")
    r = olivia.post(
        "/api/runs",
        {
            "item_id": "safe_patch",
            "inputs": {"department": "HR", "environment": "Test", "retention": "3 weeks"},
        },
    )
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error == {
        "field": "retention",
        "message": "Keep the recovery points for: expected a whole number of hours or days, like 12h or 3d",
    }
    r = olivia.post(
        "/api/catalog/template_release/preview",
        {"inputs": {"template": "x", "version_name": "no spaces please"}},
    )
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors["version_name"].startswith("New version's name: expected up to 64 letters, digits")
    assert "[A-Za-z0-9]" not in r.text
    # The API's own schemas say so without the regex too.
    r = app.client("ada").post(
        "/api/users", {"username": "Eve!", "password": "x" * 12, "roles": ["operator"]}
    )
    assert r.status_code == 422
    (detail,) = r.json()["detail"]
    assert detail["msg"] == "username is not in the form it takes; see the API's schema"
    assert "a-z0-9" not in r.text


def test_every_shipped_pattern_is_explained_without_its_regex():
    catalog = Catalog.load(REPO / "catalog", REPO / "playbooks")
    patterned = [spec for item in catalog.items.values() for spec in item.inputs if spec.pattern]
    assert patterned
    for spec in patterned:
        message = pattern_message(spec)
        assert message.startswith(f"{spec.label}: expected "), message
        assert spec.pattern not in message and not re.search(r"[\^$]|\[.*\]", message), message


def test_a_pattern_message_needs_a_pattern():
    with pytest.raises(ValueError, match="pattern_message says what a pattern wants"):
        Input(name="x", label="X", type="string", pattern_message="a name")

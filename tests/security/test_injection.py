"""Finding 1: no catalog input runs code. A form, API or schedule value reaches the playbook as data that
Ansible never templates; a per-VM URL names its placeholders and a filter fills them in, not Jinja."""

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from app_process import start_app
from day2ops_app.catalog.model import Catalog

REPO = Path(__file__).resolve().parents[2]
SHIPPED = Catalog.load(REPO / "catalog", REPO / "playbooks")
STRING_INPUTS = [
    (item.id, spec.name) for item in SHIPPED.items.values() for spec in item.inputs if spec.type == "string"
]


def payload(marker_dir: Path, tag: str) -> str:
    """Each of Jinja's three delimiters, every one of which would create its own marker file if evaluated."""
    touch = f"touch {marker_dir}/{tag}"
    return (
        f"{{{{ lookup('pipe', '{touch}-expr') }}}}"
        f"{{% set x = lookup('pipe', '{touch}-stmt') %}}"
        f"{{# {{{{ lookup('pipe', '{touch}-comment') }}}} #}}"
        f"{{{{ lookup('env', 'NUTANIX_PASSWORD') }}}}"
    )


def stub_playbooks(directory: Path, out: Path) -> Path:
    """A playbook per shipped playbook name that writes the extra vars it was given, as it got them."""
    directory.mkdir()
    names: dict[str, set[str]] = {}
    for item in SHIPPED.items.values():
        names.setdefault(item.playbook, set()).update(
            i.var or i.name for i in item.inputs if i.type != "secret"
        )
    for playbook, variables in names.items():
        got = ", ".join(f"{json.dumps(v)}: {v} | default(none)" for v in sorted(variables))
        play = [
            {
                "name": f"stand-in for {playbook}",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "Write what the playbook was given",
                        "ansible.builtin.copy": {
                            "content": "{{ {" + got + "} | to_json }}",
                            "dest": f"{out}/{{{{ day2ops_execution_id }}}}.json",
                            "mode": "0600",
                        },
                    }
                ],
            }
        ]
        (directory / playbook).write_text(yaml.safe_dump(play, sort_keys=False))
    return directory


@pytest.fixture
def stub_app(sim, tmp_path):
    out = tmp_path / "received"
    out.mkdir()
    playbooks = stub_playbooks(tmp_path / "playbooks", out)
    app = start_app(
        sim,
        tmp_path,
        f"sqlite:///{tmp_path / 'audit.db'}",
        catalog_dir=REPO / "catalog",
        playbook_dir=playbooks,
        min_schedule_seconds=1,
    )
    app.received = out
    yield app
    app.stop()


def a_recovery_point(sim, vm: str) -> None:
    r = sim.api(
        "POST",
        "/api/dataprotection/v4.0/config/recovery-points",
        json={"name": "for-the-form", "vmRecoveryPoints": [{"vmExtId": vm}]},
    )
    sim.wait_task(r.json()["data"]["extId"])


def valid_inputs(client, sim, item_id: str) -> dict:
    """Values the form accepts for every required input, read from the live choices as a user picks them."""
    values: dict = {}
    for spec in SHIPPED.get(item_id).inputs:
        if not spec.required or spec.default is not None:
            continue
        if spec.type == "string":
            values[spec.name] = "wave-1" if spec.pattern is None or re.search(spec.pattern, "wave-1") else ""
            continue
        parent = spec.choices_from.depends_on if spec.choices_from else None
        if spec.choices_from and spec.choices_from.source == "recovery_points":
            a_recovery_point(sim, values[parent])
        query = {"parent": values[parent]} if parent else None
        offered = client.get(f"/api/catalog/{item_id}/choices/{spec.name}", params=query).json()
        assert offered, (item_id, spec.name, "the demo estate offers no choice")
        first = offered[0]["value"]
        values[spec.name] = [first] if spec.type == "multi_choice" else first
    return values


def accepted_value(item_id: str, input_name: str, value: str) -> str | None:
    """The value as the form takes it: a URL input gets it after a scheme (its pattern asks for one); an
    input whose pattern allows no braces at all refuses it, which the test checks with the API too."""
    spec = SHIPPED.get(item_id).input(input_name)
    for candidate in (value, f"http://127.0.0.1/{value}"):
        if spec.pattern is None or re.search(spec.pattern, candidate):
            return candidate
    return None


def approve_when_asked(alex, execution_id: str) -> None:
    for gate in alex.get("/api/approvals").json():
        if gate["execution_id"] == execution_id and gate["status"] == "pending":
            r = alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"})
            assert r.status_code == 200, r.text


def received(app, execution_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    path = app.received / f"{execution_id}.json"
    while not path.exists():
        assert time.monotonic() < deadline, app.log()
        time.sleep(0.3)
    return json.loads(path.read_text())


def test_the_reported_exploit_runs_nothing(sim, tmp_path):
    """The probe's own request: chargeback (no approval) with a pipe lookup in its OData filter, run by the
    real playbook. The filter reaches Prism as the text it is, and Prism refuses it; nothing ran here."""
    marker = tmp_path / "pwned"
    sim.expect_refusal("list_vms", "unexpected '{{'")  # the operator's filter, refused as it should be
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        olivia = app.client("olivia")
        value = f"{{{{ lookup('pipe', 'touch {marker}; id') }}}}"
        execution = olivia.run("chargeback", filter=value)
        done = olivia.wait(execution["id"], timeout=240)
        events = olivia.get(f"/api/runs/{execution['id']}/events", params={"limit": 1000}).json()
        said = "\n".join(e["stdout"] for e in events)
    finally:
        app.stop()
    assert not marker.exists()
    assert done["status"] == "failed"
    assert "uid=" not in said
    # Prism's own complaint about the filter it was sent: the characters the operator typed.
    assert "Invalid $filter at position 1: unexpected '{{'" in said, said[-3000:]


def payloads(markers: Path) -> tuple[list[tuple], list[tuple]]:
    """(item, input, value) the form takes, and those whose pattern refuses any brace."""
    taken, refused = [], []
    for item_id, input_name in STRING_INPUTS:
        raw = payload(markers, f"{item_id}-{input_name}")
        value = accepted_value(item_id, input_name, raw)
        (refused if value is None else taken).append((item_id, input_name, value or raw))
    # Every URL input and the free-text filter take the payload; a catalog change that narrowed them all
    # would leave these tests checking nothing.
    assert len(taken) >= 3, taken
    return taken, refused


def assert_verbatim(app, markers: Path, runs: dict[str, tuple]) -> None:
    for execution_id, (item_id, input_name, value) in runs.items():
        var = SHIPPED.get(item_id).input(input_name).var or input_name
        assert received(app, execution_id)[var] == value, (item_id, input_name)
    assert list(markers.iterdir()) == []


def test_every_string_input_reaches_the_playbook_verbatim(stub_app, sim, tmp_path):
    olivia, alex = stub_app.client("olivia"), stub_app.client("alex")
    markers = tmp_path / "markers"
    markers.mkdir()
    taken, refused = payloads(markers)
    for item_id, input_name, value in refused:
        inputs = {**valid_inputs(olivia, sim, item_id), input_name: value}
        r = olivia.post("/api/runs", {"item_id": item_id, "inputs": inputs})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == input_name, r.text
    submitted = {}
    for item_id, input_name, value in taken:
        inputs = {**valid_inputs(olivia, sim, item_id), input_name: value}
        r = olivia.post("/api/runs", {"item_id": item_id, "inputs": inputs})
        assert r.status_code == 202, (item_id, input_name, r.text)
        approve_when_asked(alex, r.json()["id"])
        submitted[r.json()["id"]] = (item_id, input_name, value)
    assert_verbatim(stub_app, markers, submitted)


def test_a_scheduled_run_keeps_its_inputs_as_data(stub_app, sim, tmp_path):
    olivia, alex = stub_app.client("olivia"), stub_app.client("alex")
    markers = tmp_path / "markers"
    markers.mkdir()
    schedules = {}
    for item_id, input_name, value in payloads(markers)[0]:
        body = {
            "name": f"{item_id} {input_name}",
            "item_id": item_id,
            "inputs": {**valid_inputs(olivia, sim, item_id), input_name: value},
            "cron": "* * * * * */2",
        }
        r = olivia.post("/api/schedules", body)
        assert r.status_code == 201, r.text
        schedules[r.json()["id"]] = (item_id, input_name, value)
    deadline = time.monotonic() + 120
    fired: dict[int, str] = {}  # schedule -> its first run
    while len(fired) < len(schedules):
        assert time.monotonic() < deadline, (fired, stub_app.log())
        for schedule in olivia.get("/api/schedules").json():
            execution_id = schedule["last_execution_id"]
            if schedule["id"] in schedules and execution_id and schedule["id"] not in fired:
                olivia.patch(f"/api/schedules/{schedule['id']}", {"enabled": False})
                fired[schedule["id"]] = execution_id
                approve_when_asked(alex, execution_id)
        time.sleep(0.5)
    assert_verbatim(stub_app, markers, {run: schedules[schedule] for schedule, run in fired.items()})


def test_a_url_names_only_its_placeholders(stub_app, sim):
    olivia = stub_app.client("olivia")
    inputs = valid_inputs(olivia, sim, "dr_drill")
    r = olivia.post(
        "/api/runs", {"item_id": "dr_drill", "inputs": {**inputs, "probe_url": "http://{ip}:{port}/health"}}
    )
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "probe_url" and "{port}" in error["message"] and "{ip}" in error["message"]


def test_the_placeholders_filter_reads_nothing_but_its_placeholders():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.day2ops.ahv.plugins.filter.placeholders import placeholders

    vm = {"ip": "127.0.0.5", "name": "web-01", "ext_id": "a-b"}
    jinja = "{{ lookup('pipe', 'id') }}{% raw %}{# x #}"
    assert placeholders(f"http://{{ip}}/{{name}}/{jinja}", vm) == f"http://127.0.0.5/web-01/{jinja}"
    with pytest.raises(AnsibleFilterError, match=r"\{port\}.*use \{ext_id\}, \{ip\}, \{name\}"):
        placeholders("http://{ip}:{port}/", vm)

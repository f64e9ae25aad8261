"""playbooks/migration_wave.yml as an operator runs it, against the simulator's vCenter, Move and Prism
Central: guest preparation with the wave's accounts, readiness, dependency order, the reconfigure step
over real SSH, per-VM rollback, a paused wave, and a rerun that skips what migrated."""

import json
from pathlib import Path

import yaml
from playbook import run_playbook
from safe_patch_lab import lab_host_vars
from sim_process import PASSWORD
from test_migration_modules import vcenter_vm
from test_modules import category_pairs

HERE = Path(__file__).resolve().parent
MAPPINGS = [
    {"source": "VM Network", "target": "vlan0-prod-ahv-01"},
    {"source": "dvpg-app-101", "target": "vlan0-prod-ahv-01"},
    {"source": "dvpg-db-102", "target": "vlan0-prod-ahv-01"},
]
NO_TOOLS = "hr-fileshare-prd-017"  # VM #17 of the estate runs without VMware Tools


# The demo estate's providers and cluster, as every wave of these tests (and the benchmark) uses them.
DEFAULTS = {
    "source_provider": "vcenter-east",
    "target_provider": "pc-01",
    "target_cluster": "prod-ahv-01",
    "network_mappings": MAPPINGS,
    "approvers": ["alex"],
    # The simulator's guests take root and Administrator with its password (backends.vcenter.GUEST_USERS),
    # which sim_env puts in these variables.
    "guest_credentials": {
        "linux": {"username": "root", "password_env": "MIGRATION_GUEST_LINUX_PASSWORD"},
        "windows": {"username": "Administrator", "password_env": "MIGRATION_GUEST_WINDOWS_PASSWORD"},
    },
}


def wave_file(tmp_path: Path, name: str, groups: list[dict], **settings) -> Path:
    document = {
        "version": 1,
        "defaults": DEFAULTS,
        "waves": [{"name": name, "categories": {"Environment": "Test"}, "groups": groups, **settings}],
    }
    path = tmp_path / "waves.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def run_wave(sim, sshd, tmp_path: Path, run: str, waves: Path, name: str, env=None, **extra):
    """One run of the playbook; returns it with the wave's journal lines and this run's report."""
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    result = run_playbook(
        sim,
        tmp_path / run,
        "migration_wave.yml",
        {
            "migration_wave_file": str(waves),
            "migration_wave_name": name,
            "migration_wave_poll_seconds": 1,
            "migration_wave_move_poll_seconds": 0.5,
            "migration_wave_cutover_timeout": 60,
            "migration_wave_approval_outside_app": "approve",
            "migration_wave_reconfigure_tasks": str(HERE / "waves" / "reconfigure.yml"),
            "migration_wave_host_vars": lab_host_vars(sshd),
            "migration_wave_become": False,
            "reconfigure_marker_dir": str(markers),
            "migration_wave_run_id": run,
            **extra,
        },
        env={
            "DAY2OPS_STATE_DIR": str(tmp_path / "state"),
            "DAY2OPS_OPERATOR": "olivia",
            **(env or {}),
        },
    )
    journal_path = tmp_path / "state" / "migration" / f"{name}.jsonl"
    lines = (
        [json.loads(line) for line in journal_path.read_text().splitlines()] if journal_path.exists() else []
    )
    report_path = tmp_path / "state" / "migration" / f"{name}-{run}.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return result, lines, report


def events(lines: list[dict], run_id: str | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in lines:
        if run_id is None or line["run_id"] == run_id:
            out.setdefault(line["vm_name"], []).append(line["event"])
    return out


def ahv_vm(sim, ext_id: str) -> dict:
    return sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{ext_id}").json()["data"]


def test_a_wave_with_a_readiness_failure_and_a_failed_cutover_then_a_rerun(sim, sshd, tmp_path, webhook):
    db, app, web = (
        ["fin-fileshare-tst-003", "eng-build-tst-005"],
        ["eng-tickets-stg-007", "legal-build-stg-011"],
        ["fin-docs-stg-004"],
    )
    waves = wave_file(
        tmp_path,
        "wave-a",
        [
            {"name": "databases", "vms": db, "categories": {"AppTier": "Database"}},
            {"name": "applications", "vms": [*app, NO_TOOLS], "depends_on": ["databases"]},
            {"name": "web", "vms": web, "depends_on": ["applications"]},
        ],
    )
    # The final sync of legal-build-stg-011 fails, and Move leaves its source VM off.
    sim.control(
        "POST",
        "move/fail-next-cutover",
        {"vm": app[1], "source_restarted": False, "message": "Final sync failed: datastore unreachable"},
    )
    first, lines, report = run_wave(
        sim, sshd, tmp_path, "run1", waves, "wave-a", migration_wave_webhook_url=webhook.url
    )
    assert first.rc != 0, first.output
    assert "rolled back legal-build-stg-011" in first.output and "held fin-docs-stg-004" in first.output
    assert events(lines) == {
        NO_TOOLS: ["not_ready"],
        db[0]: ["cutover_started", "migrated"],
        db[1]: ["cutover_started", "migrated"],
        app[0]: ["cutover_started", "migrated"],
        app[1]: ["cutover_started", "rolled_back"],
        web[0]: ["held"],
    }
    by_vm = {(line["vm_name"], line["event"]): line for line in lines}
    assert "VMware Tools are not installed" in by_vm[NO_TOOLS, "not_ready"]["reason"]
    assert "Final sync failed: datastore unreachable" in by_vm[app[1], "rolled_back"]["reason"]
    assert "paused" in by_vm[web[0], "held"]["reason"]
    # Dependency order: every database VM was on AHV before the first application cutover began.
    assert max(by_vm[v, "migrated"]["time"] for v in db) < min(
        by_vm[v, "cutover_started"]["time"] for v in app
    )
    # Per-VM audit: vCenter ids, the AHV VM, readiness, operator and approver.
    for name in [*db, app[0]]:
        line = by_vm[name, "migrated"]
        source = sim.control("GET", f"vcenter/vms/{line['vcenter_vm_id']}")
        assert source["name"] == name and source["instance_uuid"] == line["instance_uuid"]
        assert line["readiness"] == "ReadyToCutover" and line["plan_name"] == "wave-a-1"
        assert line["operator"] == "olivia" and line["approver"] == "not asked (outside the app)"
        vm = ahv_vm(sim, line["ahv_ext_id"])
        assert vm["name"] == name and vm["powerState"] == "ON"
        assert "Environment:Test" in category_pairs(sim, vm)
        assert source["power_state"] == "POWERED_OFF"
        # The reconfigure step ran on the VM over SSH (sshd sets SSH_CONNECTION).
        marker = (tmp_path / "markers" / name).read_text().split()
        assert marker[:2] == [name, line["group"]] and marker[2] == "127.0.0.1"
    assert "AppTier:Database" in category_pairs(sim, ahv_vm(sim, by_vm[db[0], "migrated"]["ahv_ext_id"]))
    # The failed VM: its source runs again in vCenter, and no AHV VM was reconfigured for it.
    assert vcenter_vm(sim, app[1])["power_state"] == "POWERED_ON"
    assert not (tmp_path / "markers" / app[1]).exists() and not (tmp_path / "markers" / web[0]).exists()
    assert by_vm[app[1], "rolled_back"]["ahv_ext_id"] is None
    # The rest of the wave is paused in Move, and the team was told.
    plan = sim.move("POST", "/plans/list", json={}).json()
    paused = next(p for p in plan["Entities"] if p["MetaData"]["Name"] == "wave-a-1")
    assert paused["MetaData"]["StateString"] == "MigrationPlanStatePaused"
    assert [m["day2ops"]["vm_name"] for m in webhook.received] == [app[1]]
    assert report["paused"] and report["rolled_back"] == [app[1]] and report["held"] == web

    # The rerun after the fix: migrated VMs are skipped; the paused plan still holds the failed VMs, so it
    # is cancelled and they go into a new plan with the one it held for cutover; the VM without VMware
    # Tools is still left out.
    second, lines, report = run_wave(sim, sshd, tmp_path, "run2", waves, "wave-a")
    assert second.rc == 0, second.output
    assert sorted(report["already_migrated"]) == sorted([*db, app[0]])
    assert events(lines, "run2") == {
        NO_TOOLS: ["not_ready"],
        app[1]: ["cutover_started", "migrated"],
        web[0]: ["cutover_started", "migrated"],
    }
    again = {
        line["vm_name"]: line for line in lines if line["run_id"] == "run2" and line["event"] == "migrated"
    }
    assert again[app[1]]["plan_name"] == again[web[0]]["plan_name"] == "wave-a-2"
    web_started = [
        x
        for x in lines
        if x["run_id"] == "run2" and x["event"] == "cutover_started" and x["vm_name"] == web[0]
    ]
    assert again[app[1]]["time"] < web_started[0]["time"]
    assert vcenter_vm(sim, app[1])["power_state"] == "POWERED_OFF"
    assert ahv_vm(sim, again[app[1]]["ahv_ext_id"])["powerState"] == "ON"


def test_a_vm_that_fails_its_reconfigure_goes_back_and_only_its_dependents_wait(sim, sshd, tmp_path):
    db, app, other = (
        ["fin-fileshare-tst-003", "eng-build-tst-005"],
        ["eng-tickets-stg-007"],
        ["legal-build-stg-011"],
    )
    waves = wave_file(
        tmp_path,
        "wave-b",
        [
            {"name": "db", "vms": db},
            {"name": "app", "vms": app, "depends_on": ["db"]},
            {"name": "other", "vms": other},
        ],
        failure_policy="continue",
    )
    run, lines, report = run_wave(sim, sshd, tmp_path, "run1", waves, "wave-b", reconfigure_broken=[db[1]])
    assert run.rc != 0, run.output
    assert events(lines) == {
        db[0]: ["cutover_started", "migrated"],
        db[1]: ["cutover_started", "rolled_back"],
        app[0]: ["held"],
        other[0]: ["cutover_started", "migrated"],
    }
    back = next(line for line in lines if line["event"] == "rolled_back")
    assert "domain join refused for eng-build-tst-005" in back["reason"]
    # Its AHV copy is off, its source runs again, and the VMs that depend on it never left vCenter.
    assert ahv_vm(sim, back["ahv_ext_id"])["powerState"] == "OFF"
    assert vcenter_vm(sim, db[1])["power_state"] == "POWERED_ON"
    assert vcenter_vm(sim, app[0])["power_state"] == "POWERED_ON"
    held = next(line for line in lines if line["event"] == "held")
    assert held["reason"] == "group(s) db it depends on failed"
    assert not report["paused"] and report["migrated"] == [db[0], other[0]] and report["held"] == app


def test_readiness_policy_stop_stops_before_seeding_and_takes_the_plan_back(sim, sshd, tmp_path):
    waves = wave_file(
        tmp_path,
        "wave-c",
        [{"name": "all", "vms": ["fin-fileshare-tst-003", NO_TOOLS]}],
        readiness_policy="stop",
    )
    run, lines, report = run_wave(sim, sshd, tmp_path, "run1", waves, "wave-c")
    assert run.rc != 0 and report is None
    assert "stopped before seeding, as its readiness_policy is stop" in run.output
    assert [(line["vm_name"], line["event"]) for line in lines] == [(NO_TOOLS, "not_ready")]
    assert "VMware Tools are not installed" in lines[0]["reason"]
    names = [p["MetaData"]["Name"] for p in sim.move("POST", "/plans/list", json={}).json()["Entities"]]
    assert "wave-c-1" not in names
    assert vcenter_vm(sim, "fin-fileshare-tst-003")["power_state"] == "POWERED_ON"


def test_a_wrong_wave_file_or_window_stops_before_anything_happens(sim, sshd, tmp_path):
    waves = wave_file(
        tmp_path,
        "wave-d",
        [{"name": "app", "vms": ["no-such-vm"], "depends_on": ["dbs"]}],
        window={"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"},
        failure_policy="retry",
    )
    run, lines, _ = run_wave(sim, sshd, tmp_path, "run1", waves, "wave-d")
    assert run.rc != 0 and lines == []
    assert "the wave file has 2 mistakes" in run.output
    assert "waves[0].failure_policy: 'retry' is not one of pause, continue" in run.output
    assert "waves[0].groups[0].depends_on: 'dbs' is not a group of this wave (groups: app)" in run.output

    waves = wave_file(
        tmp_path,
        "wave-d",
        [{"name": "app", "vms": ["no-such-vm", "fin-fileshare-tst-003"]}],
        window={"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"},
    )
    run, lines, _ = run_wave(sim, sshd, tmp_path, "run2", waves, "wave-d")
    assert run.rc != 0 and "group app.vms: vCenter has no VM named no-such-vm" in run.output

    waves = wave_file(
        tmp_path,
        "wave-d",
        [{"name": "app", "vms": ["fin-fileshare-tst-003"]}],
        window={"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"},
    )
    run, lines, _ = run_wave(sim, sshd, tmp_path, "run3", waves, "wave-d")
    assert run.rc != 0 and lines == []
    assert "Wave wave-d may run from 2020-01-01T00:00:00+00:00 to 2020-01-02T00:00:00+00:00" in run.output
    assert sim.move("POST", "/plans/list", json={}).json()["Entities"] in ([], None)


def test_guests_are_prepared_with_the_wave_and_group_accounts_and_an_unprepared_vm_is_left_out(
    sim, sshd, tmp_path
):
    own, unnamed, common = "fin-fileshare-tst-003", "eng-build-tst-005", "eng-tickets-stg-007"
    # A password is data: Jinja in it reaches Move verbatim (the guest takes exactly it) and runs nothing.
    traps = tmp_path / "traps"
    traps.mkdir()
    password = (
        f"Gu3st!{{{{ lookup('pipe', 'touch {traps}/expr') }}}}"
        f"{{% set x = lookup('pipe', 'touch {traps}/stmt') %}}"
    )
    for name in (own, unnamed):
        sim.control(
            "POST",
            f"vcenter/vms/{vcenter_vm(sim, name)['vm']}/guest-account",
            {"username": "svc-move", "password": password},
        )
    account = {"username": "svc-move", "password_env": "MIGRATION_GUEST_SVC_PASSWORD"}
    waves = wave_file(
        tmp_path,
        "wave-e",
        [{"name": "all", "vms": [own, unnamed, common], "guest_credentials": {"vms": {own: account}}}],
    )
    run, lines, report = run_wave(sim, sshd, tmp_path, "run0", waves, "wave-e")
    assert run.rc != 0 and lines == [], "a password the wave names must be set before anything happens"
    assert (
        "The wave file names MIGRATION_GUEST_SVC_PASSWORD for a guest password, and it is not set"
        in run.output
    )

    run, lines, report = run_wave(
        sim, sshd, tmp_path, "run1", waves, "wave-e", env={"MIGRATION_GUEST_SVC_PASSWORD": password}
    )
    assert sorted(report["migrated"]) == sorted([own, common]), run.output
    not_ready = next(line for line in lines if line["event"] == "not_ready")
    assert not_ready["vm_name"] == unnamed
    assert f"Guest preparation of VM {unnamed} is not done: Guest login failed" in not_ready["reason"]
    assert password not in run.output and PASSWORD not in run.output
    assert list(traps.iterdir()) == []


def test_a_vm_that_fails_on_ahv_in_a_batch_goes_back_alone_and_its_group_lands(sim, sshd, tmp_path):
    group = ["fin-fileshare-tst-003", "eng-build-tst-005", "eng-tickets-stg-007"]
    waves = wave_file(
        tmp_path,
        "wave-f",
        [{"name": "all", "vms": group, "categories": {"AppTier": "App"}}],
        failure_policy="continue",
    )
    # The group's VMs are tagged in one batch; Prism fails one VM's association task.
    sim.control(
        "POST", "tasks/fail-next", {"operation": "AssociateCategories", "message": "Category is locked"}
    )
    run, lines, report = run_wave(
        sim, sshd, tmp_path, "run1", waves, "wave-f", migration_wave_reconfigure_tasks=""
    )
    assert run.rc != 0, run.output
    (back,) = [line for line in lines if line["event"] == "rolled_back"]
    assert back["reason"].startswith("Categories failed on AHV:") and "Category is locked" in back["reason"]
    assert report["rolled_back"] == [back["vm_name"]]
    assert sorted(report["migrated"]) == sorted(set(group) - {back["vm_name"]})
    # Its AHV copy is off and its source runs again; the others run on AHV with their Categories.
    assert ahv_vm(sim, back["ahv_ext_id"])["powerState"] == "OFF"
    assert vcenter_vm(sim, back["vm_name"])["power_state"] == "POWERED_ON"
    for line in lines:
        if line["event"] == "migrated":
            vm = ahv_vm(sim, line["ahv_ext_id"])
            assert vm["powerState"] == "ON" and {"AppTier:App", "Environment:Test"} <= category_pairs(sim, vm)
            assert vcenter_vm(sim, line["vm_name"])["power_state"] == "POWERED_OFF"

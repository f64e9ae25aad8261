"""playbooks/dr_replicate.yml and playbooks/dr_drill.yml against the simulator, end to end."""

import json
from datetime import UTC, datetime, timedelta

from playbook import run_playbook

SCOPE = {"Environment": ["Production", "Test"], "Department": "Finance"}
RULES = [
    {"category": {"Environment": "Production"}, "retention": "14d"},
    {"category": {"Environment": "Test"}, "retention": "3d"},
    {"category": {"Criticality": "High"}, "retention": "30d"},
]


def categories_by_vm(sim) -> dict[str, dict[str, str]]:
    vms, names = sim.estate()
    return {vm["extId"]: dict(names[c["extId"]] for c in vm["categories"]) for vm in vms}


def replicate(sim, tmp_path, webhook=None, **extra):
    variables = {
        "dr_replicate_scope": SCOPE,
        "dr_replicate_retention_rules": RULES,
        "dr_replicate_report_dir": str(tmp_path / "reports"),
        "dr_replicate_run_id": "run1",
        **extra,
    }
    env = {"DAY2OPS_WEBHOOK_URL": webhook.url} if webhook else {}
    run = run_playbook(sim, tmp_path, "dr_replicate.yml", variables, env)
    report = tmp_path / "reports" / f"dr-{variables['dr_replicate_run_id']}.json"
    return run, json.loads(report.read_text()) if report.exists() else None


def test_scope_retention_replication_and_report(sim, tmp_path, webhook):
    sim.control(
        "POST", "tasks/fail-next", {"operation": "EntitySnapshotReplicate", "message": "DR link down"}
    )
    run, report = replicate(sim, tmp_path, webhook)
    assert run.rc == 2 and report, run.output
    cats = categories_by_vm(sim)
    in_scope = {
        i
        for i, c in cats.items()
        if c.get("Department") == "Finance" and c.get("Environment") in ("Production", "Test")
    }
    assert {vm["ext_id"] for vm in report["vms"]} == in_scope and len(in_scope) > 20
    assert report["counts"] == {"protected": len(in_scope) - 1, "failed": 1}
    (failed,) = [vm for vm in report["vms"] if vm["status"] == "failed"]
    assert (
        failed["step"] == "replicate"
        and "DR link down" in failed["reason"]
        and failed["recovery_point_ext_id"]
    )
    assert f"1 of {len(in_scope)} VM(s) not protected: {failed['vm_name']} at replicate: " in run.output
    # The most protective rule wins: Production+High 30 days, Production 14, Test 3.
    now = datetime.now(UTC)
    for vm in report["vms"]:
        c = cats[vm["ext_id"]]
        days = 30 if c.get("Criticality") == "High" else 14 if c["Environment"] == "Production" else 3
        assert vm["retention"] == {30: "30d", 14: "14d", 3: "3d"}[days], vm
        expires = datetime.fromisoformat(vm["expiration_time"].replace("Z", "+00:00"))
        assert abs(expires - (now + timedelta(days=days))) < timedelta(minutes=5)
        assert vm["recovery_point_name"] == f"dr-{vm['vm_name']}-run1"
    assert {vm["retention"] for vm in report["vms"]} == {"30d", "14d", "3d"}
    markdown = (tmp_path / "reports" / "dr-run1.md").read_text()
    assert f"**protected**: {len(in_scope) - 1}" in markdown and failed["vm_name"] in markdown
    assert "| protected | verify |" in markdown
    (note,) = webhook.received
    assert (
        ":warning:" in note["text"] and "DR link down" in note["text"] and failed["vm_name"] in note["text"]
    )
    assert "secret-token" not in run.output

    # The pre-drill check of the same recovery points: the failed one has no copy on DR.
    sources = [vm["recovery_point_ext_id"] for vm in report["vms"]]
    run, check = replicate(
        sim,
        tmp_path,
        dr_replicate_verify_only=True,
        dr_replicate_recovery_point_ext_ids=sources,
        dr_replicate_run_id="check1",
    )
    assert run.rc == 2, run.output
    assert check["mode"] == "verify_only" and check["counts"] == {"protected": len(in_scope) - 1, "failed": 1}
    assert [vm["replica_ext_id"] for vm in check["vms"]] == [vm["replica_ext_id"] for vm in report["vms"]]

    # Retention on the clock: after four days the Test points and their replicas are gone.
    sim.control("POST", "clock", {"advance_seconds": 4 * 86400})
    run, after = replicate(
        sim,
        tmp_path,
        dr_replicate_verify_only=True,
        dr_replicate_recovery_point_ext_ids=sources,
        dr_replicate_run_id="c2",
    )
    gone = {r["recovery_point_ext_id"] for r in after["vms"] if r["status"] == "failed"}
    three_days = {vm["recovery_point_ext_id"] for vm in report["vms"] if vm["retention"] == "3d"}
    assert three_days and gone == three_days | {failed["recovery_point_ext_id"]}


def drill(sim, tmp_path, sources, probe_path="health", run_id="drill1"):
    variables = {
        "dr_drill_recovery_point_ext_ids": sources,
        "dr_drill_probe_url": f"{sim.base_url}/_sim/guests/{{ext_id}}/{probe_path}",
        "dr_drill_probe_validate_certs": False,
        "dr_drill_probe_retries": 1,
        "dr_drill_probe_delay": 1,
        "dr_drill_report_dir": str(tmp_path / "reports"),
        "dr_drill_run": run_id,
    }
    run = run_playbook(sim, tmp_path, "dr_drill.yml", variables)
    report = tmp_path / "reports" / f"drill-{run_id}.json"
    return run, json.loads(report.read_text()) if report.exists() else None


def drill_vms(sim):
    flt = "startswith(name, 'drill-')"
    return sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": flt}).json().get("data") or []


def test_drill_restores_probes_and_cleans_up(sim, tmp_path):
    run, report = replicate(
        sim, tmp_path / "dr", dr_replicate_scope={"Department": "Legal", "Environment": "Production"}
    )
    assert run.rc == 0, run.output
    sources = [vm["recovery_point_ext_id"] for vm in report["vms"]][:3]
    run, result = drill(sim, tmp_path / "drill", sources)
    assert run.rc == 0, run.output
    assert result["passed"] and result["left_behind"] == [] and len(result["vms"]) == 3
    for vm in result["vms"]:
        assert vm["result"] == "passed" and vm["probe_status"] == 200 and vm["deleted"]
        assert vm["drill_vm_name"].startswith("drill-drill1-dr-")
        operations = [sim.wait_task(t)["operation"] for t in vm["task_ext_ids"]]
        # dataprotection v4.0 has no restore overrides: the drill VM is renamed and re-tagged through vmm.
        assert operations[:4] == [
            "RestoreRecoveryPoint",
            "UpdateVm",
            "DisassociateCategories",
            "AssociateCategories",
        ]
        assert operations[4:] == ["PowerOnVm", "DeleteVm"], operations
    assert drill_vms(sim) == []  # every drill VM deleted
    restores = sim.api(
        "GET", "/api/prism/v4.0/config/tasks", params={"$filter": "operation eq 'RestoreRecoveryPoint'"}
    ).json()["data"]
    assert len(restores) == 3 and all(t["status"] == "SUCCEEDED" for t in restores)
    assert "PASSED" in (tmp_path / "drill" / "reports" / "drill-drill1.md").read_text()


def test_drill_names_fit_prism_whatever_the_run_id_and_point_names(sim, tmp_path):
    # App runs: a 36-character run id for the replication (so in each point's name) and for the drill.
    # drill-<run id>-<point name> was over Prism's 80 characters, and every restore was refused.
    replication, drill_run = "6b1f3c2e-4d5a-4b6c-8d7e-9f0a1b2c3d4e", "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"
    run, report = replicate(
        sim,
        tmp_path / "dr",
        dr_replicate_scope={"Department": "Legal", "Environment": "Production"},
        dr_replicate_run_id=replication,
    )
    assert run.rc == 0, run.output
    points = report["vms"][:2]
    assert all(len(f"drill-{drill_run}-{p['recovery_point_name']}") > 80 for p in points)
    run, result = drill(
        sim, tmp_path / "drill", [p["recovery_point_ext_id"] for p in points], run_id=drill_run
    )
    assert run.rc == 0, run.output
    assert result["passed"] and [vm["result"] for vm in result["vms"]] == ["passed", "passed"]
    names = [vm["drill_vm_name"] for vm in result["vms"]]
    assert all(len(n) <= 80 and n.startswith("drill-0c9d8e7f-dr-") for n in names) and len(set(names)) == 2
    # Prism took each rename (UpdateVm refuses a name over 80 characters).
    tasks = [sim.wait_task(t) for vm in result["vms"] for t in vm["task_ext_ids"]]
    renames = [t for t in tasks if t["operation"] == "UpdateVm"]
    assert len(renames) == 2 and all(t["status"] == "SUCCEEDED" for t in tasks)
    assert drill_vms(sim) == []


def test_a_failed_validation_still_cleans_up(sim, tmp_path):
    run, report = replicate(
        sim, tmp_path / "dr", dr_replicate_scope={"Department": "Legal", "Environment": "Production"}
    )
    sources = [vm["recovery_point_ext_id"] for vm in report["vms"]][:2]
    run, result = drill(
        sim, tmp_path / "drill", [*sources, "00000000-1111-4222-8333-444444444444"], "no-such-probe"
    )
    assert run.rc == 2, run.output
    assert not result["passed"] and result["left_behind"] == []
    assert [vm["result"] for vm in result["vms"]] == ["probe failed", "probe failed", "no copy on DR"]
    assert all(vm["deleted"] for vm in result["vms"][:2])
    assert drill_vms(sim) == []
    assert (
        "DR drill drill1 failed for" in run.output
        and "FAILED" in (tmp_path / "drill" / "reports" / "drill-drill1.md").read_text()
    )

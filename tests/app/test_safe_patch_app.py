"""The headline flow through the app: an operator asks to patch a Category, an approver approves,
ansible-runner runs playbooks/safe_patch.yml over real SSH, and the execution keeps every Prism task."""

from app_process import start_patch_lab_app

BROKEN = "hr-portal-tst-app-141"


def test_operator_asks_approver_approves_run_keeps_evidence(sim, sshd, tmp_path, webhook):
    app = start_patch_lab_app(sim, sshd, tmp_path)
    try:
        broken = sim.vm(BROKEN)
        sim.control("POST", f"guests/{broken['extId']}", {"break_next_patch": True})
        olivia, alex = app.client("olivia"), app.client("alex")
        execution = olivia.run(
            "safe_patch",
            department="HR",
            environment="Test",
            app_tier="App",
            serial=3,
            webhook_url=webhook.url,
        )
        assert execution["status"] == "pending_approval"
        (gate,) = alex.get("/api/approvals").json()
        r = alex.post(
            f"/api/approvals/{gate['id']}/decision", {"decision": "approve", "comment": "window ok"}
        )
        assert r.status_code == 200 and r.json()["status"] == "approved"

        done = olivia.wait(execution["id"], timeout=600)
        record = olivia.get(f"/api/runs/{execution['id']}/evidence").json()
        assert done["status"] == "failed", app.log()  # the broken VM fails its host, after its revert
        assert [t["to_status"] for t in record["transitions"]] == [
            "pending_approval",
            "queued",
            "running",
            "failed",
        ]
        (approval,) = record["approvals"]
        assert (
            approval["decisions"][0]["reviewer"] == "alex"
            and approval["decisions"][0]["comment"] == "window ok"
        )
        # Per VM: its recovery point, with the create task; the broken one also its revert task.
        by_host = {}
        for row in record["evidence"]:
            by_host.setdefault(row["host"], []).append(row)
        assert set(by_host) == {"hr-wiki-tst-app-036", "hr-portal-tst-app-071", BROKEN}
        reverts = sim.api(
            "GET", "/api/prism/v4.0/config/tasks", params={"$filter": "operation eq 'RevertVm'"}
        ).json()["data"]
        (revert,) = reverts
        assert revert["extId"] in {t for row in by_host[BROKEN] for t in row["task_ext_ids"]}
        taken = {}
        for host, rows in by_host.items():
            (created,) = [row for row in rows if row["action"] == "day2ops.ahv.recovery_point"]
            assert len(created["recovery_point_ext_ids"]) == 1 and created["task_ext_ids"], created
            taken[host] = created
        # The revert used the VM recovery point of the recovery point this run took of that VM.
        (reverted,) = [
            row for row in by_host[BROKEN] if row["action"] == "day2ops.ahv.recovery_point_restore"
        ]
        (vm_recovery_point,) = reverted["recovery_point_ext_ids"]
        assert vm_recovery_point in taken[BROKEN]["ext_ids"]
        # History by VM: by name or ext_id, only the runs whose evidence names it.
        for vm in (BROKEN, broken["extId"]):
            assert [r["id"] for r in olivia.get("/api/runs", params={"vm": vm}).json()] == [execution["id"]]
        assert olivia.get("/api/runs", params={"vm": "hr-portal-tst-db-999"}).json() == []
        events = olivia.get(f"/api/runs/{execution['id']}/events?limit=1000").json()
        assert any("ROLLED BACK" in e["stdout"] for e in events)
        assert webhook.url.encode() not in (tmp_path / "audit.db").read_bytes()
    finally:
        app.stop()

"""playbooks/safe_patch.yml end to end: simulator, a real loopback sshd, real HTTP probes, a real webhook."""

import json
import os
import signal
import time

from safe_patch_lab import SCOPE, Prism, safe_patch

BROKEN = "hr-portal-tst-app-141"


def guest(sim, name):
    return sim.control("GET", f"guests/{sim.vm(name)['extId']}")


def tasks(sim, operation):
    listed = sim.api(
        "GET",
        "/api/prism/v4.0/config/tasks",
        params={"$filter": f"operation eq '{operation}'", "$limit": 100},
    ).json()
    return listed.get("data") or []


def playbook(sim, sshd, tmp_path, webhook=None, categories=None, extra=None, wait=True):
    prism = Prism(sim.host, sim.port, sim.cert_path)
    return safe_patch(prism, sshd, tmp_path, categories, extra, webhook.url if webhook else "", wait)


def summary_lines(output: str) -> list[str]:
    start = output.index("safe_patch: ")
    return [line.strip() for line in output[start:].splitlines() if line.strip()]


def test_patches_a_category_and_rolls_back_the_broken_vm(sim, sshd, tmp_path, webhook):
    broken = sim.vm(BROKEN)
    sim.control("POST", f"guests/{broken['extId']}", {"break_next_patch": True})
    # One of the healthy VMs needs a reboot after its update: ansible.builtin.reboot runs over SSH.
    rebooting = sim.vm("hr-wiki-tst-app-036")
    sim.control("POST", f"guests/{rebooting['extId']}", {"next_patch_requires_reboot": True})
    boot_before = guest(sim, "hr-wiki-tst-app-036")["boot_id"]

    rc, output = playbook(sim, sshd, tmp_path, webhook)
    (tmp_path / "output.txt").write_text(output)

    assert rc == 2, output  # a failed host fails the run
    # The broken VM: reverted in place, powered on again, application healthy, patch level back.
    after = guest(sim, BROKEN)
    assert after["patch_level"] == 0 and after["app_healthy"] and after["power_state"] == "ON"
    reverts = [t for t in tasks(sim, "RevertVm") if t["entitiesAffected"][0]["extId"] == broken["extId"]]
    assert len(reverts) == 1 and reverts[0]["status"] == "SUCCEEDED"
    assert sim.vm(BROKEN)["extId"] == broken["extId"]  # same VM, not a new one
    # The others: patched once, not reverted; the one that asked for a reboot was rebooted.
    for name in ("hr-wiki-tst-app-036", "hr-portal-tst-app-071"):
        assert guest(sim, name)["patch_level"] == 1, name
    assert guest(sim, "hr-wiki-tst-app-036")["boot_id"] != boot_before
    assert len(tasks(sim, "RevertVm")) == 1
    # The host failed with a message a human can act on.
    assert f"ROLLED BACK: VM {BROKEN} ({broken['extId']})" in output
    assert "probe after the update failed: Status code was 503" in output
    # The notification reached the webhook, with the ids; the URL itself is not in the output.
    assert len(webhook.received) == 1
    note = webhook.received[0]
    assert BROKEN in note["text"] and "rolled back" in note["text"]
    assert note["day2ops"]["status"] == "rolled_back"
    assert reverts[0]["extId"] in note["day2ops"]["task_ext_ids"]
    assert "secret-token" not in output
    # The summary: one line per VM, with recovery point and task ids.
    lines = summary_lines(output)
    assert lines[0].startswith(
        "safe_patch: 3 VM(s): 2 patched, 1 rolled back, 0 ROLLBACK FAILED, 0 not patched"
    )
    rolled = next(line for line in lines if line.startswith("ROLLED BACK"))
    assert BROKEN in rolled and reverts[0]["extId"] in rolled and "notified yes" in rolled
    patched = [line for line in lines if line.startswith("PATCHED")]
    assert len(patched) == 2 and all("safe-patch-hr-" in line for line in patched)
    # Every recovery point the run took is on record and still in Prism.
    journal = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    taken = {e["recovery_point_ext_id"] for e in journal if e["event"] == "recovery_point"}
    finished = {e["recovery_point_ext_id"]: e["status"] for e in journal if e["event"] == "finished"}
    assert len(taken) == 3 and set(finished) == taken
    (run_id,) = {e["run_id"] for e in journal}  # one run id across hosts and steps
    assert all(e["recovery_point_name"].endswith(run_id) for e in journal)
    assert sorted(finished.values()) == ["patched", "patched", "rolled_back"]
    for ext_id in taken:
        assert sim.api("GET", f"/api/dataprotection/v4.0/config/recovery-points/{ext_id}").status_code == 200


def test_database_tier_asks_for_app_consistency_and_fails_as_prism_fails(sim, sshd, tmp_path):
    # hr-billing-tst-database-162 has no Nutanix Guest Tools: Prism refuses an app-consistent point.
    scope = {"Department": "HR", "AppTier": "Database", "Environment": "Test"}
    rc, output = playbook(sim, sshd, tmp_path, categories=scope)
    assert rc == 2, output
    assert "NOT PATCHED: VM hr-billing-tst-database-162" in output
    assert "application-consistent recovery point" in output and "Nothing was changed on the VM" in output
    assert guest(sim, "hr-billing-tst-database-162")["patch_level"] == 0
    created = tasks(sim, "CreateRecoveryPoint")
    assert len(created) == 1 and created[0]["status"] == "FAILED"
    assert "0 patched, 0 rolled back, 0 ROLLBACK FAILED, 1 not patched" in output


def test_replay_reuses_the_given_recovery_point(sim, sshd, tmp_path):
    vm = sim.vm("hr-portal-tst-app-071")
    body = {"name": "taken-earlier", "vmRecoveryPoints": [{"vmExtId": vm["extId"]}]}
    task = sim.api("POST", "/api/dataprotection/v4.0/config/recovery-points", json=body).json()["data"][
        "extId"
    ]
    rp_id = sim.wait_task(task)["completionDetails"][0]["value"]
    sim.control("POST", f"guests/{vm['extId']}", {"break_next_patch": True})

    rc, output = playbook(
        sim,
        sshd,
        tmp_path,
        categories={**SCOPE, "Owner": "heidi"},
        extra={"safe_patch_recovery_point_ext_id": rp_id},
    )
    assert rc == 2, output
    assert [t["status"] for t in tasks(sim, "CreateRecoveryPoint")] == ["SUCCEEDED"]  # only ours, above
    assert f"recovery point taken-earlier ({rp_id})" in output
    assert guest(sim, "hr-portal-tst-app-071")["patch_level"] == 0


def test_a_run_killed_mid_patch_leaves_its_recovery_point_on_record(sim, sshd, tmp_path):
    # The package manager hangs inside the guest while `hold` exists; the controller is killed meanwhile.
    hold = tmp_path / "hold"
    hold.write_text("")
    scope = {**SCOPE, "Owner": "heidi"}
    hang = {"PATH": "{{ safe_patch_standins }}:/usr/bin:/bin", "DAY2OPS_SIM_VM": "{{ ext_id }}"}
    process = playbook(
        sim,
        sshd,
        tmp_path / "first",
        categories=scope,
        wait=False,
        extra={"safe_patch_environment": {**hang, "DAY2OPS_STANDIN_HANG": str(hold)}},
    )
    journal = tmp_path / "first" / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (journal.exists() and journal.read_text().strip()):
        time.sleep(0.5)
    assert journal.exists(), process.communicate(timeout=5)[0]
    time.sleep(2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    hold.unlink()  # the stand-in now gives up without patching
    entry = json.loads(journal.read_text().splitlines()[0])
    assert entry["event"] == "recovery_point" and entry["vm_name"] == "hr-portal-tst-app-071"
    rp_id = entry["recovery_point_ext_id"]
    assert sim.api("GET", f"/api/dataprotection/v4.0/config/recovery-points/{rp_id}").status_code == 200

    # The next run for that VM reports the orphan by ext_id, and says how to replay or delete it.
    rc, output = playbook(
        sim, sshd, tmp_path / "second", categories=scope, extra={"safe_patch_journal": str(journal)}
    )
    assert rc == 0, output
    assert f"recovery point {rp_id}" in output and f"safe_patch_recovery_point_ext_id={rp_id}" in output
    assert "UNFINISHED" in output and "has no recorded outcome" in output


def test_a_failed_revert_is_loud_and_keeps_the_recovery_point(sim, sshd, tmp_path, webhook):
    vm = sim.vm("hr-portal-tst-app-071")
    sim.control("POST", f"guests/{vm['extId']}", {"break_next_patch": True})
    sim.control(
        "POST", "tasks/fail-next", {"operation": "RevertVm", "message": "Snapshot restore failed on the host"}
    )
    rc, output = playbook(sim, sshd, tmp_path, webhook, categories={**SCOPE, "Owner": "heidi"})
    assert rc == 2, output
    assert "ROLLBACK FAILED: VM hr-portal-tst-app-071" in output
    assert "Snapshot restore failed on the host" in output and "act now" in output
    assert "0 patched, 0 rolled back, 1 ROLLBACK FAILED, 0 not patched" in output
    (note,) = webhook.received
    assert note["day2ops"]["status"] == "rollback_failed" and "COULD NOT ROLL BACK" in note["text"]
    assert guest(sim, "hr-portal-tst-app-071")["app_healthy"] is False  # nothing pretends otherwise
    (rp,) = sim.api("GET", "/api/dataprotection/v4.0/config/recovery-points").json()["data"]
    assert rp["extId"] in output


def test_a_batch_over_the_failure_budget_stops_the_rollout(sim, sshd, tmp_path):
    # Batches of two, no failure allowed: hr-portal-tst-app-071 and -141 go first, -141 breaks.
    sim.control("POST", f"guests/{sim.vm(BROKEN)['extId']}", {"break_next_patch": True})
    rc, output = playbook(
        sim, sshd, tmp_path, extra={"safe_patch_serial": 2, "safe_patch_max_fail_percentage": 0}
    )
    assert rc == 2, output
    assert guest(sim, "hr-portal-tst-app-071")["patch_level"] == 1
    assert guest(sim, BROKEN)["patch_level"] == 0
    assert guest(sim, "hr-wiki-tst-app-036")["patch_level"] == 0  # never reached
    assert "hr-wiki-tst-app-036" not in output
    assert "safe_patch: 2 VM(s): 1 patched, 1 rolled back" in output

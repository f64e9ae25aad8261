"""vm_power and vm_categories given many VMs: each VM its own task with its own ETag, the tasks polled
together, and each VM reported on its own, a failed one too."""

from playbook import run_tasks
from test_modules import category_pairs, four_steps

TIER = ["hr-portal-tst-app-071", "hr-portal-tst-app-141", "hr-crm-tst-web-085"]


def vms_named(sim, names: list[str]) -> list[dict]:
    flt = " or ".join(f"name eq '{n}'" for n in names)
    found = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": flt}).json()["data"]
    return sorted(found, key=lambda vm: names.index(vm["name"]))


def test_batch_power_four_steps_and_one_entry_per_vm(sim, tmp_path):
    task = {"day2ops.ahv.vm_power": {"vm_names": TIER, "state": "powered_off"}}
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    assert [vm["powerState"] for vm in vms_named(sim, TIER)] == ["OFF"] * 3
    ids = [vm["extId"] for vm in vms_named(sim, TIER)]
    task = {"day2ops.ahv.vm_power": {"vm_ext_ids": ids, "state": "powered_on"}}
    run = run_tasks(sim, tmp_path / "on", [task], args=("--diff",))
    assert run.rc == 0, run.output
    result = run.results[0]
    assert [(r["vm_ext_id"], r["vm_name"], r["status"], r["power_state"]) for r in result["results"]] == [
        (i, n, "changed", "ON") for i, n in zip(ids, TIER, strict=True)
    ]
    assert all(len(r["task_ext_ids"]) == 1 and r["reason"] is None for r in result["results"])
    assert result["task_ext_ids"] == [t for r in result["results"] for t in r["task_ext_ids"]]
    assert result["counts"] == {"changed": 3}
    assert result["diff"] == {"before": dict.fromkeys(TIER, "OFF"), "after": dict.fromkeys(TIER, "ON")}


def test_a_vm_whose_power_task_fails_is_reported_off_and_the_others_go_on(sim, tmp_path):
    ids = [vm["extId"] for vm in vms_named(sim, TIER)]
    sim.control("POST", "tasks/fail-next", {"operation": "PowerOffVm", "message": "Host is in maintenance"})
    task = {"day2ops.ahv.vm_power": {"vm_ext_ids": ids, "state": "powered_off"}}
    run = run_tasks(sim, tmp_path / "strict", [task], ignore_errors=True)
    result = run.results[0]
    assert result["failed"] and result["counts"] == {"changed": 2, "failed": 1}
    (failed,) = [r for r in result["results"] if r["status"] == "failed"]
    assert "Host is in maintenance" in failed["reason"] and failed["task_ext_ids"][0] in failed["reason"]
    assert failed["power_state"] == "ON"  # read again: the VM it could not stop is named as it is
    assert "1 of 3 VM(s) failed" in result["msg"] and failed["vm_name"] in result["msg"]
    # fail_on_error: false leaves the decision to the caller; a name Prism does not know is one VM's failure.
    task = {
        "day2ops.ahv.vm_power": {
            "vm_names": [*TIER, "no-such-vm"],
            "state": "powered_on",
            "fail_on_error": False,
        }
    }
    run = run_tasks(sim, tmp_path / "lenient", [task])
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["counts"] == {"changed": 2, "unchanged": 1, "failed": 1}
    assert "no VM has that name" in result["results"][3]["reason"]
    assert [vm["powerState"] for vm in vms_named(sim, TIER)] == ["ON"] * 3


def test_a_guest_that_does_not_shut_down_is_powered_off_only_when_told(sim, tmp_path):
    names = TIER[:2]  # one VM shuts down through Nutanix Guest Tools, the other through ACPI

    def guests_ignore_it():
        for operation in ("ShutdownGuestVm", "ShutdownVm"):
            sim.control("POST", "tasks/fail-next", {"operation": operation, "message": "guest ignored it"})

    guests_ignore_it()
    task = {"day2ops.ahv.vm_power": {"vm_names": names, "state": "shutdown"}}
    run = run_tasks(sim, tmp_path / "strict", [task], ignore_errors=True)
    results = run.results[0]["results"]
    assert run.results[0]["failed"] and [r["status"] for r in results] == ["failed", "failed"]
    assert [r["power_state"] for r in results] == ["ON", "ON"] and not any(r["forced_off"] for r in results)
    guests_ignore_it()
    task["day2ops.ahv.vm_power"]["force_off"] = True
    run = run_tasks(sim, tmp_path / "forced", [task])
    assert run.rc == 0, run.output
    for entry in run.results[0]["results"]:
        assert entry["forced_off"] and entry["status"] == "changed" and len(entry["task_ext_ids"]) == 2
        assert "guest ignored it" in entry["reason"] and entry["reason"].endswith("powered off")
        assert entry["power_state"] == "OFF"
    assert [vm["powerState"] for vm in vms_named(sim, names)] == ["OFF", "OFF"]


def test_batch_categories_four_steps_each_vm_its_own_tasks(sim, tmp_path):
    task = {"day2ops.ahv.vm_categories": {"vm_names": TIER[:2], "categories": {"Criticality": "High"}}}
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    for vm in vms_named(sim, TIER[:2]):
        assert "Criticality:High" in category_pairs(sim, vm)
    # Purge: an association, then each VM's disassociation, sent with its ETag read again in between.
    task = {
        "day2ops.ahv.vm_categories": {"vm_names": TIER[:2], "categories": {"Department": "HR"}, "purge": True}
    }
    run = run_tasks(sim, tmp_path / "purge", [task])
    assert run.rc == 0, run.output
    for entry, vm in zip(run.results[0]["results"], vms_named(sim, TIER[:2]), strict=True):
        assert entry["status"] == "changed" and "Criticality:High" in entry["disassociated"]
        assert entry["categories"]["Department"] == ["HR"] and "Criticality" not in entry["categories"]
        pairs = category_pairs(sim, vm)
        assert "Department:HR" in pairs and "Criticality:High" not in pairs


def test_a_vm_whose_categories_fail_is_reported_and_the_others_are_tagged(sim, tmp_path):
    sim.control(
        "POST", "tasks/fail-next", {"operation": "AssociateCategories", "message": "Category is locked"}
    )
    task = {
        "day2ops.ahv.vm_categories": {
            "vm_names": TIER,
            "categories": {"Criticality": "High"},
            "fail_on_error": False,
        }
    }
    run = run_tasks(sim, tmp_path, [task])
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["counts"] == {"changed": 2, "failed": 1}
    (failed,) = [r for r in result["results"] if r["status"] == "failed"]
    assert "Category is locked" in failed["reason"] and len(failed["task_ext_ids"]) == 1
    tagged = [vm for vm in vms_named(sim, TIER) if "Criticality:High" in category_pairs(sim, vm)]
    assert sorted(vm["name"] for vm in tagged) == sorted(set(TIER) - {failed["vm_name"]})


def test_a_429_storm_powers_each_vm_once(sim, tmp_path):
    ids = [vm["extId"] for vm in vms_named(sim, TIER)]
    for operation in ("power_off_vm", "get_vm_by_id", "list_tasks"):
        sim.control(
            "POST", "faults", {"operation": operation, "count": 4, "status": 429, "retry_after": 0.05}
        )
    # An answer lost after the call took effect: only NTNX-Request-Id replay keeps it one task.
    sim.control(
        "POST", "faults", {"operation": "power_off_vm", "count": 1, "status": 503, "after_handler": True}
    )
    run = run_tasks(sim, tmp_path, [{"day2ops.ahv.vm_power": {"vm_ext_ids": ids, "state": "powered_off"}}])
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["counts"] == {"changed": 3} and len(set(result["task_ext_ids"])) == 3
    assert sim.control("GET", "faults")["faults"] == []  # the storm really happened
    flt = {"$filter": "operation eq 'PowerOffVm'", "$limit": 100}
    tasks = sim.api("GET", "/api/prism/v4.0/config/tasks", params=flt).json()["data"]
    assert sorted(t["extId"] for t in tasks) == sorted(result["task_ext_ids"])

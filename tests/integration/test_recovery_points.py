"""The recovery point modules as Ansible runs them, against the simulator process."""

import pytest
from playbook import connection, run_tasks

VM = "hr-portal-tst-app-071"  # powered on, no VSS-capable guest tools
VSS_VM = "hr-wiki-tst-app-036"  # powered on, NGT with the VSS capability
RPS = "/api/dataprotection/v4.0/config/recovery-points"


def points(sim, **params):
    return sim.api("GET", RPS, params=params).json().get("data") or []


def test_create_is_idempotent_by_name_and_moves_the_expiry(sim, tmp_path):
    task = {"day2ops.ahv.recovery_point": {"name": "pre-change", "vm_names": [VM], "retention": "2d"}}
    changed = []
    for i, check in enumerate((True, False, True, False)):
        run = run_tasks(sim, tmp_path / str(i), [task], args=("--check",) if check else ())
        assert run.rc == 0, run.output
        changed.append(run.results[0]["changed"])
    assert changed == [True, True, False, False]
    (rp,) = points(sim)
    assert rp["name"] == "pre-change" and rp["recoveryPointType"] == "CRASH_CONSISTENT"

    run = run_tasks(
        sim,
        tmp_path / "expiry",
        [{"day2ops.ahv.recovery_point": {"ext_id": rp["extId"], "expiration_time": "2099-01-01T00:00:00Z"}}],
        args=("--diff",),
    )
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["changed"] and result["task_ext_id"].startswith("ZXJnb24=:")
    assert result["diff"]["after"]["expiration_time"] == "2099-01-01T00:00:00Z"
    assert (
        sim.api("GET", f"{RPS}/{rp['extId']}")
        .json()["data"]["expirationTime"]
        .startswith("2099-01-01T00:00:00")
    )


def test_application_consistent_needs_guest_tools_and_says_so(sim, tmp_path):
    run = run_tasks(
        sim,
        tmp_path,
        [
            {
                "day2ops.ahv.recovery_point": {
                    "name": "db-ok",
                    "vm_names": [VSS_VM],
                    "consistency": "application_consistent",
                    "vss_backup_type": "copy_backup",
                }
            },
            {
                "day2ops.ahv.recovery_point": {
                    "name": "db-refused",
                    "vm_names": [VM],
                    "consistency": "application_consistent",
                }
            },
        ],
        ignore_errors=True,
    )
    ok, refused = run.results
    assert not ok.get("failed") and ok["recovery_point_type"] == "APPLICATION_CONSISTENT"
    props = ok["recovery_point"]["vmRecoveryPoints"][0]["applicationConsistentProperties"]
    assert props["backupType"] == "COPY_BACKUP"
    assert refused["failed"] and "Nutanix Guest Tools" in refused["msg"]
    assert refused["task_ext_id"] and refused["ext_id"] is None
    assert "nothing was created if the task FAILED" in refused["msg"]
    assert [p["name"] for p in points(sim)] == ["db-ok"]


def test_bad_expiry_input_names_the_option(sim, tmp_path):
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.recovery_point": {"name": "x", "vm_names": [VM], "retention": "two weeks"}},
            {
                "day2ops.ahv.recovery_point": {
                    "name": "x",
                    "vm_names": [VM],
                    "expiration_time": "2001-01-01T00:00:00Z",
                }
            },
            {"day2ops.ahv.recovery_point": {"name": "x", "vm_names": [VM], "expiration_time": "next friday"}},
        ],
        ignore_errors=True,
    )
    retention, past, garbled = (r["msg"] for r in run.results)
    assert "read retention" in retention and "90m, 36h, 14d or 2w" in retention
    assert "in the past" in past
    assert "read expiration_time" in garbled and "2026-12-31T00:00:00Z" in garbled
    assert points(sim) == []


def test_info_by_vm_name_and_cluster_and_delete(sim, tmp_path):
    other = "hr-portal-tst-app-141"
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.recovery_point": {"name": "a", "vm_names": [VM]}},
            {"day2ops.ahv.recovery_point": {"name": "b", "vm_names": [other]}},
            {"day2ops.ahv.recovery_point_info": {"vm_name": VM}},
            {"day2ops.ahv.recovery_point_info": {"name": "b"}},
            {"day2ops.ahv.recovery_point_info": {"cluster": "dr-ahv-01"}},
            {
                "day2ops.ahv.recovery_point_info": {
                    "filter": "name eq 'a' or name eq 'b'",
                    "order_by": "name desc",
                }
            },
            {"day2ops.ahv.recovery_point": {"name": "a", "state": "absent"}},
            {"day2ops.ahv.recovery_point": {"name": "a", "state": "absent"}},
        ],
    )
    assert run.rc == 0, run.output
    a, b, by_vm, by_name, on_dr, both, deleted, again = run.results
    assert [p["ext_id"] for p in by_vm["recovery_points"]] == [a["ext_id"]]
    assert by_vm["recovery_points"][0]["vm_ext_ids"] == [sim.vm(VM)["extId"]]
    assert [p["ext_id"] for p in by_name["recovery_points"]] == [b["ext_id"]]
    assert on_dr["total"] == 0
    assert [p["name"] for p in both["recovery_points"]] == ["b", "a"]
    assert deleted["changed"] and deleted["task_ext_id"] and not again["changed"]
    assert [p["name"] for p in points(sim)] == ["b"]


@pytest.mark.parametrize(
    ("version", "operations"),
    [
        # v4.0 restores the captured name and Categories: renamed and re-tagged through vmm, then on.
        (
            "v4.0",
            [
                "RestoreRecoveryPoint",
                "UpdateVm",
                "DisassociateCategories",
                "AssociateCategories",
                "PowerOnVm",
            ],
        ),
        # From v4.1 the restore's vmOverrideSpec names and tags the new VM itself.
        ("v4.1", ["RestoreRecoveryPoint", "PowerOnVm"]),
    ],
)
def test_replicate_then_restore_a_copy_on_dr(sim, tmp_path, version, operations):
    refused_before = len(sim.conformance()["refused"])
    run = run_tasks(
        sim,
        tmp_path,
        defaults=connection(sim, api_versions={"dataprotection": version}),
        tasks=[
            {"day2ops.ahv.recovery_point": {"name": "dr", "vm_names": [VM], "retention": "14d"}},
            {"day2ops.ahv.recovery_point_replicate": {"ext_id": "{{ r0.ext_id }}", "cluster": "dr-ahv-01"}},
            {"day2ops.ahv.recovery_point_replicate": {"ext_id": "{{ r0.ext_id }}", "cluster": "dr-ahv-01"}},
            {
                "day2ops.ahv.recovery_point_restore": {
                    "mode": "restore",
                    "ext_id": "{{ r1.replica_ext_id }}",
                    "new_name": "drill-hr-portal",
                    "categories": {"Environment": "Test", "Owner": "alice"},
                    "power_on": True,
                }
            },
            {"day2ops.ahv.recovery_point_info": {"cluster": "dr-ahv-01"}},
        ],
    )
    assert run.rc == 0, run.output
    rp, replicated, again, restored, on_dr = run.results
    assert replicated["changed"] and not again["changed"]
    assert again["replica_ext_id"] == replicated["replica_ext_id"] != rp["ext_id"]
    assert replicated["location_agnostic_id"] == rp["location_agnostic_id"]
    assert [p["ext_id"] for p in on_dr["recovery_points"]] == [replicated["replica_ext_id"]]
    new_vm = sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{restored['vm_ext_id']}").json()["data"]
    assert new_vm["name"] == "drill-hr-portal" and new_vm["powerState"] == "ON"
    assert new_vm["cluster"]["extId"] == replicated["target_cluster_ext_id"]
    assert len(new_vm["categories"]) == 2
    assert [sim.wait_task(t)["operation"] for t in restored["task_ext_ids"]] == operations
    assert sim.conformance()["refused"][refused_before:] == []  # the simulator took every request as it was
    assert sim.vm(VM)["extId"] != new_vm["extId"]


def test_revert_keeps_the_vm_and_powers_it_on_again(sim, tmp_path):
    vm = sim.vm(VM)
    sim.control("POST", f"guests/{vm['extId']}", {"break_next_patch": True})
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.recovery_point": {"name": "before", "vm_ext_ids": [vm["extId"]]}},
            {
                "ansible.builtin.uri": {
                    "url": f"{sim.base_url}/_sim/guests/{vm['extId']}/patch",
                    "method": "POST",
                    "validate_certs": False,
                }
            },
            {
                "day2ops.ahv.recovery_point_restore": {
                    "mode": "revert",
                    "ext_id": "{{ r0.ext_id }}",
                    "vm_name": VM,
                },
                "check_mode": True,
            },
            {
                "day2ops.ahv.recovery_point_restore": {
                    "mode": "revert",
                    "ext_id": "{{ r0.ext_id }}",
                    "vm_name": VM,
                }
            },
            {
                "day2ops.ahv.recovery_point_restore": {
                    "mode": "revert",
                    "ext_id": "{{ r0.ext_id }}",
                    "vm_name": VM,
                    "cluster": "dr-ahv-01",
                }
            },
        ],
        ignore_errors=True,
    )
    rp, patched, checked, reverted, refused = run.results
    assert patched["json"]["app_healthy"] is False
    assert checked["changed"] and checked["task_ext_id"] is None
    assert not reverted.get("failed"), reverted
    assert reverted["vm_ext_id"] == vm["extId"] and reverted["power_state"] == "ON"
    assert reverted["vm_recovery_point_ext_ids"] == [rp["vm_recovery_points"][0]["ext_id"]]
    assert len(reverted["task_ext_ids"]) == 2  # revert (AHV leaves the VM off), then power on
    guest = sim.control("GET", f"guests/{vm['extId']}")
    assert guest["patch_level"] == 0 and guest["app_healthy"] and guest["power_state"] == "ON"
    assert refused["failed"] and "mode: restore only" in refused["msg"]


def test_revert_refuses_a_point_of_another_vm(sim, tmp_path):
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.recovery_point": {"name": "other", "vm_names": ["hr-portal-tst-app-141"]}},
            {
                "day2ops.ahv.recovery_point_restore": {
                    "mode": "revert",
                    "ext_id": "{{ r0.ext_id }}",
                    "vm_name": VM,
                }
            },
        ],
        ignore_errors=True,
    )
    refused = run.results[1]
    assert refused["failed"] and "holds no VM recovery point of VM" in refused["msg"]
    assert sim.vm(VM)["powerState"] == "ON"


def test_replicate_to_a_paired_prism_central(sim, tmp_path):
    paired = sim.control("POST", "remote-pcs", {"name": "pc-dr-site"})
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.recovery_point": {"name": "offsite", "vm_names": [VM], "retention": "14d"}},
            {
                "day2ops.ahv.recovery_point_replicate": {
                    "ext_id": "{{ r0.ext_id }}",
                    "pc_ext_id": paired["extId"],
                }
            },
            {
                "day2ops.ahv.recovery_point_replicate": {
                    "ext_id": "{{ r0.ext_id }}",
                    "pc_ext_id": "00000000-1111-4222-8333-444444444444",
                }
            },
        ],
        ignore_errors=True,
    )
    rp, sent, unpaired = run.results
    assert sent["changed"] and not sent.get("failed") and sent["verified"] is False
    (remote,) = sim.control("GET", "remote-pcs")
    (arrived,) = remote["recoveryPoints"]
    assert (
        arrived["extId"] == sent["replica_ext_id"]
        and arrived["locationAgnosticId"] == rp["location_agnostic_id"]
    )
    assert [p["name"] for p in points(sim)] == ["offsite"]  # the replica lives there, not here
    assert unpaired["failed"] and "is not paired with this Prism Central" in unpaired["msg"]

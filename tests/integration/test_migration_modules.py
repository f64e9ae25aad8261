"""The vCenter and Move modules as Ansible runs them, against the simulator's vCenter, Move and Prism
Central: selection, idempotence, readiness, cutover to a VM that exists in Prism, injected trouble."""

from playbook import run_tasks
from sim_process import PASSWORD

# outside_the_app is autouse: these runs are plain ansible-playbook runs whatever the environment.
from test_audit_callback import audit_env, database_bytes, outside_the_app, stored  # noqa: F401
from test_modules import four_steps

# Clean VMs of the seed-1 estate (VMware Tools, SCSI disks, app/db port groups only).
CLEAN = ["fin-fileshare-tst-003", "eng-build-tst-005", "eng-tickets-stg-007", "legal-build-stg-011"]
MAPPINGS = [
    {"source": "dvpg-app-101", "target": "vlan0-prod-ahv-01"},
    {"source": "dvpg-db-102", "target": "vlan0-prod-ahv-01"},
]


def plan_task(name: str, vms: list[str], state: str = "present", **extra) -> dict:
    return {
        "day2ops.ahv.move_plan": {
            "name": name,
            "source_provider": "vcenter-east",
            "target_provider": "pc-01",
            "target_cluster": "prod-ahv-01",
            "network_mappings": MAPPINGS,
            "vms": vms,
            "state": state,
            **extra,
        }
    }


def vcenter_vm(sim, name: str) -> dict:
    return sim.vcenter("GET", "/api/vcenter/vm", params={"names": name}).json()[0]


def test_vm_info_selects_by_tag_and_filter_with_move_ids(sim, tmp_path):
    run = run_tasks(
        sim,
        tmp_path,
        [
            {
                "day2ops.ahv.vcenter_vm_info": {
                    "tags": {"Department": "Finance", "Environment": "Production"},
                    "clusters": ["esx-prod-01"],
                    "details": True,
                }
            },
            {"day2ops.ahv.vcenter_vm_info": {"tags": {"Owner": "alice"}}},
            {"day2ops.ahv.vcenter_vm_info": {"clusters": ["esx-nowhere"]}},
        ],
        ignore_errors=True,
    )
    finance, bad_category, bad_cluster = run.results
    assert finance["vms"] and not finance["changed"]
    assert all(v["name"].startswith("fin-") and "-prd-" in v["name"] for v in finance["vms"])
    first = finance["vms"][0]
    assert (
        first["instance_uuid"]
        == sim.vcenter("GET", f"/api/vcenter/vm/{first['vm']}").json()["identity"]["instance_uuid"]
    )
    assert sim.control("GET", f"vcenter/vms/{first['vm']}")["tags"] == {
        "Department": "Finance",
        "Environment": "Production",
    }
    with_tools = [v for v in finance["vms"] if v["guest"]]
    assert with_tools and all(
        v["guest"]["host_name"] == v["name"] and v["guest"]["ip_address"] for v in with_tools
    )
    assert "no tag category 'Owner'" in bad_category["msg"] and "Department" in bad_category["msg"]
    assert "no cluster named 'esx-nowhere'" in bad_cluster["msg"]


def test_vcenter_power_four_steps(sim, tmp_path):
    task = {"day2ops.ahv.vcenter_vm_power": {"name": CLEAN[1], "state": "powered_off"}}
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    assert vcenter_vm(sim, CLEAN[1])["power_state"] == "POWERED_OFF"


def test_provider_four_steps_absent_and_no_password_in_results(sim, tmp_path):
    task = {
        "day2ops.ahv.move_provider": {
            "name": "pc-lab",
            "type": "prism_central",
            "address": "pc-lab.corp.example",
            "username": "admin",
            "password": PASSWORD,
        }
    }
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    run = run_tasks(
        sim,
        tmp_path / "absent",
        [
            {"day2ops.ahv.move_provider_info": {"name": "pc-lab"}},
            {"day2ops.ahv.move_provider": {"name": "pc-lab", "state": "absent"}},
            {"day2ops.ahv.move_provider": {"name": "pc-lab2", "type": "prism_central"}},
        ],
        ignore_errors=True,
    )
    info, absent, incomplete = run.results
    assert info["providers"][0]["Spec"]["AOSAccessInfo"]["IPorFQDN"] == "pc-lab.corp.example"
    assert absent["changed"] and absent["provider_uuid"] is None
    assert "address, username, password missing" in incomplete["msg"]
    assert PASSWORD not in str(run.results)


def test_plan_create_is_idempotent_and_start_fails_on_readiness_naming_vm_and_reason(sim, tmp_path):
    assert four_steps(sim, tmp_path, plan_task("wave-a", CLEAN[:2])) == [True, True, False, False]
    # VM #17 of the estate runs without VMware Tools.
    no_tools = sim.vcenter("GET", "/api/vcenter/vm").json()[16]["name"]
    run = run_tasks(
        sim,
        tmp_path / "ready",
        [
            plan_task("wave-b", [CLEAN[2], no_tools], "started"),
            {"day2ops.ahv.move_plan_info": {"name": "wave-b"}},
        ],
        ignore_errors=True,
    )
    started, info = run.results
    assert started["failed"] and f"{no_tools}: VMware Tools are not installed" in started["msg"]
    assert started["readiness"] == [
        {"vm": no_tools, "check": "VMwareTools", "message": started["readiness"][0]["message"]}
    ]
    assert info["plans"][0]["StateString"] == "MigrationPlanStateUninitialized"
    bad = run_tasks(
        sim,
        tmp_path / "bad",
        [
            plan_task("wave-c", ["no-such-vm"]),
            {"day2ops.ahv.move_plan": {"name": "wave-d", "vms": [CLEAN[0]]}},
        ],
        ignore_errors=True,
    )
    assert "VM 'no-such-vm' not found" in bad.results[0]["msg"]
    assert (
        "source_provider, target_provider, target_cluster, network_mappings missing" in bad.results[1]["msg"]
    )


def test_plan_actions_read_the_state_string(sim, tmp_path):
    sim.control("POST", "move/timing", {"seeding_seconds": 60})
    steps = ["started", "started", "suspended", "suspended", "started", "cancelled", "cancelled", "absent"]
    run = run_tasks(sim, tmp_path, [plan_task("wave-e", CLEAN[:1], state) for state in steps])
    assert run.rc == 0, run.output
    changed = [r["changed"] for r in run.results]
    assert changed == [True, False, True, False, True, True, False, True]
    states = [r.get("plan", {}).get("StateString") for r in run.results]
    assert states[2] == "MigrationPlanStatePaused" and run.results[2]["plan"]["State"] == 5
    assert states[5] == "MigrationPlanStateAborted"


def test_cutover_of_a_list_waits_for_ready_and_returns_the_ahv_vms(sim, tmp_path):
    names = CLEAN[:2]
    sources = {n: vcenter_vm(sim, n)["vm"] for n in names}
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-f", names, "started"),
            {"day2ops.ahv.move_cutover": {"plan": "wave-f", "vms": names, "timeout": 60}, "check_mode": True},
            {"day2ops.ahv.move_cutover": {"plan": "wave-f", "vms": names, "timeout": 60}},
            {"day2ops.ahv.move_cutover": {"plan": "wave-f", "timeout": 60}},
        ],
    )
    assert run.rc == 0, run.output
    _, check, cut, again = run.results
    assert check["changed"] and check["cut_over"] == names and check["target_vm_ext_ids"] == []
    assert cut["changed"] and cut["cut_over"] == names and len(cut["target_vm_ext_ids"]) == 2
    for migration in cut["migrations"]:
        assert migration["state"] == "Completed"
        assert migration["source_vm_id"] == sources[migration["source_vm_name"]]
        vm = sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{migration['target_vm_ext_id']}").json()["data"]
        assert vm["name"] == migration["source_vm_name"] and vm["powerState"] == "ON"
        power = sim.vcenter("GET", f"/api/vcenter/vm/{migration['source_vm_id']}/power").json()
        assert power["state"] == "POWERED_OFF"
    assert not again["changed"] and sorted(again["target_vm_ext_ids"]) == sorted(cut["target_vm_ext_ids"])


def test_cutover_logs_in_again_when_the_token_expires_mid_poll(sim, tmp_path):
    sim.control("POST", "move/timing", {"seeding_seconds": 5, "token_seconds": 1})
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-g", CLEAN[2:3], "started"),
            {"day2ops.ahv.move_cutover": {"plan": "wave-g", "timeout": 60}},
        ],
    )
    assert run.rc == 0, run.output
    assert len(run.results[1]["target_vm_ext_ids"]) == 1


def test_a_failed_cutover_fails_with_moves_reason_and_the_source_runs_again(sim, tmp_path):
    sim.control("POST", "move/fail-next-cutover", {"message": "Final sync failed: datastore unreachable"})
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-h", CLEAN[3:4], "started"),
            {"day2ops.ahv.move_cutover": {"plan": "wave-h", "timeout": 60}},
        ],
        ignore_errors=True,
    )
    failed = run.results[1]
    assert failed["failed"] and failed["changed"]
    assert f"{CLEAN[3]}: Final sync failed: datastore unreachable" in failed["msg"]
    assert failed["migrations"][0]["state"] == "Failed" and failed["target_vm_ext_ids"] == []
    assert vcenter_vm(sim, CLEAN[3])["power_state"] == "POWERED_ON"


def test_a_vm_stuck_seeding_times_out_naming_it(sim, tmp_path):
    sim.control("POST", "move/stick-next-seeding", {"count": 1})
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-i", CLEAN[:1], "started"),
            {"day2ops.ahv.move_cutover": {"plan": "wave-i", "timeout": 3}},
        ],
        ignore_errors=True,
    )
    failed = run.results[1]
    assert failed["failed"] and not failed["changed"]
    assert f"still waiting: {CLEAN[0]} (DataSeeding, 37%)" in failed["msg"]
    assert "stuck in DataSeeding" in failed["msg"]


def test_the_audit_record_keeps_the_migration_ids_and_no_password(sim, tmp_path):
    db_path = tmp_path / "audit.db"
    run = run_tasks(
        sim,
        tmp_path / "run",
        [
            {"name": "plan", **plan_task("wave-j", CLEAN[:1], "started")},
            {"name": "cutover", "day2ops.ahv.move_cutover": {"plan": "wave-j", "timeout": 60}},
        ],
        env=audit_env(db_path),
    )
    assert run.rc == 0, run.output
    plan, cut = run.results
    rows = {row.task: row for row in stored(db_path)[1]}
    migration = cut["migrations"][0]
    assert rows["cutover"].migration == {
        "plan_uuid": plan["plan_uuid"],
        "workload_uuid": migration["workload_uuid"],
        "source_instance_uuid": migration["source_instance_uuid"],
        "source_vm_id": vcenter_vm(sim, CLEAN[0])["vm"],
        "source_vm_name": CLEAN[0],
        "target_vm_ext_id": migration["target_vm_ext_id"],
    }
    assert rows["cutover"].vm_ext_ids == [migration["target_vm_ext_id"]]
    assert rows["plan"].migration["plan_uuid"] == plan["plan_uuid"]
    assert PASSWORD.encode() not in database_bytes(db_path)

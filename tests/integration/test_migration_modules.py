"""The vCenter and Move modules as Ansible runs them, against the simulator's vCenter, Move and Prism
Central: selection, idempotence, guest preparation, readiness, paged inventory, cutover to a VM that
exists in Prism, the answer shapes public clients read, lost answers, injected trouble."""

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
# The simulator's guests take these accounts, with its password (backends.vcenter.GUEST_USERS).
GUEST = {
    "linux_username": "root",
    "linux_password": PASSWORD,
    "windows_username": "Administrator",
    "windows_password": PASSWORD,
}


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
            "guest_credentials": GUEST,
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


def test_vm_info_selects_by_vm_folder_not_a_same_named_host_or_datastore_folder(sim, tmp_path):
    (selected,) = run_tasks(
        sim, tmp_path, [{"day2ops.ahv.vcenter_vm_info": {"folders": ["Production"]}}]
    ).results
    folders = sim.vcenter("GET", "/api/vcenter/folder", params={"names": "Production"}).json()
    (vm_folder,) = [f["folder"] for f in folders if f["type"] == "VIRTUAL_MACHINE"]
    in_folder = sim.vcenter("GET", "/api/vcenter/vm", params={"folders": vm_folder}).json()
    assert in_folder and selected["vm_ids"] == [v["vm"] for v in in_folder]


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
    assert [(r["vm"], r["check"]) for r in started["readiness"]] == [
        (no_tools, "GuestPreparation"),
        (no_tools, "GuestPreparation"),
        (no_tools, "VMwareTools"),
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


def test_cutover_polls_move_as_often_as_told_and_refuses_a_poll_interval_that_is_not_positive(sim, tmp_path):
    cutover = {"plan": "wave-p", "timeout": 60}
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-p", CLEAN[:1], "started", poll_interval=0.25),
            {"day2ops.ahv.move_cutover": {**cutover, "poll_interval": 0}},
            {"day2ops.ahv.move_cutover": {**cutover, "poll_interval": 0.25}},
        ],
        ignore_errors=True,
    )
    started, refused, cut = run.results
    assert not started.get("failed"), run.output
    assert refused["failed"] and "poll_interval is 0" in refused["msg"] and "Traceback" not in run.output
    assert not cut.get("failed") and len(cut["target_vm_ext_ids"]) == 1, run.output


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


def vm_after(sim, index: int) -> str:
    """A VM Move takes, past the first `index` VMs of the estate: beyond a first inventory page."""
    listed = sim.vcenter("GET", "/api/vcenter/vm").json()
    clean = {"dvportgroup-34", "dvportgroup-35"}
    for summary in listed[index:]:
        info = sim.vcenter("GET", f"/api/vcenter/vm/{summary['vm']}").json()
        nets = {n["backing"]["network"] for n in info["nics"].values()}
        tools = sim.vcenter("GET", f"/api/vcenter/vm/{summary['vm']}/guest/identity").status_code == 200
        if tools and nets <= clean and all(d["type"] == "SCSI" for d in info["disks"].values()):
            return summary["name"]
    raise AssertionError("no clean VM that late in the estate")


def test_start_prepares_the_guests_with_their_credentials_and_never_shows_them(sim, tmp_path):
    late = vm_after(sim, 250)
    moref = vcenter_vm(sim, late)["vm"]
    sim.control(
        "POST", f"vcenter/vms/{moref}/guest-account", {"username": "svc-move", "password": "Gu3st!pw"}
    )
    own = [{"vm": late, "username": "svc-move", "password": "Gu3st!pw"}]
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-p0", [CLEAN[0]], "started", guest_credentials=None),
            {"day2ops.ahv.move_plan_info": {"name": "wave-p0"}},
            plan_task("wave-p1", [CLEAN[0], late], "started"),
            plan_task("wave-p1", [CLEAN[0], late], "started", vm_guest_credentials=own),
        ],
        ignore_errors=True,
    )
    missing, absent, wrong, started = run.results
    assert missing["failed"] and "guest_credentials is missing" in missing["msg"] and not missing["changed"]
    assert "there is no such plan" in absent["msg"], "nothing is created before the credentials are checked"
    assert wrong["failed"] and [(r["vm"], r["check"]) for r in wrong["readiness"]] == [
        (late, "GuestPreparation"),
        (late, "GuestPreparation"),
    ]
    assert f"Guest login failed for VM {late} as " in wrong["readiness"][0]["message"]
    assert not started.get("failed") and started["changed"] and started["readiness"] == []
    assert started["plan"]["StateString"] == "MigrationPlanStateInProgress"
    assert "Gu3st!pw" not in run.output and PASSWORD not in run.output


def test_a_vm_past_the_first_inventory_page_or_ineligible_is_planned(sim, tmp_path):
    nvme = sim.vcenter("GET", "/api/vcenter/vm").json()[22]["name"]
    late = vm_after(sim, 260)
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.move_provider_info": {"name": "vcenter-east", "inventory": True}},
            plan_task("wave-late", [late, nvme], "started"),
        ],
        ignore_errors=True,
    )
    inventory, started = run.results
    assert len(inventory["workloads"]) == 300 and inventory["inventory_complete"]
    assert started["failed"] and (nvme, "DiskType") in [(r["vm"], r["check"]) for r in started["readiness"]]
    assert late not in [r["vm"] for r in started["readiness"]]


def test_plans_read_in_every_shape_public_clients_read_and_an_unknown_one_fails(sim, tmp_path):
    sim.control("POST", "move/shapes", {"plan": "metadata", "workloads": "entities"})
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-s", CLEAN[:1], "started"),
            {"day2ops.ahv.move_plan_info": {"name": "wave-s"}},
            {"day2ops.ahv.move_cutover": {"plan": "wave-s", "timeout": 60}},
        ],
    )
    assert run.rc == 0, run.output
    started, info, cut = run.results
    assert started["workload_uuids"] == [info["plans"][0]["workloads"][0]["UUID"]]
    assert info["plans"][0]["workloads"][0]["Name"] == CLEAN[0]
    assert cut["migrations"][0]["state"] == "Completed" and cut["target_vm_ext_ids"]
    sim.control("POST", "move/shapes", {"workloads": "unknown"})
    (unknown,) = run_tasks(
        sim, tmp_path / "unknown", [{"day2ops.ahv.move_plan_info": {"name": "wave-s"}}], ignore_errors=True
    ).results
    assert unknown["failed"] and not unknown["changed"]
    assert "a shape day2ops does not know (keys ['MetaData', 'VMs']" in unknown["msg"]


def test_a_mutation_whose_answer_is_lost_is_read_back_not_sent_twice(sim, tmp_path):
    """Move and vCenter replay no request ids: a create, a cutover or a power-on answered by a gateway's
    504 after it acted would act twice, or fail on its own effect, if simply sent again."""
    for path in ("/move/v2/plans", "/move/v2/plans/*/start", "/move/v2/plans/*/workloads/*/action"):
        sim.control("POST", "faults", {"path": path, "method": "POST", "status": 504, "after_handler": True})
    sim.control(
        "POST",
        "faults",
        {"path": "/api/vcenter/vm/*/power", "method": "POST", "status": 504, "after_handler": True},
    )
    run = run_tasks(
        sim,
        tmp_path,
        [
            plan_task("wave-lost", CLEAN[1:2], "started"),
            {"day2ops.ahv.move_cutover": {"plan": "wave-lost", "timeout": 60}},
            {"day2ops.ahv.vcenter_vm_power": {"name": CLEAN[1], "state": "powered_on"}},
        ],
    )
    assert run.rc == 0, run.output
    started, cut, power = run.results
    assert started["changed"] and started["plan"]["StateString"] == "MigrationPlanStateInProgress"
    assert cut["changed"] and cut["migrations"][0]["state"] == "Completed"
    assert power["changed"] and vcenter_vm(sim, CLEAN[1])["power_state"] == "POWERED_ON"
    assert sim.control("GET", "faults")["injected"] == 4
    plans = sim.move("POST", "/plans/list", json={}).json()["Entities"]
    assert [p["MetaData"]["Name"] for p in plans].count("wave-lost") == 1

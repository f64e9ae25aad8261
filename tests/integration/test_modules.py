"""The modules as Ansible runs them: real ansible-playbook, real HTTPS to the simulator process."""

import shutil
from pathlib import Path

import pytest
from playbook import connection, module_examples, run_tasks

MODULES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "plugins" / "modules").glob("*.py"))


def vm_by_name(sim, name: str) -> dict:
    found = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": f"name eq '{name}'"}).json()
    return found["data"][0]


def category_pairs(sim, vm: dict) -> set[str]:
    pairs = set()
    for ref in vm.get("categories") or ():
        category = sim.api("GET", f"/api/prism/v4.0/config/categories/{ref['extId']}").json()["data"]
        pairs.add(f"{category['key']}:{category['value']}")
    return pairs


@pytest.mark.parametrize("module", MODULES)
def test_examples_run(sim, tmp_path, module):
    """Every EXAMPLES block runs as written against the demo estate."""
    if module == "migration_wave_info":  # its example reads the wave file beside the playbook
        tmp_path.mkdir(parents=True, exist_ok=True)
        shutil.copy(
            Path(__file__).resolve().parents[2] / "playbooks" / "waves.example.yml", tmp_path / "waves.yml"
        )
    run = run_tasks(sim, tmp_path, module_examples(module))
    assert run.rc == 0, run.output
    assert run.results and not run.failed


def four_steps(sim, tmp_path, task: dict) -> list[bool]:
    """check mode, real, check mode again, real again: changed must read True, True, False, False."""
    changed = []
    for i, check in enumerate((True, False, True, False)):
        run = run_tasks(sim, tmp_path / str(i), [task], args=("--check",) if check else ())
        assert run.rc == 0, run.output
        changed.append(run.results[0]["changed"])
    return changed


def test_category_four_steps(sim, tmp_path):
    task = {"day2ops.ahv.category": {"key": "Department", "value": "Research", "description": "R&D"}}
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    found = sim.api(
        "GET",
        "/api/prism/v4.0/config/categories",
        params={"$filter": "key eq 'Department' and value eq 'Research'"},
    ).json()["data"]
    assert [c["description"] for c in found] == ["R&D"]


def test_vm_power_four_steps(sim, tmp_path):
    task = {"day2ops.ahv.vm_power": {"name": "hr-portal-tst-app-071", "state": "powered_off"}}
    assert vm_by_name(sim, "hr-portal-tst-app-071")["powerState"] == "ON"
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    assert vm_by_name(sim, "hr-portal-tst-app-071")["powerState"] == "OFF"


def test_guest_reboot_and_shutdown_go_through_nutanix_guest_tools(sim, tmp_path):
    """A VM whose NGT is reachable is rebooted and shut down by its guest, with the GuestPowerOptions
    body both SDK releases require (refused by the simulator without it)."""
    flt = "powerState eq Vmm.Ahv.Config.PowerState'ON'"
    vms = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": flt, "$limit": 100}).json()[
        "data"
    ]
    vm = next(v for v in vms if (v.get("guestTools") or {}).get("isReachable"))
    tasks = [{"day2ops.ahv.vm_power": {"ext_id": vm["extId"], "state": s}} for s in ("reboot", "shutdown")]
    run = run_tasks(sim, tmp_path, tasks)
    assert run.rc == 0, run.output
    operations = [sim.wait_task(r["task_ext_id"])["operation"] for r in run.results]
    assert operations == ["RebootGuestVm", "ShutdownGuestVm"]
    assert sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{vm['extId']}").json()["data"]["powerState"] == "OFF"


def test_vm_categories_four_steps(sim, tmp_path):
    task = {
        "day2ops.ahv.vm_categories": {"name": "hr-portal-tst-app-071", "categories": {"Criticality": "High"}}
    }
    assert "Criticality:High" not in category_pairs(sim, vm_by_name(sim, "hr-portal-tst-app-071"))
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    assert "Criticality:High" in category_pairs(sim, vm_by_name(sim, "hr-portal-tst-app-071"))


def test_vm_delete_four_steps(sim, tmp_path):
    ext_id = vm_by_name(sim, "sales-wiki-dev-cache-038")["extId"]
    task = {"day2ops.ahv.vm": {"ext_id": ext_id, "state": "absent"}}
    assert four_steps(sim, tmp_path, task) == [True, True, False, False]
    assert sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{ext_id}").status_code == 404


def test_vm_delete_refuses_a_name(sim, tmp_path):
    run = run_tasks(
        sim, tmp_path, [{"day2ops.ahv.vm": {"name": "sales-wiki-dev-cache-038", "state": "absent"}}]
    )
    assert run.rc != 0
    assert "ext_id" in run.failed[0]["msg"] and "vm_info" in run.failed[0]["msg"]
    assert sim.api(
        "GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": "name eq 'sales-wiki-dev-cache-038'"}
    ).json()["data"]


def test_diff_shows_before_and_after(sim, tmp_path):
    task = {
        "day2ops.ahv.vm_categories": {"name": "hr-portal-tst-app-071", "categories": {"Criticality": "High"}}
    }
    run = run_tasks(sim, tmp_path, [task], args=("--check", "--diff"))
    diff = run.results[0]["diff"]
    assert "High" not in diff["before"].get("Criticality", [])
    assert "High" in diff["after"]["Criticality"]
    assert "+" in run.output and "Criticality" in run.output


def test_vm_info_matches_the_api(sim, tmp_path):
    tasks = [
        {
            "day2ops.ahv.vm_info": {
                "categories": {"Environment": "Production", "Department": ["Finance", "HR"]}
            }
        },
        {"day2ops.ahv.vm_info": {"filter": "startswith(name, 'fin-')", "order_by": "memorySizeBytes desc"}},
        {"day2ops.ahv.vm_info": {"cluster": "dr-ahv-01", "power_state": "powered_off", "select": ["name"]}},
    ]
    run = run_tasks(sim, tmp_path, tasks)
    assert run.rc == 0, run.output
    every = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$limit": 100}).json()
    vms = []
    for page in range(0, (every["metadata"]["totalAvailableResults"] + 99) // 100):
        vms += sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$limit": 100, "$page": page}).json()[
            "data"
        ]
    pairs = {vm["extId"]: category_pairs(sim, vm) for vm in vms if vm["name"].startswith(("fin-", "hr-"))}
    expected = {
        i
        for i, p in pairs.items()
        if "Environment:Production" in p and p & {"Department:Finance", "Department:HR"}
    }
    assert expected and set(run.results[0]["ext_ids"]) == expected
    one = run.results[0]["vms"][0]
    raw = next(vm for vm in vms if vm["extId"] == one["ext_id"])
    assert one["vcpus"] == raw["numSockets"] * raw["numCoresPerSocket"] * raw["numThreadsPerCore"]
    assert one["memory_mib"] == raw["memorySizeBytes"] // 2**20
    assert one["categories"]["Environment"] == ["Production"]
    memories = [vm["memory_mib"] for vm in run.results[1]["vms"]]
    assert memories == sorted(memories, reverse=True) and len(memories) == sum(
        v["name"].startswith("fin-") for v in vms
    )
    clusters = sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
    dr = next(c["extId"] for c in clusters if c["name"] == "dr-ahv-01")
    off_on_dr = {vm["extId"] for vm in vms if vm["cluster"]["extId"] == dr and vm["powerState"] == "OFF"}
    assert set(run.results[2]["ext_ids"]) == off_on_dr
    assert all(vm["cluster"] == "dr-ahv-01" for vm in run.results[2]["vms"])


@pytest.mark.parametrize("strategy", ["associations", "client"])
def test_category_strategies_agree(sim, tmp_path, strategy):
    query = {
        "categories": {"Department": "Legal"},
        "power_state": "powered_on",
        "category_strategy": strategy,
    }
    run = run_tasks(
        sim,
        tmp_path,
        [{"day2ops.ahv.vm_info": query}, {"day2ops.ahv.vm_info": {"power_state": "powered_on"}}],
    )
    assert run.results[0]["category_strategy"] == strategy
    legal_on = {
        vm["ext_id"] for vm in run.results[1]["vms"] if "Legal" in vm["categories"].get("Department", [])
    }
    assert legal_on and set(run.results[0]["ext_ids"]) == legal_on


def test_a_name_matching_two_vms_is_an_error_listing_both(sim, tmp_path):
    source = vm_by_name(sim, "hr-portal-prd-app-001")
    clone = sim.api(
        "POST",
        f"/api/vmm/v4.0/ahv/config/vms/{source['extId']}/$actions/clone",
        json={"name": "hr-portal-prd-app-001"},
        headers={
            "If-Match": sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{source['extId']}").headers["ETag"]
        },
    )
    assert clone.status_code == 202
    run = run_tasks(
        sim,
        tmp_path,
        [
            {"day2ops.ahv.task_info": {"ext_id": clone.json()["data"]["extId"], "wait": True}},
            {"day2ops.ahv.vm_power": {"name": "hr-portal-prd-app-001", "state": "reset"}},
        ],
    )
    assert run.rc != 0
    message = run.failed[0]["msg"]
    assert "matched 2 VMs" in message and source["extId"] in message and "pass ext_id" in message


def test_environment_variables_and_api_key(sim, tmp_path):
    env = {
        "NUTANIX_HOST": sim.host,
        "NUTANIX_PORT": str(sim.port),
        "NUTANIX_API_KEY": "day2ops-demo-api-key",
        "NUTANIX_CA_PATH": str(sim.cert_path),
    }
    run = run_tasks(
        sim, tmp_path, [{"day2ops.ahv.cluster_info": {"name": "prod-ahv-01"}}], defaults={}, env=env
    )
    assert run.rc == 0, run.output
    assert run.results[0]["clusters"][0]["name"] == "prod-ahv-01"


def test_validate_certs_is_on_by_default(sim, tmp_path):
    defaults = connection(sim, ca_path=None)
    run = run_tasks(
        sim, tmp_path, [{"day2ops.ahv.cluster_info": {}}], defaults=defaults, env={"REQUESTS_CA_BUNDLE": ""}
    )
    assert run.rc != 0
    assert "could not be verified" in run.failed[0]["msg"] and "ca_path" in run.failed[0]["msg"]


def test_secrets_stay_out_of_results_and_output(sim, tmp_path):
    run = run_tasks(sim, tmp_path, [{"day2ops.ahv.cluster_info": {}}], args=("-vvv",))
    assert run.rc == 0
    assert "Nutanix.123" not in run.output
    assert "Nutanix.123" not in str(run.results)


ERRORS = {
    "bad filter": (
        {"day2ops.ahv.vm_info": {"filter": "name eq"}},
        {},
        ["Failed to list VMs: 400"],
    ),
    "wrong password": (
        {"day2ops.ahv.vm_info": {"name": "hr-portal-prd-app-001"}},
        {"nutanix_password": "wrong"},
        ["401", "nutanix_username"],
    ),
    "unreachable host": (
        {"day2ops.ahv.cluster_info": {}},
        {"nutanix_port": 1, "max_retries": 1},
        ["cannot reach", "nutanix_host"],
    ),
    "unknown VM": (
        {"day2ops.ahv.vm_power": {"ext_id": "00000000-0000-4000-8000-000000000000", "state": "powered_on"}},
        {},
        ["404", "ext_id"],
    ),
    "unknown Category": (
        {
            "day2ops.ahv.vm_categories": {
                "name": "hr-portal-prd-app-001",
                "categories": {"Department": "Nope"},
            }
        },
        {},
        ["Department:Nope", "day2ops.ahv.category"],
    ),
    "API version not served": (
        {"day2ops.ahv.vm_info": {"limit": 1}},
        {"api_versions": {"vmm": "v4.9"}},
        ["404", "api_versions"],
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_are_one_readable_line(sim, tmp_path, case):
    task, overrides, words = ERRORS[case]
    if case == "bad filter":
        sim.expect_refusal("list_vms", "expected a value after 'eq'")
    run = run_tasks(sim, tmp_path, [task], defaults=connection(sim, **overrides))
    assert run.rc != 0
    message = run.failed[0]["msg"]
    assert "\n" not in message and message.startswith("Failed to")
    for word in words:
        assert word in message
    assert "Traceback" not in run.output


def test_stale_etag_is_reread_once_then_reported(sim, tmp_path):
    task = {"day2ops.ahv.vm_power": {"name": "hr-portal-tst-app-071", "state": "powered_off"}}
    sim.control("POST", "faults", {"operation": "power_off_vm", "status": 412, "count": 1})
    run = run_tasks(sim, tmp_path / "once", [task])
    assert run.rc == 0 and run.results[0]["changed"], run.output
    assert vm_by_name(sim, "hr-portal-tst-app-071")["powerState"] == "OFF"
    task = {"day2ops.ahv.vm_power": {"name": "hr-portal-tst-app-071", "state": "powered_on"}}
    sim.control("POST", "faults", {"operation": "power_on_vm", "status": 412, "count": 2})
    run = run_tasks(sim, tmp_path / "twice", [task])
    assert run.rc != 0
    assert "412" in run.failed[0]["msg"] and "Traceback" not in run.output


def test_failed_task_reports_prism_message_and_task_id(sim, tmp_path):
    sim.control("POST", "tasks/fail-next", {"operation": "PowerOffVm", "message": "Host is in maintenance"})
    run = run_tasks(
        sim, tmp_path, [{"day2ops.ahv.vm_power": {"name": "hr-portal-tst-app-071", "state": "powered_off"}}]
    )
    assert run.rc != 0
    failed = run.failed[0]
    assert "Host is in maintenance" in failed["msg"] and failed["task_ext_id"] in failed["msg"]


def test_shutdown_falls_back_to_power_off_only_when_told(sim, tmp_path):
    task = {"day2ops.ahv.vm_power": {"name": "hr-portal-tst-app-071", "state": "shutdown"}}
    sim.control("POST", "tasks/fail-next", {"operation": "ShutdownGuestVm", "message": "guest ignored it"})
    sim.control("POST", "tasks/fail-next", {"operation": "ShutdownVm", "message": "guest ignored it"})
    run = run_tasks(sim, tmp_path / "strict", [task])
    assert run.rc != 0 and "force_off" in run.failed[0]["msg"]
    assert vm_by_name(sim, "hr-portal-tst-app-071")["powerState"] == "ON"
    sim.control("POST", "tasks/fail-next", {"operation": "ShutdownGuestVm", "message": "guest ignored it"})
    sim.control("POST", "tasks/fail-next", {"operation": "ShutdownVm", "message": "guest ignored it"})
    task["day2ops.ahv.vm_power"]["force_off"] = True
    run = run_tasks(sim, tmp_path / "forced", [task])
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["forced_off"] and len(result["task_ext_ids"]) == 2 and result["power_state"] == "OFF"
    assert "powering it off" in run.output


def test_wait_false_returns_the_task_for_task_info(sim, tmp_path):
    run = run_tasks(
        sim,
        tmp_path,
        [
            {
                "day2ops.ahv.vm_power": {
                    "name": "hr-portal-tst-app-071",
                    "state": "powered_off",
                    "wait": False,
                }
            },
            {"day2ops.ahv.task_info": {"ext_id": "{{ r0.task_ext_id }}", "wait": True, "timeout": 60}},
        ],
    )
    assert run.rc == 0, run.output
    assert run.results[1]["task"]["status"] == "SUCCEEDED" and run.results[1]["succeeded"]
    assert run.results[1]["task"]["operation"] == "PowerOffVm"

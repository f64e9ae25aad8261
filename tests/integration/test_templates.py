"""The template modules as Ansible runs them, against the simulator's templates and their versions."""

import pytest
from playbook import run_tasks

pytestmark = pytest.mark.usefixtures("instant_tasks")

GOLDEN = "hr-portal-tst-app-071"
TEMPLATES = "/api/vmm/v4.0/content/templates"


def template(sim, name: str) -> dict:
    (found,) = sim.api("GET", TEMPLATES, params={"$filter": f"templateName eq '{name}'"}).json()["data"]
    return found


def versions(sim, name: str) -> dict[str, dict]:
    listed = sim.api("GET", f"{TEMPLATES}/{template(sim, name)['extId']}/versions").json()["data"]
    return {v["versionName"]: v for v in listed}


def four_steps(*tasks: dict) -> list[dict]:
    """Each task four times in one playbook - check mode, real, check mode again, real again - so that
    changed must read True, True, False, False for each; one ansible-playbook run for them all."""
    return [dict(task, check_mode=check) for task in tasks for check in (True, False, True, False)]


def changed_in_fours(run) -> list[list[bool]]:
    assert run.rc == 0, run.output
    flags = [r["changed"] for r in run.results]
    return [flags[i : i + 4] for i in range(0, len(flags), 4)]


def tasks(sim, operation: str) -> list[dict]:
    listed = sim.api(
        "GET",
        "/api/prism/v4.0/config/tasks",
        params={"$filter": f"operation eq '{operation}'", "$limit": 100},
    )
    return listed.json().get("data") or []


def test_convert_a_vm_add_a_version_activate_it_delete_the_old_four_steps(sim, tmp_path):
    steps = [
        {"name": "hr-portal", "vm_name": GOLDEN, "description": "HR portal"},
        {"name": "hr-portal", "vm_name": GOLDEN, "version_name": "v2", "activate": False},
        {"name": "hr-portal", "active_version": "v2"},
        {"name": "hr-portal", "version_name": "Initial Version", "state": "absent"},
    ]
    run = run_tasks(sim, tmp_path, four_steps(*({"day2ops.ahv.template": step} for step in steps)))
    assert changed_in_fours(run) == [[True, True, False, False]] * len(steps)
    created, added, published, deleted = (run.results[4 * i + 1] for i in range(len(steps)))
    (v2,) = versions(sim, "hr-portal").values()
    assert (
        v2["versionName"] == "v2"
        and v2["isActiveVersion"]
        and v2["versionSource"]["extId"] == sim.vm(GOLDEN)["extId"]
    )
    assert (
        added["version_ext_id"]
        == published["version_ext_id"]
        == published["active_version_ext_id"]
        == v2["extId"]
    )
    assert added["active_version_ext_id"] == created["version_ext_id"] == deleted["version_ext_id"]
    assert published["previous_active_version_ext_id"] == created["version_ext_id"]
    assert created["template"]["templateDescription"] == "HR portal"

    gone = {"day2ops.ahv.template": {"name": "hr-portal", "state": "absent"}}
    assert changed_in_fours(run_tasks(sim, tmp_path / "gone", four_steps(gone))) == [
        [True, True, False, False]
    ]
    assert not sim.api("GET", TEMPLATES, params={"$filter": "templateName eq 'hr-portal'"}).json().get("data")


def test_a_version_derived_from_another_gets_the_override(sim, tmp_path):
    task = {
        "day2ops.ahv.template": {
            "name": "rocky9-base",
            "source_version": "2025.01",
            "override": {"memory_mib": 32768, "num_sockets": 8},
            "version_name": "2025.01-big",
            "activate": False,
        }
    }
    run = run_tasks(sim, tmp_path, [task])
    assert run.rc == 0, run.output
    made = versions(sim, "rocky9-base")
    big = made["2025.01-big"]
    assert big["vmSpec"]["memorySizeBytes"] == 32 * 2**30 and big["vmSpec"]["numSockets"] == 8
    assert big["versionSource"]["versionId"] == made["2025.01"]["extId"] and not big["isActiveVersion"]
    assert run.results[0]["version_ext_id"] == big["extId"]


def test_results_carry_the_versions_and_every_task(sim, tmp_path):
    rocky = template(sim, "rocky9-base")
    run = run_tasks(
        sim,
        tmp_path,
        [
            {
                "day2ops.ahv.template": {
                    "ext_id": rocky["extId"],
                    "vm_name": GOLDEN,
                    "version_name": "2025.03",
                }
            },
            {
                "day2ops.ahv.template": {
                    "name": "rocky9-base",
                    "active_version": "{{ r0.previous_active_version_ext_id }}",
                    "description": "rolled back",
                }
            },
        ],
    )
    assert run.rc == 0, run.output
    added, back = run.results
    assert added["active_version_name"] == "2025.03" and added["version_name"] == "2025.03"
    assert added["version_ext_id"] == versions(sim, "rocky9-base")["2025.03"]["extId"]
    assert added["previous_active_version_ext_id"] == rocky["templateVersionSpec"]["extId"]
    assert back["active_version_ext_id"] == rocky["templateVersionSpec"]["extId"]
    # One PUT for the description, one publish: both tasks, in order.
    assert back["task_ext_ids"] == [
        tasks(sim, "UpdateTemplate")[0]["extId"],
        tasks(sim, "PublishTemplate")[0]["extId"],
    ]
    assert back["template"]["templateDescription"] == "rolled back"


def test_deploy_returns_the_new_vms_from_an_older_version(sim, tmp_path):
    run = run_tasks(
        sim,
        tmp_path,
        [
            {
                "day2ops.ahv.template_deploy": {
                    "name": "rocky9-base",
                    "version": "2025.01",
                    "count": 2,
                    "vm_names": ["web-a", "web-b"],
                    "cluster": "dr-ahv-01",
                    "override": {"memory_mib": 2048},
                    "power_on": True,
                }
            }
        ],
    )
    assert run.rc == 0, run.output
    result = run.results[0]
    (deploy,) = tasks(sim, "DeployTemplate")
    assert result["task_ext_id"] == deploy["extId"]
    assert set(result["task_ext_ids"]) == {
        deploy["extId"],
        *(s["extId"] for s in deploy["subTasks"]),
        *(t["extId"] for t in tasks(sim, "PowerOnVm")),
    }
    for ext_id, name in zip(result["vm_ext_ids"], ["web-a", "web-b"], strict=True):
        vm = sim.vm(name)
        assert vm["extId"] == ext_id and vm["powerState"] == "ON" and vm["memorySizeBytes"] == 2 * 2**30
        # The guest is the old version's: patch level 3, not the active version's 4.
        assert sim.control("GET", f"guests/{ext_id}")["patch_level"] == 3


def test_guest_update_started_completed_canceled_each_once(sim, tmp_path):
    started = {"day2ops.ahv.template_guest_update": {"name": "win2022-base", "state": "started"}}
    completed = {
        "day2ops.ahv.template_guest_update": {
            "name": "win2022-base",
            "state": "completed",
            "version_name": "2025.03",
            "activate": False,
        }
    }
    canceled = {"day2ops.ahv.template_guest_update": {"name": "win2022-base", "state": "canceled"}}
    run = run_tasks(sim, tmp_path, [*four_steps(started, completed), started, canceled, canceled])
    assert changed_in_fours(run)[:2] == [[True, True, False, False]] * 2
    assert [r["changed"] for r in run.results[8:]] == [True, True, False]
    vm_id = run.results[1]["vm_ext_id"]
    made = versions(sim, "win2022-base")
    assert made["2025.03"]["versionSource"]["extId"] == vm_id and not made["2025.03"]["isActiveVersion"]
    assert run.results[5]["version_ext_id"] == made["2025.03"]["extId"]
    assert sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{vm_id}").status_code == 404
    assert (
        run.results[9]["vm_ext_id"] == run.results[8]["vm_ext_id"] != vm_id
        and not run.results[10]["in_progress"]
    )
    assert sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{run.results[8]['vm_ext_id']}").status_code == 404
    assert set(versions(sim, "win2022-base")) == {"2025.02", "2025.03"}


def test_deploy_finds_its_vms_by_name_when_the_subtasks_name_none(sim, tmp_path):
    sim.control("POST", "tasks/no-entities-next", {"operation": "CreateVm", "count": 2})
    deploy = {"name": "rocky9-base", "count": 2, "vm_names": ["web-b", "web-a"]}
    run = run_tasks(sim, tmp_path, [{"day2ops.ahv.template_deploy": deploy}])
    assert run.rc == 0, run.output
    (task,) = tasks(sim, "DeployTemplate")
    subtasks = [
        sim.api("GET", f"/api/prism/v4.0/config/tasks/{s['extId']}").json()["data"] for s in task["subTasks"]
    ]
    assert [s["entitiesAffected"] for s in subtasks] == [[], []]
    result = run.results[0]
    assert result["vm_ext_ids"] == [sim.vm("web-b")["extId"], sim.vm("web-a")["extId"]]
    assert [vm["name"] for vm in result["vms"]] == ["web-b", "web-a"]


def test_a_deployed_name_an_older_vm_shares_fails_naming_the_deploy_task_and_its_vms(sim, tmp_path):
    older = run_tasks(
        sim,
        tmp_path / "older",
        [{"day2ops.ahv.template_deploy": {"name": "rocky9-base", "vm_names": ["web-a"]}}],
    )
    assert older.rc == 0, older.output
    sim.control("POST", "tasks/no-entities-next", {"operation": "CreateVm"})
    run = run_tasks(
        sim,
        tmp_path,
        [{"day2ops.ahv.template_deploy": {"name": "rocky9-base", "vm_names": ["web-a"]}}],
        ignore_errors=True,
    )
    (failed,) = run.failed
    (deploy,) = {t["extId"] for t in tasks(sim, "DeployTemplate")} - {older.results[0]["task_ext_id"]}
    assert f"deploy task {deploy}: 2 VMs are named 'web-a'" in failed["msg"], failed["msg"]
    assert older.results[0]["vm_ext_id"] in failed["msg"] and "the task names VM(s) none" in failed["msg"]
    # The deployment ran: its tasks are in the result, to find what it made.
    assert failed["task_ext_id"] == deploy and len(failed["task_ext_ids"]) == 2


def test_a_create_task_that_names_no_template_fails_naming_the_task(sim, tmp_path):
    sim.control("POST", "tasks/no-entities-next", {"operation": "create_template"})
    run = run_tasks(
        sim,
        tmp_path,
        [{"day2ops.ahv.template": {"name": "hr-portal", "vm_name": GOLDEN}}],
        ignore_errors=True,
    )
    (failed,) = run.failed
    (create,) = tasks(sim, "CreateTemplate")
    assert failed["msg"].startswith(
        f"Failed to create template 'hr-portal' from VM '{GOLDEN}': task {create['extId']} succeeded "
        "but names no affected entity of type vmm:content:template"
    ), failed["msg"]
    assert f"task_info ext_id={create['extId']}" in failed["msg"]


def test_a_template_update_that_echoes_the_active_versions_ext_id_is_refused_naming_the_field(sim):
    rocky = template(sim, "rocky9-base")
    etag = sim.api("GET", f"{TEMPLATES}/{rocky['extId']}").headers["ETag"]
    echoed = {**rocky, "templateDescription": "echoed"}
    r = sim.api("PUT", f"{TEMPLATES}/{rocky['extId']}", json=echoed, headers={"If-Match": etag})
    assert r.status_code == 400, r.text
    assert "templateVersionSpec.extId" in r.text
    assert template(sim, "rocky9-base").get("templateDescription") != "echoed"


ERRORS = {
    "active version delete": (
        {"day2ops.ahv.template": {"name": "rocky9-base", "version_name": "2025.02", "state": "absent"}},
        ["409", "active version", "active_version"],
    ),
    "new version from a VM that is not there": (
        {"day2ops.ahv.template": {"name": "rocky9-base", "vm_name": "no-such-vm", "version_name": "x"}},
        ["find VM 'no-such-vm'", "404", "pass ext_id"],
    ),
    "new template without a VM": (
        {"day2ops.ahv.template": {"name": "nope-base"}},
        ["needs a VM", "vm_name"],
    ),
    "unknown version": (
        {"day2ops.ahv.template_deploy": {"name": "rocky9-base", "version": "1999.01"}},
        ["no such version", "template_info"],
    ),
    "names and count": (
        {"day2ops.ahv.template_deploy": {"name": "rocky9-base", "count": 2, "vm_names": ["one"]}},
        ["vm_names has 1 name", "one name per VM"],
    ),
    "complete with nothing started": (
        {
            "day2ops.ahv.template_guest_update": {
                "name": "rocky9-base",
                "state": "completed",
                "version_name": "2025.09",
            }
        },
        ["no guest OS update is in progress", "state: started"],
    ),
}


def test_errors_name_the_field_and_the_fix(sim, tmp_path):
    run = run_tasks(sim, tmp_path, [task for task, _words in ERRORS.values()], ignore_errors=True)
    for (case, (_task, words)), result in zip(ERRORS.items(), run.results, strict=True):
        message = result.get("msg", "")
        assert result.get("failed") and message.startswith("Failed to") and "\n" not in message, (
            case,
            result,
        )
        for word in words:
            assert word in message, (case, message)
    assert set(versions(sim, "rocky9-base")) == {"2025.01", "2025.02"}


def test_a_failed_deploy_task_reports_its_id_and_makes_no_vm(sim, tmp_path):
    sim.control(
        "POST", "tasks/fail-next", {"operation": "deploy_template", "message": "No space on the container"}
    )
    run = run_tasks(
        sim, tmp_path, [{"day2ops.ahv.template_deploy": {"name": "rocky9-base", "vm_names": ["x-1"]}}]
    )
    assert run.rc != 0
    failed = run.failed[0]
    assert "No space on the container" in failed["msg"] and failed["task_ext_id"] in failed["msg"]
    assert (
        not sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": "name eq 'x-1'"})
        .json()
        .get("data")
    )


def test_the_simulator_dumps_and_loads_templates_with_what_their_versions_captured(sim):
    snapshot = sim.control("GET", "state/dump")
    win = template(sim, "win2022-base")
    etag = sim.api("GET", f"{TEMPLATES}/{win['extId']}").headers["ETag"]
    gone = sim.api("DELETE", f"{TEMPLATES}/{win['extId']}", headers={"If-Match": etag})
    assert sim.wait_task(gone.json()["data"]["extId"])["status"] == "SUCCEEDED"
    assert sim.control("GET", "state")["templates"] == 1
    assert sim.control("POST", "state/load", snapshot)["templates"] == 2
    assert template(sim, "win2022-base")["templateVersionSpec"]["versionName"] == "2025.02"
    (dumped,) = [
        t for t in sim.control("GET", "state/dump")["templates"] if t["templateName"] == "win2022-base"
    ]
    assert [guest["patch_level"] for guest in dumped["$captured"].values()] == [7]

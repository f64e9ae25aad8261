"""playbooks/template_release.yml end to end: the simulator's templates, test VMs reached over a real
loopback sshd, the smoke test a real command inside the simulated guest, the audit record of the run."""

import json

import pytest
from day2ops_sim.guest_standin import write_standins
from playbook import run_playbook
from safe_patch_lab import lab_host_vars

# outside_the_app: the autouse fixture that makes each run a plain ansible-playbook run, not an app run.
from test_audit_callback import audit_env, outside_the_app, stored  # noqa: F401

pytestmark = pytest.mark.usefixtures("instant_tasks")

GOLDEN = "hr-portal-tst-app-071"
TEMPLATES = "/api/vmm/v4.0/content/templates"


def rocky(sim) -> tuple[dict, dict[str, dict]]:
    """rocky9-base and its versions by name."""
    (template,) = sim.api("GET", TEMPLATES, params={"$filter": "templateName eq 'rocky9-base'"}).json()[
        "data"
    ]
    listed = sim.api("GET", f"{TEMPLATES}/{template['extId']}/versions").json()["data"]
    return template, {v["versionName"]: v for v in listed}


def release(sim, sshd, tmp_path, env=None, **extra):
    """The playbook with the lab's SSH access, the stand-ins' PATH and an `app-health` smoke command."""
    standins = write_standins(tmp_path / "standin", sim.base_url, sim.cert_path)
    variables = {
        "template_release_template": "rocky9-base",
        "template_release_golden_vm": GOLDEN,
        "template_release_run_id": "t1",
        "template_release_host_vars": lab_host_vars(sshd),
        "template_release_become": False,
        "template_release_environment": {
            "PATH": f"{standins}:/usr/bin:/bin",
            "DAY2OPS_SIM_VM": "{{ template_release_vm.ext_id }}",
        },
        "template_release_smoke_commands": [[f"{standins}/app-health", "{{ template_release_vm.ext_id }}"]],
        "template_release_report_dir": str(tmp_path / "reports"),
        "template_release_task_timeout": 60,
        **extra,
    }
    run = run_playbook(sim, tmp_path, "template_release.yml", variables, env)
    reports = list((tmp_path / "reports").glob("*.json"))
    return run, json.loads(reports[0].read_text()) if reports else None


def all_tasks(sim) -> list[dict]:
    return sim.api("GET", "/api/prism/v4.0/config/tasks", params={"$limit": 100}).json().get("data") or []


def no_test_vms(sim) -> bool:
    listed = sim.api(
        "GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": "startswith(name, 'rocky9-base')"}
    )
    return not listed.json().get("data")


def test_a_release_from_the_golden_vm_activates_after_the_smoke_test_with_every_task_on_record(
    sim, sshd, tmp_path
):
    before, _ = rocky(sim)
    db_path = tmp_path / "audit.db"
    # The probe's URL names the test VM by placeholder (filled in by the placeholders filter, not Jinja).
    probe = {
        "template_release_smoke_url": f"{sim.base_url}/_sim/guests/{{ext_id}}/health",
        "template_release_smoke_validate_certs": False,
    }
    run, record = release(sim, sshd, tmp_path, env=audit_env(db_path), **probe)
    assert run.rc == 0, run.output
    # Probed and answered (a {ext_id} left in the URL is a 404 from the simulator, and the run would fail).
    probed = run.output.split("Probe the test VM's application", 1)[1].split("TASK [", 1)[0]
    assert "ok: [localhost]" in probed, probed
    template, versions = rocky(sim)
    new = versions["release-t1"]
    assert template["templateVersionSpec"]["extId"] == new["extId"]
    assert new["versionSource"]["extId"] == sim.vm(GOLDEN)["extId"]
    # The old versions are still there, deployable.
    assert {"2025.01", "2025.02"} <= set(versions)
    assert record["status"] == "released" and record["smoke"] == "passed" and record["activated"]
    assert record["previous_active_version_ext_id"] == before["templateVersionSpec"]["extId"]
    assert record["active_version_ext_id"] == record["version_ext_id"] == new["extId"]
    assert record["test_vm_deleted"] and record["test_vm_name"] == "rocky9-base-test-t1" and no_test_vms(sim)
    # The smoke command ran inside the test VM, whose guest is the golden VM's as the version captured it.
    assert record["smoke_output"] == ["application healthy at patch level 0"]
    # Every Prism task the run started - new version, deploy and its subtask, power on, delete, publish -
    # is in the record, in the summary line and in the audit store's evidence.
    prism = {t["extId"] for t in all_tasks(sim)}
    assert {t["operation"] for t in all_tasks(sim)} == {
        "UpdateTemplate",
        "DeployTemplate",
        "CreateVm",
        "PowerOnVm",
        "DeleteVm",
        "PublishTemplate",
    }
    assert set(record["task_ext_ids"]) == prism
    assert all(task in run.output for task in prism)
    _executions, evidence, _events, verification = stored(db_path)
    assert verification.ok
    assert prism <= {t for e in evidence for t in e.task_ext_ids}
    assert record["test_vm_ext_id"] in {v for e in evidence for v in e.vm_ext_ids}
    assert new["extId"] in {x for e in evidence for x in e.ext_ids}


def test_a_test_vm_its_deploy_subtask_does_not_name_is_found_by_name_and_released(sim, sshd, tmp_path):
    sim.control("POST", "tasks/no-entities-next", {"operation": "CreateVm"})
    run, record = release(sim, sshd, tmp_path)
    assert run.rc == 0, run.output
    assert record["status"] == "released" and record["test_vm_name"] == "rocky9-base-test-t1"
    assert record["test_vm_ext_id"] and record["test_vm_deleted"] and no_test_vms(sim)


def test_a_failing_smoke_test_leaves_the_old_version_active_and_says_so(sim, sshd, tmp_path):
    before, _ = rocky(sim)
    # The golden VM's application is broken: the version made from it carries the broken guest.
    sim.control("POST", f"guests/{sim.vm(GOLDEN)['extId']}", {"app_healthy": False})
    run, record = release(sim, sshd, tmp_path)
    assert run.rc == 2, run.output
    template, versions = rocky(sim)
    assert template["templateVersionSpec"]["extId"] == before["templateVersionSpec"]["extId"]
    assert not versions["release-t1"]["isActiveVersion"]
    assert record["status"] == "smoke_failed" and record["smoke"] == "failed" and not record["activated"]
    assert "application unhealthy" in record["reason"]
    assert record["test_vm_deleted"] and no_test_vms(sim)
    assert not [t for t in all_tasks(sim) if t["operation"] == "PublishTemplate"]
    assert "SMOKE FAILED: version release-t1 of template rocky9-base was not activated" in run.output
    assert f"Version 2025.02 ({before['templateVersionSpec']['extId']}) is still the active one" in run.output
    assert "Test VM rocky9-base-test-t1" in run.output and "was deleted" in run.output


def test_a_guest_update_patches_a_copy_of_the_active_version(sim, sshd, tmp_path):
    apt_get = str(tmp_path / "standin" / "apt-get")
    run, record = release(
        sim,
        sshd,
        tmp_path,
        template_release_source="guest_update",
        template_release_update_commands={
            m: [[apt_get, "dist-upgrade"]] for m in ("apt", "dnf", "yum", "zypper")
        },
    )
    assert run.rc == 0, run.output
    template, versions = rocky(sim)
    assert template["templateVersionSpec"]["versionName"] == "release-t1" and record["status"] == "released"
    assert template.get("guestUpdateStatus") is None
    captured = sim.control("GET", "state/dump")
    (dumped,) = [t for t in captured["templates"] if t["templateName"] == "rocky9-base"]
    # 2025.02 was at patch level 4; the update patched its copy once.
    assert dumped["$captured"][versions["release-t1"]["extId"]]["patch_level"] == 5
    operations = [t["operation"] for t in all_tasks(sim)]
    assert {"InitiateGuestUpdate", "CompleteGuestUpdate", "DeployTemplate", "PublishTemplate"} <= set(
        operations
    )
    assert set(record["task_ext_ids"]) == {t["extId"] for t in all_tasks(sim)}


def test_rollback_activates_the_previous_version_and_the_gate_fails_closed_outside_the_app(
    sim, sshd, tmp_path
):
    _, versions = rocky(sim)
    run, record = release(
        sim, sshd, tmp_path / "gated", template_release_mode="rollback", template_release_approval=True
    )
    assert run.rc == 2, run.output
    assert record["status"] == "not_approved" and record["approval"] == "not_asked"
    assert rocky(sim)[0]["templateVersionSpec"]["versionName"] == "2025.02"
    assert "is still the active one" in run.output

    run, record = release(sim, sshd, tmp_path / "rollback", template_release_mode="rollback")
    assert run.rc == 0, run.output
    template, _ = rocky(sim)
    assert (
        template["templateVersionSpec"]["extId"]
        == versions["2025.01"]["extId"]
        == record["active_version_ext_id"]
    )
    assert record["status"] == "rolled_back" and record["version_name"] == "2025.01"
    (publish,) = [t for t in all_tasks(sim) if t["operation"] == "PublishTemplate"]
    assert record["task_ext_ids"] == [publish["extId"]]


def test_a_rollback_never_activates_a_version_that_failed_its_smoke_test_unless_asked(sim, sshd, tmp_path):
    # release-t1 fails its smoke test (a broken guest), then release-t2 passes and is active: the version
    # just before the active one is the failed one, and a default rollback used to activate it.
    golden = sim.vm(GOLDEN)["extId"]
    sim.control("POST", f"guests/{golden}", {"app_healthy": False})
    run, record = release(sim, sshd, tmp_path / "t1", template_release_run_id="t1")
    assert run.rc == 2 and record["smoke"] == "failed" and record["smoke_failed_recorded"], run.output
    template, versions = rocky(sim)
    failed = versions["release-t1"]["extId"]
    # Prism keeps the record on the template: a version cannot be changed once made.
    assert template["templateDescription"].endswith(f"[day2ops: failed smoke test: {failed}]")
    sim.control("POST", f"guests/{golden}", {"app_healthy": True})
    run, record = release(sim, sshd, tmp_path / "t2", template_release_run_id="t2")
    assert run.rc == 0 and record["status"] == "released", run.output
    assert list(rocky(sim)[1]) == ["2025.01", "2025.02", "release-t1", "release-t2"]

    # Without a version named: the previous good version, 2025.02, not release-t1.
    run, record = release(sim, sshd, tmp_path / "r1", template_release_mode="rollback")
    assert run.rc == 0, run.output
    assert record["version_name"] == "2025.02" and not record["version_smoke_failed"]
    assert rocky(sim)[0]["templateVersionSpec"]["versionName"] == "2025.02"

    # Named, without the override: refused, saying which option; nothing changes.
    run, record = release(
        sim,
        sshd,
        tmp_path / "r2",
        template_release_mode="rollback",
        template_release_rollback_version="release-t1",
    )
    assert run.rc == 2, run.output
    assert f"Version release-t1 ({failed}) of template rocky9-base failed its smoke test" in run.output
    assert "set template_release_allow_failed_version=true" in run.output
    assert rocky(sim)[0]["templateVersionSpec"]["versionName"] == "2025.02"

    # The override alone does not make a default rollback pick it.
    run, record = release(
        sim,
        sshd,
        tmp_path / "r3",
        template_release_mode="rollback",
        template_release_allow_failed_version=True,
    )
    assert run.rc == 0 and record["version_name"] == "2025.01", run.output

    # Named and allowed: activated.
    run, record = release(
        sim,
        sshd,
        tmp_path / "r4",
        template_release_mode="rollback",
        template_release_rollback_version=failed,
        template_release_allow_failed_version=True,
    )
    assert run.rc == 0, run.output
    assert record["status"] == "rolled_back" and record["version_smoke_failed"]
    assert rocky(sim)[0]["templateVersionSpec"]["extId"] == failed

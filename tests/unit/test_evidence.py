"""What the audit record keeps of a module result: the template modules' tasks, VMs and versions."""

from day2ops_app.audit.evidence import evidence_from_result

TEMPLATE = "5a3c6b9e-0d7f-4c1e-9a2b-3f4e5d6c7b8a"
VERSION = "0b6f3c52-1d7e-4a55-8f0e-6a2d9c1e7b34"


def test_a_deployment_keeps_its_tasks_subtasks_vms_template_and_version():
    result = {
        "changed": True,
        "ext_id": TEMPLATE,
        "version_ext_id": VERSION,
        "vm_ext_id": "vm-1",
        "vm_ext_ids": ["vm-1", "vm-2"],
        "vms": [{"ext_id": "vm-1", "name": "web-a"}, {"ext_id": "vm-2", "name": "web-b"}],
        "task_ext_id": "ZXJnb24=:deploy",
        "task_ext_ids": ["ZXJnb24=:deploy", "ZXJnb24=:sub-1", "ZXJnb24=:sub-2", "ZXJnb24=:power-1"],
    }
    found = evidence_from_result("day2ops.ahv.template_deploy", result)
    assert found["task_ext_ids"] == result["task_ext_ids"]
    assert found["vm_ext_ids"] == ["vm-1", "vm-2"]
    assert {TEMPLATE, VERSION} <= set(found["ext_ids"])


def test_a_guest_update_keeps_its_temporary_vm_and_a_publish_its_version():
    started = {"changed": True, "ext_id": TEMPLATE, "vm_ext_id": "vm-tmp", "task_ext_ids": ["ZXJnb24=:start"]}
    found = evidence_from_result("day2ops.ahv.template_guest_update", started)
    assert found["vm_ext_ids"] == ["vm-tmp"] and found["task_ext_ids"] == ["ZXJnb24=:start"]
    published = {
        "changed": True,
        "ext_id": TEMPLATE,
        "version_ext_id": VERSION,
        "task_ext_id": "ZXJnb24=:pub",
    }
    found = evidence_from_result("day2ops.ahv.template", published)
    assert found["ext_ids"] == [TEMPLATE, VERSION] and found["task_ext_ids"] == ["ZXJnb24=:pub"]


def test_reading_templates_is_no_evidence():
    assert (
        evidence_from_result("day2ops.ahv.template_info", {"changed": False, "ext_ids": [TEMPLATE]}) is None
    )


def test_a_cutover_keeps_plan_workload_source_and_target_ids_in_the_migration():
    result = {
        "changed": True,
        "plan_uuid": "plan-1",
        "cut_over": ["fin-a", "fin-b"],
        "migrations": [
            {
                "plan_uuid": "plan-1",
                "workload_uuid": "5011-a",
                "source_instance_uuid": "5011-a",
                "source_vm_id": "vm-1007",
                "source_vm_name": "fin-a",
                "state": "Completed",
                "target_vm_ext_id": "ahv-a",
            },
            {
                "plan_uuid": "plan-1",
                "workload_uuid": "5011-b",
                "source_instance_uuid": "5011-b",
                "source_vm_id": "vm-1014",
                "source_vm_name": "fin-b",
                "state": "Completed",
                "target_vm_ext_id": "ahv-b",
            },
        ],
        "target_vm_ext_ids": ["ahv-a", "ahv-b"],
    }
    found = evidence_from_result("day2ops.ahv.move_cutover", result)
    assert found["migration"] == {
        "plan_uuid": "plan-1",
        "workload_uuid": ["5011-a", "5011-b"],
        "source_instance_uuid": ["5011-a", "5011-b"],
        "source_vm_id": ["vm-1007", "vm-1014"],
        "source_vm_name": ["fin-a", "fin-b"],
        "target_vm_ext_id": ["ahv-a", "ahv-b"],
    }
    # The AHV VMs the migration made are VMs of the record too.
    assert found["vm_ext_ids"] == ["ahv-a", "ahv-b"]


def test_a_single_vm_plan_and_a_vcenter_power_change_keep_plain_ids():
    plan = {"changed": True, "plan_uuid": "plan-2", "workload_uuids": ["5011-c"], "plan": {"Name": "wave"}}
    assert evidence_from_result("day2ops.ahv.move_plan", plan)["migration"] == {
        "plan_uuid": "plan-2",
        "workload_uuid": "5011-c",
    }
    power = {"changed": True, "vm_id": "vm-1021", "instance_uuid": "5011-d", "power_state": "POWERED_ON"}
    assert evidence_from_result("day2ops.ahv.vcenter_vm_power", power)["migration"] == {
        "source_vm_id": "vm-1021",
        "source_instance_uuid": "5011-d",
    }
    # Reading Move is no evidence.
    assert evidence_from_result("day2ops.ahv.move_plan_info", {"changed": False, "plans": [plan]}) is None

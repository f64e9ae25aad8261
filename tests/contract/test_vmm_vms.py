"""ntnx-vmm-py-client against the simulator: VMs listed, read, changed and powered through the SDK."""

import json

import pytest
from ntnx_vmm_py_client import (
    AhvConfigAssociateVmCategoriesParams as AssociateVmCategoriesParams,
)
from ntnx_vmm_py_client import (
    AhvConfigCategoryReference as CategoryReference,
)
from ntnx_vmm_py_client import (
    AhvConfigClusterReference as ClusterReference,
)
from ntnx_vmm_py_client import (
    AhvConfigDisassociateVmCategoriesParams as DisassociateVmCategoriesParams,
)
from ntnx_vmm_py_client import (
    AhvConfigDisk as Disk,
)
from ntnx_vmm_py_client import (
    AhvConfigDiskAddress as DiskAddress,
)
from ntnx_vmm_py_client import (
    AhvConfigVm as Vm,
)
from ntnx_vmm_py_client import (
    AhvConfigVmDisk as VmDisk,
)
from ntnx_vmm_py_client import (
    CloneOverrideParams,
    GuestPowerOptions,
    GuestPowerStateTransitionConfig,
    VmApi,
)
from ntnx_vmm_py_client.rest import ApiException
from sdk_checks import assert_parsed, wait_task


def first_vm(vm_api, flt: str) -> Vm:
    vms = vm_api.list_vms(_filter=flt, _limit=1).data
    assert vms, f"no VM matches {flt}"
    return vms[0]


def test_list_pages_through_every_vm_with_totals(vm_api):
    first = vm_api.list_vms(_page=0, _limit=100)
    assert_parsed(first)
    total = first.metadata.total_available_results
    assert total == 300
    seen = {vm.ext_id for vm in first.data}
    page = 1
    while len(seen) < total:
        resp = vm_api.list_vms(_page=page, _limit=100)
        assert_parsed(resp)
        seen |= {vm.ext_id for vm in resp.data}
        page += 1
    assert len(seen) == total and page == 3
    rels = {link.rel for link in first.metadata.links}
    assert {"self", "first", "next", "last"} <= rels


def test_every_vm_of_the_estate_deserializes_into_sdk_models(vm_api):
    for page in range(3):
        for vm in vm_api.list_vms(_page=page, _limit=100).data:
            assert isinstance(vm, Vm)
            assert_parsed(vm, vm.name)
            assert isinstance(vm.disks[0].backing_info, VmDisk)
            assert type(vm.boot_config).__name__ in ("LegacyBoot", "UefiBoot")


def test_filter_with_typed_enum_literal_and_orderby_select(vm_api):
    resp = vm_api.list_vms(
        _filter="powerState eq Vmm.Ahv.Config.PowerState'OFF' and startswith(name,'fin-')",
        _orderby="name desc",
        _select="name,powerState,memorySizeBytes",
        _limit=100,
    )
    assert_parsed(resp)
    names = [vm.name for vm in resp.data]
    assert names and names == sorted(names, reverse=True)
    assert all(n.startswith("fin-") for n in names)
    assert {str(vm.power_state) for vm in resp.data} == {"OFF"}
    assert all(vm.disks is None and vm.memory_size_bytes > 0 for vm in resp.data)
    assert resp.metadata.total_available_results == len(names)


def test_filter_on_cluster_and_memory_and_in(vm_api, clusters_api):
    prod = clusters_api.list_clusters(_filter="name eq 'prod-ahv-01'").data[0]
    flt = f"cluster/extId eq '{prod.ext_id}' and memorySizeBytes ge 17179869184 and numSockets in (4, 8)"
    resp = vm_api.list_vms(_filter=flt, _limit=100)
    assert resp.data
    for vm in resp.data:
        assert vm.cluster.ext_id == prod.ext_id
        assert vm.memory_size_bytes >= 16 * 1024**3 and vm.num_sockets in (4, 8)


def test_get_carries_the_etag_in_header_and_reserved(vm_api, vmm_client):
    vm = first_vm(vm_api, "startswith(name,'hr-')")
    resp = vm_api.get_vm_by_id(vm.ext_id)
    assert_parsed(resp)
    etag = vmm_client.get_etag(resp.data)
    assert etag and resp.data.get_reserved()["ETag"] == etag
    assert resp.data.ext_id == vm.ext_id and resp.data.links[0].rel == "self"


def test_update_with_the_sdk_etag_then_stale_etag_is_412(vm_api, tasks_api):
    vm = first_vm(vm_api, "startswith(name,'eng-')")
    current = vm_api.get_vm_by_id(vm.ext_id).data
    old_etag = current.get_reserved()["ETag"]
    current.description = "patched by the contract test"
    current.memory_size_bytes = 6 * 1024**3
    task_ref = vm_api.update_vm_by_id(vm.ext_id, current)  # the SDK sends If-Match from $reserved
    assert_parsed(task_ref)
    task = wait_task(tasks_api, task_ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED"
    after = vm_api.get_vm_by_id(vm.ext_id).data
    assert after.description == "patched by the contract test" and after.memory_size_bytes == 6 * 1024**3
    assert after.get_reserved()["ETag"] != old_etag
    with pytest.raises(ApiException) as err:
        vm_api.power_off_vm(vm.ext_id, if_match=old_etag)
    assert err.value.status == 412
    assert json.loads(err.value.body) == {"code": "PLAT-10005", "message": "Invalid eTag header"}


def test_power_on_task_is_polled_to_succeeded_and_changes_the_vm(vm_api, tasks_api):
    vm = first_vm(vm_api, "powerState eq Vmm.Ahv.Config.PowerState'OFF'")
    etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
    ref = vm_api.power_on_vm(vm.ext_id, if_match=etag)
    assert ref.data.ext_id.startswith("ZXJnb24=:")
    first = tasks_api.get_task_by_id(ref.data.ext_id).data
    assert str(first.status) in ("QUEUED", "RUNNING")
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.progress_percentage == 100
    assert [(e.ext_id, e.rel) for e in task.entities_affected] == [(vm.ext_id, "vmm:ahv:config:vm")]
    assert task.completed_time >= task.started_time >= task.created_time
    assert str(vm_api.get_vm_by_id(vm.ext_id).data.power_state) == "ON"


def test_power_on_of_a_running_vm_fails_its_task_with_a_message(vm_api, tasks_api):
    vm = first_vm(vm_api, "powerState eq Vmm.Ahv.Config.PowerState'ON'")
    etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
    task = wait_task(tasks_api, vm_api.power_on_vm(vm.ext_id, if_match=etag).data.ext_id)
    assert str(task.status) == "FAILED"
    assert "it is ON" in task.error_messages[0].message


def test_guest_shutdown_needs_reachable_guest_tools(vm_api, tasks_api):
    body = GuestPowerOptions(
        guest_power_state_transition_config=GuestPowerStateTransitionConfig(
            should_enable_script_exec=False, should_fail_on_script_failure=False
        )
    )
    for vm in vm_api.list_vms(_filter="powerState eq Vmm.Ahv.Config.PowerState'ON'", _limit=100).data:
        etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
        task = wait_task(tasks_api, vm_api.shutdown_guest_vm(vm.ext_id, body, if_match=etag).data.ext_id)
        reachable = vm.guest_tools is not None and vm.guest_tools.is_reachable
        assert str(task.status) == ("SUCCEEDED" if reachable else "FAILED"), vm.name
        if not reachable:
            return
    pytest.fail("the estate has no running VM without reachable guest tools")


def test_clone_creates_a_new_vm_named_as_asked(vm_api, tasks_api):
    vm = first_vm(vm_api, "startswith(name,'sales-')")
    etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
    ref = vm_api.clone_vm(vm.ext_id, CloneOverrideParams(name="sales-clone-01", num_sockets=2), if_match=etag)
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED"
    new_id = next(e.ext_id for e in task.entities_affected if e.ext_id != vm.ext_id)
    clone = vm_api.get_vm_by_id(new_id).data
    assert_parsed(clone)
    assert clone.name == "sales-clone-01" and clone.num_sockets == 2 and str(clone.power_state) == "OFF"
    assert clone.source.ext_id == vm.ext_id and str(clone.source.entity_type) == "VM"
    assert clone.nics[0].backing_info.mac_address != vm.nics[0].backing_info.mac_address


def test_create_and_delete_a_vm(vm_api, tasks_api, clusters_api):
    prod = clusters_api.list_clusters(_filter="name eq 'prod-ahv-01'").data[0]
    spec = Vm(
        name="contract-new-vm",
        num_sockets=2,
        num_cores_per_socket=1,
        memory_size_bytes=4 * 1024**3,
        cluster=ClusterReference(ext_id=prod.ext_id),
        disks=[
            Disk(
                disk_address=DiskAddress(bus_type="SCSI", index=0),
                backing_info=VmDisk(disk_size_bytes=20 * 1024**3),
            )
        ],
    )
    task = wait_task(tasks_api, vm_api.create_vm(spec).data.ext_id)
    assert str(task.status) == "SUCCEEDED"
    new_id = task.entities_affected[0].ext_id
    created = vm_api.get_vm_by_id(new_id)
    assert created.data.name == "contract-new-vm" and created.data.disks[0].backing_info.disk_size_bytes
    etag = created.data.get_reserved()["ETag"]
    assert (
        str(wait_task(tasks_api, vm_api.delete_vm_by_id(new_id, if_match=etag).data.ext_id).status)
        == "SUCCEEDED"
    )
    with pytest.raises(ApiException) as err:
        vm_api.get_vm_by_id(new_id)
    assert err.value.status == 404


def test_associate_and_disassociate_categories(vm_api, tasks_api, categories_api):
    vm = first_vm(vm_api, "startswith(name,'mkt-')")
    quarantine = categories_api.list_categories(_filter="key eq 'Quarantine' and value eq 'Strict'").data[0]
    etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
    body = AssociateVmCategoriesParams(categories=[CategoryReference(ext_id=quarantine.ext_id)])
    assert (
        str(
            wait_task(
                tasks_api, vm_api.associate_categories(vm.ext_id, body, if_match=etag).data.ext_id
            ).status
        )
        == "SUCCEEDED"
    )
    now = vm_api.get_vm_by_id(vm.ext_id).data
    assert quarantine.ext_id in {c.ext_id for c in now.categories}
    body = DisassociateVmCategoriesParams(categories=[CategoryReference(ext_id=quarantine.ext_id)])
    ref = vm_api.disassociate_categories(vm.ext_id, body, if_match=now.get_reserved()["ETag"])
    assert str(wait_task(tasks_api, ref.data.ext_id).status) == "SUCCEEDED"
    assert quarantine.ext_id not in {c.ext_id for c in vm_api.get_vm_by_id(vm.ext_id).data.categories}


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda api: api.get_vm_by_id("00000000-0000-4000-8000-000000000000"), 404),
        (lambda api: api.list_vms(_filter="name eq"), 400),
        (lambda api: api.list_vms(_filter="description eq 'x'"), 400),
        (lambda api: api.list_vms(_limit=101), 400),
        (lambda api: api.list_vms(_orderby="powerState"), 400),
    ],
)
def test_errors_deserialize_into_the_sdk_error_response(vm_api, call, status):
    with pytest.raises(ApiException) as err:
        call(vm_api)
    assert err.value.status == status
    body = json.loads(err.value.body)
    error = vm_api.api_client.deserialize(body, "vmm.v4.ahv.config.GetVmApiResponse")
    assert_parsed(error)
    assert type(error.data).__name__ == "ErrorResponse"
    messages = error.data.error
    text = (
        messages.validation_error_messages[0].message
        if hasattr(messages, "validation_error_messages")
        else messages[0].message
    )
    assert text


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        ("power_off_vm", "ON", "OFF"),
        ("shutdown_vm", "ON", "OFF"),
        ("reboot_vm", "ON", "ON"),
        ("reset_vm", "ON", "ON"),
        ("power_cycle_vm", "ON", "ON"),
        ("power_on_vm", "OFF", "ON"),
    ],
)
def test_every_power_action_through_the_sdk(vm_api, tasks_api, action, start, end):
    vm = first_vm(vm_api, f"powerState eq Vmm.Ahv.Config.PowerState'{start}'")
    before = vm_api.get_vm_by_id(vm.ext_id).data
    ref = getattr(vm_api, action)(vm.ext_id, if_match=before.get_reserved()["ETag"])
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED", task.error_messages
    after = vm_api.get_vm_by_id(vm.ext_id).data
    assert str(after.power_state) == end
    assert (after.host is not None) == (end == "ON")
    assert after.get_reserved()["ETag"] != before.get_reserved()["ETag"]


def test_guest_reboot_through_the_sdk(vm_api, tasks_api):
    vms = vm_api.list_vms(_filter="powerState eq Vmm.Ahv.Config.PowerState'ON'", _limit=100).data
    vm = next(v for v in vms if v.guest_tools and v.guest_tools.is_reachable)
    body = GuestPowerOptions(
        guest_power_state_transition_config=GuestPowerStateTransitionConfig(
            should_enable_script_exec=True, should_fail_on_script_failure=False
        )
    )
    etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
    task = wait_task(tasks_api, vm_api.reboot_guest_vm(vm.ext_id, body, if_match=etag).data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.operation == "RebootGuestVm"


def test_sdk_retry_after_a_lost_answer_creates_one_vm(sim, vmm_client, tasks_api, clusters_api):
    """The SDK retries a POST on 503 with the same NTNX-Request-Id; the replay keeps it to one VM."""
    vmm_client.configuration.max_retry_attempts = 3
    vmm_client.configuration.backoff_factor = 0
    vm_api = VmApi(api_client=vmm_client)
    prod = clusters_api.list_clusters(_filter="name eq 'prod-ahv-01'").data[0]
    sim.control("POST", "faults", {"operation": "create_vm", "status": 503, "after_handler": True})
    ref = vm_api.create_vm(Vm(name="exactly-once", cluster=ClusterReference(ext_id=prod.ext_id)))
    assert str(wait_task(tasks_api, ref.data.ext_id).status) == "SUCCEEDED"
    assert sim.control("GET", "faults")["injected"] == 1 and sim.control("GET", "state")["replayed"] == 1
    named = vm_api.list_vms(_filter="name eq 'exactly-once'")
    assert named.metadata.total_available_results == 1

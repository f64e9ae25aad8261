"""ntnx-dataprotection-py-client against the simulator: recovery points taken, listed, read, kept,
replicated, restored and deleted, and the vmm revert that puts a VM back to one of them."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from ntnx_dataprotection_py_client import (
    AhvVmOverrideSpec,
    DiskRecoveryPoint,
    ExpirationTimeSpec,
    LocationReference,
    RecoveryPoint,
    RecoveryPointProjection,
    RecoveryPointReplicationSpec,
    RecoveryPointRestorationSpec,
    VmRecoveryPoint,
    VmRecoveryPointRestoreOverride,
    VssProperties,
)
from ntnx_dataprotection_py_client.rest import ApiException
from ntnx_vmm_py_client import AhvConfigRevertParams as RevertParams
from ntnx_vmm_py_client import AhvConfigVm as Vm
from sdk_checks import assert_parsed, wait_task

RP_REL = "dataprotection:config:recovery-point"
VMRP_REL = "dataprotection:config:vm-recovery-point"
VM_REL = "vmm:ahv:config:vm"


@pytest.fixture
def cluster_ids(clusters_api):
    return {c.name: c.ext_id for c in clusters_api.list_clusters().data}


def prod_vms(vm_api, cluster_ids, power: str = "ON") -> list[Vm]:
    prod = cluster_ids["prod-ahv-01"]
    flt = f"cluster/extId eq '{prod}' and powerState eq Vmm.Ahv.Config.PowerState'{power}'"
    vms = vm_api.list_vms(_filter=flt, _limit=100).data
    assert vms
    return vms


def vss_capable(vm: Vm) -> bool:
    tools = vm.guest_tools
    return bool(tools and tools.is_enabled and tools.is_reachable and tools.is_vss_snapshot_capable)


def details(task) -> dict[str, str]:
    return {d.name: d.value for d in task.completion_details or ()}


def later(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def take(rp_api, tasks_api, *vm_ids, name=None, rp_type=None, props=None, expires=None):
    """Create a recovery point of the VMs and wait for its task; returns the task."""
    body = RecoveryPoint(
        name=name,
        recovery_point_type=rp_type,
        expiration_time=expires,
        vm_recovery_points=[
            VmRecoveryPoint(vm_ext_id=vm_id, application_consistent_properties=props) for vm_id in vm_ids
        ],
    )
    ref = rp_api.create_recovery_point(body)
    assert_parsed(ref)
    assert ref.data.ext_id.startswith("ZXJnb24=:")
    return wait_task(tasks_api, ref.data.ext_id)


def take_ok(rp_api, tasks_api, *vm_ids, **kwargs) -> str:
    task = take(rp_api, tasks_api, *vm_ids, **kwargs)
    assert str(task.status) == "SUCCEEDED", task.error_messages
    return details(task)["recoveryPointExtId"]


def test_crash_consistent_recovery_point_reads_back_into_sdk_models(
    rp_api, tasks_api, vm_api, categories_api, cluster_ids, dataprotection_client
):
    vm = prod_vms(vm_api, cluster_ids)[0]
    expires = later(7)
    task = take(rp_api, tasks_api, vm.ext_id, name="contract-crash", expires=expires)
    assert str(task.status) == "SUCCEEDED" and task.operation == "CreateRecoveryPoint"
    rp_id = details(task)["recoveryPointExtId"]
    assert {(e.ext_id, e.rel) for e in task.entities_affected} == {(rp_id, RP_REL), (vm.ext_id, VM_REL)}

    resp = rp_api.get_recovery_point_by_id(rp_id)
    assert_parsed(resp)
    rp = resp.data
    assert isinstance(rp, RecoveryPoint) and rp.ext_id == rp_id and rp.name == "contract-crash"
    assert str(rp.status) == "COMPLETE" and str(rp.recovery_point_type) == "CRASH_CONSISTENT"
    assert rp.expiration_time == expires and rp.creation_time < expires
    assert rp.location_agnostic_id and rp.location_agnostic_id != rp.ext_id
    assert [type(loc) for loc in rp.location_references] == [LocationReference]
    assert rp.location_references[0].location_ext_id == cluster_ids["prod-ahv-01"]
    [point] = rp.vm_recovery_points
    assert isinstance(point, VmRecoveryPoint) and point.vm_ext_id == vm.ext_id
    assert str(point.recovery_point_type) == "CRASH_CONSISTENT"
    if "hypervisor_type" in VmRecoveryPoint.swagger_types:  # from v4.1 (SDK 4.1.1)
        assert str(point.hypervisor_type) == "AHV"
    assert point.application_consistent_properties is None and point.expiration_time == expires
    assert all(isinstance(d, DiskRecoveryPoint) for d in point.disk_recovery_points)
    assert [d.disk_ext_id for d in point.disk_recovery_points] == [d.ext_id for d in vm.disks]
    names = {c.ext_id: f"{c.key}/{c.value}" for c in categories_api.list_categories(_limit=100).data}
    assert point.vm_categories and sorted(point.vm_categories) == sorted(
        names[c.ext_id] for c in vm.categories
    )
    etag = dataprotection_client.get_etag(resp)
    assert etag and rp.get_reserved()["ETag"] == etag
    assert rp.links[0].rel == "self" and rp.links[0].href.endswith(f"/config/recovery-points/{rp_id}")


def test_application_consistent_with_vss_properties_on_a_vm_with_ngt(rp_api, tasks_api, vm_api, cluster_ids):
    vm = next(v for v in prod_vms(vm_api, cluster_ids) if vss_capable(v))
    props = VssProperties(backup_type="COPY_BACKUP", should_store_vss_metadata=True)
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id, rp_type="APPLICATION_CONSISTENT", props=props)
    rp = rp_api.get_recovery_point_by_id(rp_id).data
    assert_parsed(rp)
    assert str(rp.recovery_point_type) == "APPLICATION_CONSISTENT"
    assert rp.name  # Prism names an unnamed recovery point
    vss = rp.vm_recovery_points[0].application_consistent_properties
    assert isinstance(vss, VssProperties)
    assert str(vss.backup_type) == "COPY_BACKUP" and vss.should_store_vss_metadata is True


@pytest.mark.parametrize(
    ("power", "pick", "why"),
    [
        ("ON", lambda v: not (v.guest_tools and v.guest_tools.is_installed), "not installed"),
        ("OFF", lambda v: bool(v.guest_tools and v.guest_tools.is_enabled), "not reachable"),
    ],
    ids=["no-ngt", "powered-off"],
)
def test_application_consistent_without_reachable_ngt_fails_its_task(
    rp_api, tasks_api, vm_api, cluster_ids, power, pick, why
):
    vm = next(v for v in prod_vms(vm_api, cluster_ids, power) if pick(v))
    props = VssProperties(backup_type="FULL_BACKUP")
    task = take(rp_api, tasks_api, vm.ext_id, rp_type="APPLICATION_CONSISTENT", props=props)
    assert str(task.status) == "FAILED"
    message = task.error_messages[0].message
    assert "Nutanix Guest Tools" in message and why in message and vm.name in message
    flt = f"vmRecoveryPoints/any(v:v/vmExtId eq '{vm.ext_id}')"
    assert rp_api.list_recovery_points(_filter=flt).metadata.total_available_results == 0


def test_list_filters_orders_selects_and_pages(rp_api, tasks_api, vm_api, cluster_ids):
    a, b, c = prod_vms(vm_api, cluster_ids)[:3]
    refs = [
        rp_api.create_recovery_point(
            RecoveryPoint(name=name, vm_recovery_points=[VmRecoveryPoint(vm_ext_id=v) for v in vm_ids])
        )
        for name, vm_ids in [("rp-b", [a.ext_id, b.ext_id]), ("rp-a", [a.ext_id]), ("rp-c", [c.ext_id])]
    ]
    for ref in refs:
        assert str(wait_task(tasks_api, ref.data.ext_id).status) == "SUCCEEDED"

    one = rp_api.list_recovery_points(_filter="name eq 'rp-b'")
    assert_parsed(one)
    assert [rp.name for rp in one.data] == ["rp-b"] and one.metadata.total_available_results == 1
    assert {p.vm_ext_id for p in one.data[0].vm_recovery_points} == {a.ext_id, b.ext_id}

    of_a = rp_api.list_recovery_points(_filter=f"vmRecoveryPoints/any(v:v/vmExtId eq '{a.ext_id}')")
    assert sorted(rp.name for rp in of_a.data) == ["rp-a", "rp-b"]
    typed = rp_api.list_recovery_points(
        _filter="recoveryPointType eq Dataprotection.Common.RecoveryPointType'CRASH_CONSISTENT'"
    )
    assert typed.metadata.total_available_results == 3

    ordered = rp_api.list_recovery_points(_orderby="name desc")
    assert [rp.name for rp in ordered.data] == ["rp-c", "rp-b", "rp-a"]

    selected = rp_api.list_recovery_points(_select="name,recoveryPointType", _orderby="name")
    assert_parsed(selected)
    assert all(isinstance(rp, RecoveryPointProjection) for rp in selected.data)
    assert [(rp.name, str(rp.recovery_point_type)) for rp in selected.data] == [
        ("rp-a", "CRASH_CONSISTENT"),
        ("rp-b", "CRASH_CONSISTENT"),
        ("rp-c", "CRASH_CONSISTENT"),
    ]
    assert all(rp.vm_recovery_points is None and rp.creation_time is None for rp in selected.data)

    first = rp_api.list_recovery_points(_page=0, _limit=2, _orderby="name")
    second = rp_api.list_recovery_points(_page=1, _limit=2, _orderby="name")
    assert first.metadata.total_available_results == second.metadata.total_available_results == 3
    assert [rp.name for rp in first.data] == ["rp-a", "rp-b"] and [rp.name for rp in second.data] == ["rp-c"]
    assert {link.rel for link in first.metadata.links} >= {"self", "first", "next", "last"}


def test_get_vm_recovery_point_by_id(rp_api, tasks_api, vm_api, cluster_ids):
    vm = prod_vms(vm_api, cluster_ids)[1]
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id, name="contract-vmrp")
    listed = rp_api.get_recovery_point_by_id(rp_id).data.vm_recovery_points[0]
    resp = rp_api.get_vm_recovery_point_by_id(rp_id, listed.ext_id)
    assert_parsed(resp)
    point = resp.data
    assert isinstance(point, VmRecoveryPoint)
    assert (point.ext_id, point.vm_ext_id, point.name) == (listed.ext_id, vm.ext_id, vm.name)
    assert point.links[0].href.endswith(f"/recovery-points/{rp_id}/vm-recovery-points/{listed.ext_id}")
    with pytest.raises(ApiException) as err:
        rp_api.get_vm_recovery_point_by_id(rp_id, str(uuid.uuid4()))
    assert err.value.status == 404


def test_set_expiration_time_with_the_etag_then_the_stale_etag_is_412(rp_api, tasks_api, vm_api, cluster_ids):
    vm = prod_vms(vm_api, cluster_ids)[2]
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id, expires=later(1))
    before = rp_api.get_recovery_point_by_id(rp_id).data
    old_etag = before.get_reserved()["ETag"]
    new_time = later(30)
    ref = rp_api.set_recovery_point_expiration_time(
        rp_id, ExpirationTimeSpec(expiration_time=new_time), if_match=old_etag
    )
    assert_parsed(ref)
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.operation == "SetRecoveryPointExpirationTime"
    after = rp_api.get_recovery_point_by_id(rp_id).data
    assert after.expiration_time == new_time
    assert [p.expiration_time for p in after.vm_recovery_points] == [new_time]
    assert after.get_reserved()["ETag"] != old_etag
    with pytest.raises(ApiException) as err:
        rp_api.delete_recovery_point_by_id(rp_id, if_match=old_etag)
    assert err.value.status == 412
    assert json.loads(err.value.body) == {"code": "PLAT-10005", "message": "Invalid eTag header"}


def test_replicate_to_the_dr_cluster_makes_a_replica_there(rp_api, tasks_api, vm_api, cluster_ids):
    vm = prod_vms(vm_api, cluster_ids)[3]
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id, name="contract-replicate")
    source = rp_api.get_recovery_point_by_id(rp_id).data
    spec = RecoveryPointReplicationSpec(cluster_ext_id=cluster_ids["dr-ahv-01"])
    ref = rp_api.replicate_recovery_point(rp_id, spec, if_match=source.get_reserved()["ETag"])
    assert_parsed(ref)
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.operation == "EntitySnapshotReplicate"
    assert {e.rel for e in task.entities_affected} == {RP_REL, VMRP_REL}
    replica_id = details(task)["recoveryPointExtId"]
    assert replica_id != rp_id
    replica = rp_api.get_recovery_point_by_id(replica_id).data
    assert_parsed(replica)
    assert replica.location_agnostic_id == source.location_agnostic_id
    assert [loc.location_ext_id for loc in replica.location_references] == [cluster_ids["dr-ahv-01"]]
    assert replica.name == source.name and replica.vm_recovery_points[0].vm_ext_id == vm.ext_id
    assert replica.vm_recovery_points[0].ext_id != source.vm_recovery_points[0].ext_id
    copies = rp_api.list_recovery_points(_filter=f"locationAgnosticId eq '{source.location_agnostic_id}'")
    assert {rp.ext_id for rp in copies.data} == {rp_id, replica_id}


def test_replicate_to_an_unknown_prism_central_fails_its_task(rp_api, tasks_api, vm_api, cluster_ids):
    vm = prod_vms(vm_api, cluster_ids)[4]
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id)
    etag = rp_api.get_recovery_point_by_id(rp_id).data.get_reserved()["ETag"]
    stranger = str(uuid.uuid4())
    ref = rp_api.replicate_recovery_point(
        rp_id, RecoveryPointReplicationSpec(pc_ext_id=stranger), if_match=etag
    )
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "FAILED"
    assert stranger in task.error_messages[0].message and "paired" in task.error_messages[0].message
    assert rp_api.list_recovery_points().metadata.total_available_results == 1


def test_restore_with_an_override_name_creates_a_powered_off_vm(rp_api, tasks_api, vm_api, cluster_ids):
    """From v4.1 the restore names the new VM; v4.0 (SDK 4.0.1) has no override: the captured name."""
    vm = prod_vms(vm_api, cluster_ids)[5]
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id, name="contract-restore")
    rp = rp_api.get_recovery_point_by_id(rp_id).data
    overrides = "vm_override_spec" in VmRecoveryPointRestoreOverride.swagger_types
    name = "contract-restored-01" if overrides else vm.name
    override = {"vm_override_spec": AhvVmOverrideSpec(name=name)} if overrides else {}
    spec = RecoveryPointRestorationSpec(
        vm_recovery_point_restore_overrides=[
            VmRecoveryPointRestoreOverride(
                vm_recovery_point_ext_id=rp.vm_recovery_points[0].ext_id, **override
            )
        ]
    )
    ref = rp_api.restore_recovery_point(rp_id, spec, if_match=rp.get_reserved()["ETag"])
    assert_parsed(ref)
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.operation == "RestoreRecoveryPoint"
    [new_id] = details(task)["vmExtIds"].split(",")
    assert new_id != vm.ext_id and (new_id, VM_REL) in {(e.ext_id, e.rel) for e in task.entities_affected}
    named = vm_api.list_vms(_filter=f"name eq '{name}'").data
    assert sorted(v.ext_id for v in named) == sorted({new_id, vm.ext_id} if name == vm.name else {new_id})
    restored = vm_api.get_vm_by_id(new_id).data
    assert_parsed(restored)
    assert str(restored.power_state) == "OFF" and restored.host is None
    assert restored.cluster.ext_id == cluster_ids["prod-ahv-01"]
    assert (restored.num_sockets, restored.memory_size_bytes) == (vm.num_sockets, vm.memory_size_bytes)
    assert len(restored.disks) == len(vm.disks)
    assert {d.ext_id for d in restored.disks}.isdisjoint({d.ext_id for d in vm.disks})
    assert str(vm_api.get_vm_by_id(vm.ext_id).data.power_state) == "ON"  # the source is untouched


def test_delete_with_the_etag_removes_the_recovery_point(
    rp_api, tasks_api, vm_api, cluster_ids, dataprotection_client
):
    vm = prod_vms(vm_api, cluster_ids)[6]
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id)
    etag = dataprotection_client.get_etag(rp_api.get_recovery_point_by_id(rp_id))
    ref = rp_api.delete_recovery_point_by_id(rp_id, if_match=etag)
    assert_parsed(ref)
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.operation == "DeleteRecoveryPoint"
    with pytest.raises(ApiException) as err:
        rp_api.get_recovery_point_by_id(rp_id)
    assert err.value.status == 404
    error = dataprotection_client.deserialize(
        json.loads(err.value.body), "dataprotection.v4.config.GetRecoveryPointApiResponse"
    )
    assert_parsed(error)
    assert type(error.data).__name__ == "ErrorResponse" and rp_id in error.data.error[0].message
    assert rp_api.list_recovery_points().metadata.total_available_results == 0


def test_revert_puts_the_vm_and_its_guest_back_and_leaves_it_off(sim, rp_api, tasks_api, vm_api, cluster_ids):
    vm = prod_vms(vm_api, cluster_ids)[7]
    guest_before = sim.control("GET", f"guests/{vm.ext_id}")
    rp_id = take_ok(rp_api, tasks_api, vm.ext_id, name="contract-pre-patch")
    vmrp = rp_api.get_recovery_point_by_id(rp_id).data.vm_recovery_points[0]

    patched = sim.control("POST", f"guests/{vm.ext_id}/patch")
    assert patched["patch_level"] == guest_before["patch_level"] + 1
    current = vm_api.get_vm_by_id(vm.ext_id).data
    current.memory_size_bytes = vm.memory_size_bytes * 2
    assert (
        str(wait_task(tasks_api, vm_api.update_vm_by_id(vm.ext_id, current).data.ext_id).status)
        == "SUCCEEDED"
    )

    before = vm_api.get_vm_by_id(vm.ext_id).data
    assert before.memory_size_bytes == vm.memory_size_bytes * 2
    ref = vm_api.revert_vm(
        vm.ext_id, RevertParams(vm_recovery_point_ext_id=vmrp.ext_id), if_match=before.get_reserved()["ETag"]
    )
    assert_parsed(ref)
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED" and task.operation == "RevertVm"
    assert {(e.ext_id, e.rel) for e in task.entities_affected} == {
        (vm.ext_id, VM_REL),
        (vmrp.ext_id, VMRP_REL),
        (rp_id, RP_REL),
    }
    after = vm_api.get_vm_by_id(vm.ext_id).data
    assert_parsed(after)
    assert str(after.power_state) == "OFF" and after.memory_size_bytes == vm.memory_size_bytes
    assert after.ext_id == vm.ext_id and after.get_reserved()["ETag"] != before.get_reserved()["ETag"]
    guest = sim.control("GET", f"guests/{vm.ext_id}")
    assert guest["power_state"] == "OFF"
    assert guest["patch_level"] == guest_before["patch_level"] and guest["app_healthy"] is True
    assert guest["boot_id"] != guest_before["boot_id"]

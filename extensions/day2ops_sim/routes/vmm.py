"""vmm handlers: /api/vmm/{version}/ahv/config/vms and its actions."""

from .common import Call, Listing, entity_reply, handles, list_reply, task_reply

NS = "vmm"
VMS = "ahv/config/vms"
VM_TYPE = "vmm.v4.ahv.config.Vm"

VM_LISTING = Listing(
    enum_types={"powerState": "Vmm.Ahv.Config.PowerState", "machineType": "Vmm.Ahv.Config.MachineType"}
)


def with_typed_nics(vm: dict) -> dict:
    """A VM with v4.1's typed NIC objects beside the legacy ones; at v4.0 the segment's models
    (conformance.shape) leave them out again."""
    nics = []
    for nic in vm.get("nics") or ():
        nic = dict(nic)
        if "backingInfo" in nic:
            nic["nicBackingInfo"] = {
                **nic["backingInfo"],
                "$objectType": "vmm.v4.ahv.config.VirtualEthernetNic",
            }
        if "networkInfo" in nic:
            nic["nicNetworkInfo"] = {
                **nic["networkInfo"],
                "$objectType": "vmm.v4.ahv.config.VirtualEthernetNicNetworkInfo",
            }
        nics.append(nic)
    return {**vm, "nics": nics} if nics else vm


@handles(NS, "list_vms")
def list_vms(call: Call):
    return list_reply(call, call.state.vmm.vms, VM_TYPE, VM_LISTING, VMS, shape=with_typed_nics)


@handles(NS, "get_vm_by_id")
def get_vm_by_id(call: Call):
    ext_id = call.params["extId"]
    vm = call.state.vmm.get(ext_id)
    return entity_reply(call, with_typed_nics(vm), VM_TYPE, VMS, call.state.vmm.vms.etag(ext_id))


@handles(NS, "create_vm")
def create_vm(call: Call):
    return task_reply(call, call.state.vmm.create(call.json_body()))


@handles(NS, "update_vm_by_id")
def update_vm_by_id(call: Call):
    return task_reply(call, call.state.vmm.update(call.params["extId"], call.json_body(), call.if_match))


@handles(NS, "delete_vm_by_id")
def delete_vm_by_id(call: Call):
    return task_reply(call, call.state.vmm.delete(call.params["extId"], call.if_match))


def _power_handler(operation: str, action: str):
    def handler(call: Call):
        return task_reply(call, call.state.vmm.power(call.params["extId"], action, call.if_match))

    handler.__name__ = operation
    return handles(NS, operation)(handler)


# SDK operation name -> the `$actions/<verb>` it posts to.
for _operation, _action in {
    "power_on_vm": "power-on",
    "power_off_vm": "power-off",
    "shutdown_vm": "shutdown",
    "shutdown_guest_vm": "guest-shutdown",
    "reboot_vm": "reboot",
    "reboot_guest_vm": "guest-reboot",
    "reset_vm": "reset",
    "power_cycle_vm": "power-cycle",
}.items():
    _power_handler(_operation, _action)


@handles(NS, "clone_vm")
def clone_vm(call: Call):
    return task_reply(
        call, call.state.vmm.clone(call.params["extId"], call.json_body(required=False), call.if_match)
    )


@handles(NS, "associate_categories")
def associate_categories(call: Call):
    return task_reply(
        call,
        call.state.vmm.set_categories(call.params["extId"], call.json_body(), call.if_match, associate=True),
    )


@handles(NS, "disassociate_categories")
def disassociate_categories(call: Call):
    return task_reply(
        call,
        call.state.vmm.set_categories(call.params["extId"], call.json_body(), call.if_match, associate=False),
    )


@handles(NS, "revert_vm")
def revert_vm(call: Call):
    """In place: the same VM, its disks and guest put back to one of its VM recovery points."""
    return task_reply(
        call, call.state.dataprotection.revert(call.params["extId"], call.json_body(), call.if_match)
    )

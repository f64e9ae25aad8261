"""dataprotection handlers: /api/dataprotection/{version}/config/recovery-points and its actions."""

from .common import Call, Listing, entity_reply, handles, list_reply, task_reply

NS = "dataprotection"
RPS = "config/recovery-points"
RP_TYPE = "dataprotection.v4.config.RecoveryPoint"
VMRP_TYPE = "dataprotection.v4.config.VmRecoveryPoint"

RP_LISTING = Listing(enum_types={"recoveryPointType": "Dataprotection.Common.RecoveryPointType"})


@handles(NS, "list_recovery_points")
def list_recovery_points(call: Call):
    items = call.state.dataprotection.of_cluster_type(call.headers.get("x-cluster-id"))
    return list_reply(
        call,
        items,
        RP_TYPE,
        RP_LISTING,
        RPS,
        projection_type="dataprotection.v4.config.RecoveryPointProjection",
    )


@handles(NS, "get_recovery_point_by_id")
def get_recovery_point_by_id(call: Call):
    ext_id = call.params["extId"]
    rp = call.state.dataprotection.get(ext_id)
    return entity_reply(call, rp, RP_TYPE, RPS, call.state.dataprotection.recovery_points.etag(ext_id))


@handles(NS, "get_vm_recovery_point_by_id")
def get_vm_recovery_point_by_id(call: Call):
    rp_id = call.params["recoveryPointExtId"]
    point = call.state.dataprotection.get_vm_point(rp_id, call.params["extId"])
    return entity_reply(call, point, VMRP_TYPE, f"{RPS}/{rp_id}/vm-recovery-points", None)


@handles(NS, "create_recovery_point")
def create_recovery_point(call: Call):
    return task_reply(call, call.state.dataprotection.create(call.json_body()))


@handles(NS, "delete_recovery_point_by_id")
def delete_recovery_point_by_id(call: Call):
    return task_reply(call, call.state.dataprotection.delete(call.params["extId"], call.if_match))


@handles(NS, "set_recovery_point_expiration_time")
def set_recovery_point_expiration_time(call: Call):
    dp = call.state.dataprotection
    return task_reply(call, dp.set_expiration(call.params["extId"], call.json_body(), call.if_match))


@handles(NS, "replicate_recovery_point")
def replicate_recovery_point(call: Call):
    dp = call.state.dataprotection
    return task_reply(call, dp.replicate(call.params["extId"], call.json_body(), call.if_match))


@handles(NS, "restore_recovery_point")
def restore_recovery_point(call: Call):
    dp = call.state.dataprotection
    body = call.json_body(required=False)
    return task_reply(call, dp.restore(call.params["extId"], body, call.if_match))

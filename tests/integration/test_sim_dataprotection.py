"""Recovery points over plain HTTP(S): validation, ETags, revert rules, expiry, the guest inside
the VM, and X-Cluster-Id — what a hand-written client sees beyond the SDK's happy paths."""

import uuid
from datetime import datetime, timedelta

import pytest

RPS = "/api/dataprotection/v4.0/config/recovery-points"
VMS = "/api/vmm/v4.0/ahv/config/vms"


def accepted(sim, response) -> dict:
    """The task of a 202, waited for; it must succeed."""
    assert response.status_code == 202, response.text
    task = sim.wait_task(response.json()["data"]["extId"])
    assert task["status"] == "SUCCEEDED", task
    return task


def clusters(sim) -> dict[str, str]:
    data = sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
    return {c["name"]: c["extId"] for c in data}


def prod_vms(sim, power: str = "ON") -> list[dict]:
    flt = (
        f"cluster/extId eq '{clusters(sim)['prod-ahv-01']}' "
        f"and powerState eq Vmm.Ahv.Config.PowerState'{power}'"
    )
    return sim.api("GET", VMS, params={"$filter": flt, "$limit": 100}).json()["data"]


def sim_time(sim, seconds: float = 0) -> str:
    """The simulator's clock (it may have travelled) plus `seconds`, as RFC 3339."""
    now = datetime.fromisoformat(sim.control("GET", "state")["clock"].replace("Z", "+00:00"))
    return (now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_rp(sim, *vm_ids: str, **fields) -> dict:
    body = {"vmRecoveryPoints": [{"vmExtId": v} for v in vm_ids], **fields}
    task = accepted(sim, sim.api("POST", RPS, json=body))
    details = {d["name"]: d["value"] for d in task["completionDetails"]}
    return get_rp(sim, details["recoveryPointExtId"])


def get_rp(sim, ext_id: str) -> dict:
    r = sim.api("GET", f"{RPS}/{ext_id}")
    assert r.status_code == 200, r.text
    return {**r.json()["data"], "etag": r.headers["ETag"]}


def vm_etag(sim, ext_id: str) -> str:
    return sim.api("GET", f"{VMS}/{ext_id}").headers["ETag"]


def revert(sim, vm_ext_id: str, vmrp_ext_id: str, etag: str | None = "fresh"):
    headers = {} if etag is None else {"If-Match": vm_etag(sim, vm_ext_id) if etag == "fresh" else etag}
    return sim.api(
        "POST",
        f"{VMS}/{vm_ext_id}/$actions/revert",
        json={"vmRecoveryPointExtId": vmrp_ext_id},
        headers=headers,
    )


def replicate(sim, rp: dict, cluster_ext_id: str) -> dict:
    r = sim.api(
        "POST",
        f"{RPS}/{rp['extId']}/$actions/replicate",
        json={"clusterExtId": cluster_ext_id},
        headers={"If-Match": rp["etag"]},
    )
    details = {d["name"]: d["value"] for d in accepted(sim, r)["completionDetails"]}
    return get_rp(sim, details["recoveryPointExtId"])


def schema_error(r) -> dict:
    assert r.status_code == 400, r.text
    error = r.json()["data"]["error"]
    assert error["$objectType"] == "dataprotection.v4.error.SchemaValidationError"
    return error["validationErrorMessages"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda vm: {"recoveryPointType": "FULL_SNAPSHOT", **vm}, "recoveryPointType"),
        (lambda vm: {"expirationTime": "next tuesday", **vm}, "expirationTime"),
        (lambda vm: {"name": "no members"}, "vmRecoveryPoints"),
        (lambda vm: {"vmRecoveryPoints": []}, "vmRecoveryPoints"),
        (lambda vm: {"vmRecoveryPoints": [{"name": "no vm"}]}, "vmRecoveryPoints[0].vmExtId"),
        (
            lambda vm: {
                "recoveryPointType": "APPLICATION_CONSISTENT",
                "vmRecoveryPoints": [
                    {
                        **vm["vmRecoveryPoints"][0],
                        "applicationConsistentProperties": {"backupType": "FULL_BACKUP"},
                    }
                ],
            },
            "vmRecoveryPoints[0].applicationConsistentProperties.$objectType",  # a oneOf: names no member
        ),
    ],
    ids=["bad-type", "bad-time", "no-members", "empty-members", "no-vm", "vss-without-objecttype"],
)
def test_bad_create_bodies_are_400_naming_the_field(sim, body, field):
    members = {"vmRecoveryPoints": [{"vmExtId": prod_vms(sim)[0]["extId"]}]}
    message = schema_error(sim.api("POST", RPS, json=body(members)))
    assert message["attributePath"] == field and message["location"] == "body"
    assert field.split("[")[0].split(".")[-1] in message["message"]
    assert sim.api("GET", RPS).json()["metadata"]["totalAvailableResults"] == 0


def test_a_past_expiration_time_is_refused_on_create_and_on_set(sim):
    vm = prod_vms(sim)[0]
    past = sim_time(sim, -60)
    spec = {"expirationTime": past, "vmRecoveryPoints": [{"vmExtId": vm["extId"]}]}
    error = schema_error(sim.api("POST", RPS, json=spec))
    assert error["attributePath"] == "expirationTime" and "past" in error["message"]
    rp = create_rp(sim, vm["extId"])
    r = sim.api(
        "POST",
        f"{RPS}/{rp['extId']}/$actions/set-expiration-time",
        json={"expirationTime": past},
        headers={"If-Match": rp["etag"]},
    )
    assert schema_error(r)["attributePath"] == "expirationTime"
    r = sim.api(
        "POST",
        f"{RPS}/{rp['extId']}/$actions/set-expiration-time",
        json={},
        headers={"If-Match": rp["etag"]},
    )
    assert schema_error(r)["attributePath"] == "expirationTime"
    assert "expirationTime" not in get_rp(sim, rp["extId"])


def _action(sim, rp: dict, action: str) -> tuple[str, str, dict | None]:
    if action == "delete":
        return "DELETE", f"{RPS}/{rp['extId']}", None
    body = {
        "set-expiration-time": {"expirationTime": sim_time(sim, 86400)},
        "replicate": {"clusterExtId": clusters(sim)["dr-ahv-01"]},
        "restore": {},
    }[action]
    return "POST", f"{RPS}/{rp['extId']}/$actions/{action}", body


@pytest.mark.parametrize("action", ["delete", "set-expiration-time", "replicate", "restore"])
def test_recovery_point_mutations_need_a_current_if_match(sim, action):
    rp = create_rp(sim, prod_vms(sim)[0]["extId"])
    method, path, body = _action(sim, rp, action)
    r = sim.api(method, path, json=body)
    assert r.status_code == 428 and r.json() == {"code": "PLAT-10004", "message": "Missing eTag header"}
    # Any completed change makes the ETag stale.
    accepted(
        sim,
        sim.api(
            "POST",
            f"{RPS}/{rp['extId']}/$actions/set-expiration-time",
            json={"expirationTime": sim_time(sim, 3600)},
            headers={"If-Match": rp["etag"]},
        ),
    )
    r = sim.api(method, path, json=body, headers={"If-Match": rp["etag"]})
    assert r.status_code == 412 and r.json() == {"code": "PLAT-10005", "message": "Invalid eTag header"}
    fresh = get_rp(sim, rp["extId"])["etag"]
    assert fresh != rp["etag"]
    accepted(sim, sim.api(method, path, json=body, headers={"If-Match": fresh}))


def test_revert_needs_the_vms_current_if_match(sim):
    vm = prod_vms(sim)[0]
    rp = create_rp(sim, vm["extId"])
    vmrp = rp["vmRecoveryPoints"][0]["extId"]
    r = revert(sim, vm["extId"], vmrp, etag=None)
    assert r.status_code == 428 and r.json()["code"] == "PLAT-10004"
    # The recovery point's ETag is not the VM's.
    assert revert(sim, vm["extId"], vmrp, etag=rp["etag"]).status_code == 412
    old = vm_etag(sim, vm["extId"])
    accepted(sim, sim.api("POST", f"{VMS}/{vm['extId']}/$actions/reboot", headers={"If-Match": old}))
    r = revert(sim, vm["extId"], vmrp, etag=old)
    assert r.status_code == 412 and r.json()["code"] == "PLAT-10005"
    accepted(sim, revert(sim, vm["extId"], vmrp))


def test_revert_with_the_recovery_points_own_ext_id_is_a_404_that_says_which_id(sim):
    vm = prod_vms(sim)[0]
    rp = create_rp(sim, vm["extId"])
    r = revert(sim, vm["extId"], rp["extId"])
    assert r.status_code == 404
    error = r.json()["data"]["error"][0]
    assert error["$objectType"] == "vmm.v4.error.AppMessage"
    assert rp["extId"] in error["message"] and "vmRecoveryPoints[].extId" in error["message"]
    r = revert(sim, vm["extId"], str(uuid.uuid4()))
    assert r.status_code == 404 and "vmRecoveryPoints[].extId" not in r.text
    r = sim.api(
        "POST",
        f"{VMS}/{vm['extId']}/$actions/revert",
        json={},
        headers={"If-Match": vm_etag(sim, vm["extId"])},
    )
    assert r.status_code == 400
    assert r.json()["data"]["error"]["validationErrorMessages"][0]["attributePath"] == "vmRecoveryPointExtId"
    assert sim.api("GET", f"{VMS}/{vm['extId']}").json()["data"]["powerState"] == "ON"


def test_revert_of_a_vm_to_another_vms_recovery_point_is_refused(sim):
    mine, other = prod_vms(sim)[:2]
    rp = create_rp(sim, other["extId"])
    etag = vm_etag(sim, mine["extId"])
    r = revert(sim, mine["extId"], rp["vmRecoveryPoints"][0]["extId"], etag=etag)
    assert r.status_code == 400
    message = r.json()["data"]["error"][0]["message"]
    assert other["extId"] in message and mine["extId"] in message
    assert vm_etag(sim, mine["extId"]) == etag  # nothing happened to it
    assert sim.api("GET", f"{VMS}/{mine['extId']}").json()["data"]["powerState"] == "ON"


def test_revert_from_a_replica_on_the_dr_cluster_is_refused(sim):
    vm = prod_vms(sim)[0]
    rp = create_rp(sim, vm["extId"], name="local")
    replica = replicate(sim, rp, clusters(sim)["dr-ahv-01"])
    assert replica["vmRecoveryPoints"][0]["vmExtId"] == vm["extId"]
    r = revert(sim, vm["extId"], replica["vmRecoveryPoints"][0]["extId"])
    assert r.status_code == 400
    message = r.json()["data"]["error"][0]["message"]
    assert "not on the VM's cluster" in message and "restore" in message
    # The local copy of the same recovery point reverts.
    task = accepted(sim, revert(sim, vm["extId"], rp["vmRecoveryPoints"][0]["extId"]))
    assert task["operation"] == "RevertVm"


def test_restore_of_a_replica_without_body_makes_every_vm_on_the_dr_cluster(sim):
    a, b = prod_vms(sim)[:2]
    rp = create_rp(sim, a["extId"], b["extId"])
    dr = clusters(sim)["dr-ahv-01"]
    replica = replicate(sim, rp, dr)
    r = sim.api("POST", f"{RPS}/{replica['extId']}/$actions/restore", headers={"If-Match": replica["etag"]})
    task = accepted(sim, r)
    new_ids = next(d["value"] for d in task["completionDetails"] if d["name"] == "vmExtIds").split(",")
    restored = [sim.api("GET", f"{VMS}/{v}").json()["data"] for v in new_ids]
    assert sorted(v["name"] for v in restored) == sorted([a["name"], b["name"]])
    assert {v["cluster"]["extId"] for v in restored} == {dr}
    assert {v["powerState"] for v in restored} == {"OFF"}
    assert not {v["extId"] for v in restored} & {a["extId"], b["extId"]}
    assert task["clusterExtIds"] == [dr]


def test_expired_recovery_points_are_gone_from_list_and_get(sim):
    vm = prod_vms(sim)[0]
    short = create_rp(sim, vm["extId"], name="short", expirationTime=sim_time(sim, 3600))
    kept = create_rp(sim, vm["extId"], name="kept", expirationTime=sim_time(sim, 3600))
    forever = create_rp(sim, vm["extId"], name="forever")
    # Moving "kept" out by a day keeps it past its first expiry.
    accepted(
        sim,
        sim.api(
            "POST",
            f"{RPS}/{kept['extId']}/$actions/set-expiration-time",
            json={"expirationTime": sim_time(sim, 86400)},
            headers={"If-Match": kept["etag"]},
        ),
    )
    names = sorted(rp["name"] for rp in sim.api("GET", RPS).json()["data"])
    assert names == ["forever", "kept", "short"]

    sim.control("POST", "clock", {"advance_seconds": 3601})
    body = sim.api("GET", RPS, params={"$orderby": "name"}).json()
    assert [rp["name"] for rp in body["data"]] == ["forever", "kept"]
    assert body["metadata"]["totalAvailableResults"] == 2
    assert (
        sim.api("GET", RPS, params={"$filter": "name eq 'short'"}).json()["metadata"]["totalAvailableResults"]
        == 0
    )
    r = sim.api("GET", f"{RPS}/{short['extId']}")
    assert r.status_code == 404 and r.json()["data"]["$objectType"] == "dataprotection.v4.error.ErrorResponse"
    vmrp = short["vmRecoveryPoints"][0]["extId"]
    assert sim.api("GET", f"{RPS}/{short['extId']}/vm-recovery-points/{vmrp}").status_code == 404
    assert revert(sim, vm["extId"], vmrp).status_code == 404

    sim.control("POST", "clock", {"advance_seconds": 86400})
    assert [rp["name"] for rp in sim.api("GET", RPS).json()["data"]] == ["forever"]
    assert get_rp(sim, forever["extId"])["name"] == "forever"


def test_a_broken_patch_is_undone_by_revert_and_the_app_is_healthy_after_power_on(sim):
    vm = prod_vms(sim)[0]
    guest = f"guests/{vm['extId']}"
    healthy = sim.api("GET", f"/_sim/{guest}/health")
    assert healthy.status_code == 200 and healthy.json()["status"] == "UP"
    level = healthy.json()["patch_level"]
    rp = create_rp(sim, vm["extId"], name="pre-patch")

    assert sim.control("POST", guest, {"break_next_patch": True})["break_next_patch"] is True
    patched = sim.control("POST", f"{guest}/patch")
    assert patched["patch_level"] == level + 1 and patched["app_healthy"] is False
    assert patched["break_next_patch"] is False  # the lever is spent
    broken = sim.api("GET", f"/_sim/{guest}/health")
    assert broken.status_code == 503 and broken.json()["patch_level"] == level + 1
    assert "patch level" in broken.json()["reason"]

    accepted(sim, revert(sim, vm["extId"], rp["vmRecoveryPoints"][0]["extId"]))
    state = sim.control("GET", guest)
    assert (state["power_state"], state["patch_level"], state["app_healthy"]) == ("OFF", level, True)
    off = sim.api("GET", f"/_sim/{guest}/health")
    assert off.status_code == 503 and off.json()["reason"] == "VM is OFF"

    etag = vm_etag(sim, vm["extId"])
    accepted(sim, sim.api("POST", f"{VMS}/{vm['extId']}/$actions/power-on", headers={"If-Match": etag}))
    up = sim.api("GET", f"/_sim/{guest}/health")
    assert up.status_code == 200 and up.json()["status"] == "UP" and up.json()["patch_level"] == level
    assert up.json()["boot_id"] != healthy.json()["boot_id"]


def test_x_cluster_id_is_the_cluster_type_as_the_sdk_documents_it(sim):
    # ntnx-dataprotection-py-client 4.4.2: "Cluster type from which recovery points must be fetched.
    # Valid values: [AOS, MST]". Where a point lives is its locationReferences, not a header.
    names = clusters(sim)
    rp = create_rp(sim, prod_vms(sim)[0]["extId"], name="two-sites")
    replica = replicate(sim, rp, names["dr-ahv-01"])

    def listed(cluster_type: str | None) -> set[str]:
        headers = {"X-Cluster-Id": cluster_type} if cluster_type else {}
        body = sim.api("GET", RPS, headers=headers).json()
        return {item["extId"] for item in body.get("data") or ()}

    assert listed(None) == listed("AOS") == {rp["extId"], replica["extId"]}
    assert listed("MST") == set()
    assert schema_error(sim.api("GET", RPS, headers={"X-Cluster-Id": names["dr-ahv-01"]}))[
        "attributePath"
    ] == ("X-Cluster-Id")
    assert replica["locationReferences"] == [
        {"locationExtId": names["dr-ahv-01"], "$objectType": "dataprotection.v4.config.LocationReference"}
    ]


def test_a_task_never_acts_on_a_point_that_expired_before_it_finished(sim):
    vm = prod_vms(sim)[0]
    rp = create_rp(sim, vm["extId"], name="short", expirationTime=sim_time(sim, 10))
    sim.control("POST", "tasks/timing", {"per_operation": {"RevertVm": 20}})
    task = revert(sim, vm["extId"], rp["vmRecoveryPoints"][0]["extId"]).json()["data"]["extId"]
    sim.control("POST", "clock", {"advance_seconds": 30})
    finished = sim.wait_task(task)
    assert finished["status"] == "FAILED" and "no longer exists" in finished["errorMessages"][0]["message"]


def test_dump_and_load_keep_recovery_points_and_what_they_captured(sim):
    vm = prod_vms(sim)[0]
    rp = create_rp(sim, vm["extId"], name="kept-across-load", expirationTime=sim_time(sim, 3600))
    sim.control("POST", f"guests/{vm['extId']}/patch")
    snapshot = sim.control("GET", "state/dump")
    sim.reset()
    assert sim.control("GET", "state")["recovery_points"] == 0
    assert sim.control("POST", "state/load", snapshot)["recovery_points"] == 1
    assert sim.control("GET", f"guests/{vm['extId']}")["patch_level"] == 1
    accepted(sim, revert(sim, vm["extId"], rp["vmRecoveryPoints"][0]["extId"]))
    assert sim.control("GET", f"guests/{vm['extId']}")["patch_level"] == 0
    sim.control("POST", "clock", {"advance_seconds": 3601})
    assert sim.control("GET", "state")["recovery_points"] == 0  # its expiry came back with it

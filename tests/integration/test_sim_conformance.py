"""Each version segment speaks exactly its SDK release: requests the models would not produce are
refused with a SchemaValidationError naming the attribute, answers carry only that release's fields,
and the simulator records who sent what at which version (/_sim/conformance)."""

import pytest

DAY2OPS = {"User-Agent": "day2ops.ahv/0.1.0"}
SDK = {"User-Agent": "Nutanix-ntnx_vmm_py_client/4.0.1"}
VMS = "/api/{}/ahv/config/vms"
RPS = "/api/dataprotection/{}/config/recovery-points"


def refusal(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    error = response.json()["data"]["error"]
    assert error["$objectType"].endswith(".v4.error.SchemaValidationError")
    return [(m["attributePath"], m["message"]) for m in error["validationErrorMessages"]]


def vm_on(sim) -> dict:
    flt = "powerState eq Vmm.Ahv.Config.PowerState'ON'"
    return sim.api("GET", VMS.format("vmm/v4.0"), params={"$filter": flt, "$limit": 1}).json()["data"][0]


def recovery_point(sim, vm_ext_id: str) -> dict:
    """A finished crash-consistent recovery point of one VM, as v4.0 returns it."""
    body = {
        "name": "conformance",
        "recoveryPointType": "CRASH_CONSISTENT",
        "vmRecoveryPoints": [{"vmExtId": vm_ext_id}],
    }
    task = sim.api("POST", RPS.format("v4.0"), json=body).json()["data"]["extId"]
    done = sim.wait_task(task)
    assert done["status"] == "SUCCEEDED", done
    rp_id = next(e["extId"] for e in done["entitiesAffected"] if e["rel"].endswith("recovery-point"))
    return sim.api("GET", f"{RPS.format('v4.0')}/{rp_id}").json()["data"]


def test_the_requests_the_old_code_sent_are_refused_at_v40(sim):
    vm = vm_on(sim)
    etag = sim.api("GET", f"{VMS.format('vmm/v4.0')}/{vm['extId']}").headers["ETag"]
    # Finding 3: guest shutdown and reboot without their GuestPowerOptions body.
    for verb in ("guest-shutdown", "guest-reboot"):
        url = f"{VMS.format('vmm/v4.0')}/{vm['extId']}/$actions/{verb}"
        [(path, message)] = refusal(sim.api("POST", url, headers={"If-Match": etag}))
        assert "GuestPowerOptions" in message and path == ""
    # Finding 2: `cluster` and `host` are not selectable at v4.0; `cluster/extId` and `host/extId` are.
    r = sim.api("GET", VMS.format("vmm/v4.0"), params={"$select": "extId,cluster,host", "$limit": 1})
    assert "'cluster'" in refusal(r)[0][1]
    r = sim.api("GET", VMS.format("vmm/v4.0"), params={"$select": "extId,cluster/extId,host/extId"})
    assert set(r.json()["data"][0]["cluster"]) == {"extId"}
    # Finding 1: no vmOverrideSpec before dataprotection v4.1.
    rp = recovery_point(sim, vm["extId"])
    override = {
        "vmRecoveryPointRestoreOverrides": [
            {
                "vmRecoveryPointExtId": rp["vmRecoveryPoints"][0]["extId"],
                "vmOverrideSpec": {"$objectType": "dataprotection.v4.config.AhvVmOverrideSpec", "name": "x"},
            }
        ]
    }
    restore = f"{RPS.format('v4.0')}/{rp['extId']}/$actions/restore"
    rp_etag = sim.api("GET", f"{RPS.format('v4.0')}/{rp['extId']}").headers["ETag"]
    [(path, message)] = refusal(sim.api("POST", restore, json=override, headers={"If-Match": rp_etag}))
    assert path == "vmRecoveryPointRestoreOverrides[0].vmOverrideSpec"
    assert "ntnx-dataprotection-py-client==4.0.1" in message
    restore_41 = restore.replace("/v4.0/", "/v4.1/")
    assert sim.api("POST", restore_41, json=override, headers={"If-Match": rp_etag}).status_code == 202


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"name": "x", "expirationTme": "2030-01-01T00:00:00Z"}, "expirationTme", "not a field of"),
        ({"name": "x", "recoveryPointType": "CRASH"}, "recoveryPointType", "not one of"),
        ({"name": 7}, "name", "must be a string"),
        ({"name": None}, "name", "omit the field"),
        ({"name": "x", "expirationTime": "tomorrow"}, "expirationTime", "RFC 3339"),
        ({"name": "x", "vmRecoveryPoints": {"vmExtId": "y"}}, "vmRecoveryPoints", "must be a list"),
        ({"name": "x", "vmRecoveryPoints": [{"vmExtld": "y"}]}, "vmRecoveryPoints[0].vmExtld", "not a field"),
    ],
)
def test_bodies_are_checked_field_by_field_against_the_segments_models(sim, body, path, words):
    [(attribute, message)] = refusal(sim.api("POST", RPS.format("v4.0"), json=body))
    assert attribute == path and words in message


def test_a_oneof_member_needs_its_object_type_and_a_required_body_is_required(sim):
    vm = vm_on(sim)
    # A VM disk's backingInfo is a oneOf (VmDisk, ADSFVolumeGroupReference): no $objectType, no member.
    body = {"name": "x", "disks": [{"backingInfo": {"diskSizeBytes": 1}}]}
    [(path, message)] = refusal(sim.api("POST", VMS.format("vmm/v4.0"), json=body))
    assert path == "disks[0].backingInfo.$objectType" and "vmm.v4.ahv.config.VmDisk" in message
    [(path, message)] = refusal(sim.api("POST", VMS.format("vmm/v4.0")))
    assert path == "" and "requires a vmm.v4.ahv.config.Vm body" in message
    url = f"{VMS.format('vmm/v4.0')}/{vm['extId']}/$actions/power-off"
    assert "takes no request body" in refusal(sim.api("POST", url, json={"force": True}))[0][1]


def test_answers_carry_only_the_fields_of_the_segments_release(sim):
    rp = recovery_point(sim, vm_on(sim)["extId"])
    point = f"{RPS.format('{}')}/{rp['extId']}/vm-recovery-points/{rp['vmRecoveryPoints'][0]['extId']}"
    old = sim.api("GET", point.format("v4.0")).json()["data"]
    new = sim.api("GET", point.format("v4.1")).json()["data"]
    assert "hypervisorType" not in old and new["hypervisorType"] == "AHV"  # added by SDK 4.1.1
    assert set(old) <= set(new)


def test_an_operation_is_served_only_from_the_segment_whose_release_has_it(sim):
    body = {"name": "x", "vmRecoveryPoints": [{"vmExtId": vm_on(sim)["extId"]}]}
    task = sim.api("POST", RPS.format("v4.0"), json=body).json()["data"]["extId"]
    entities = "/api/prism/{}/config/tasks/{}/affected-entities".format
    r = sim.api("GET", entities("v4.1", task))
    assert r.status_code == 404 and "code" not in r.json()  # the gateway's 404: v4.1 has no such path
    assert sim.api("GET", entities("v4.2", task)).status_code == 200


def test_conformance_record_and_coverage_say_who_sent_what_and_how_strict(sim):
    before = sim.conformance()
    # (A refused request from day2ops itself would fail this session at its end, by design.)
    sim.api("GET", VMS.format("vmm/v4.0"), params={"$select": "cluster"}, headers=SDK)
    sim.api("GET", VMS.format("vmm/v4.1"), params={"$limit": 1}, headers=DAY2OPS)
    sim.reset()  # the record outlives a reset: a session reads it at its end
    after = sim.conformance()
    refused = after["refused"][len(before["refused"]) :]
    assert [(r["client"], r["operation"], r["version"]) for r in refused] == [("sdk", "list_vms", "v4.0")]
    assert "cluster" in refused[0]["problems"][0]
    counts = {(r["client"], r["operation"], r["version"]): r["requests"] for r in after["exercised"]}
    old = {(r["client"], r["operation"], r["version"]): r["requests"] for r in before["exercised"]}
    assert counts[("day2ops", "list_vms", "v4.1")] == old.get(("day2ops", "list_vms", "v4.1"), 0) + 1
    coverage = sim.control("GET", "coverage")
    assert any("inherit" in rule for rule in coverage["strictWithoutSource"])
    list_vms = next(o for o in coverage["operations"] if o["operation"] == "list_vms")
    assert list_vms["versions"]["v4.0"] == {"sdk": "ntnx-vmm-py-client==4.0.1", "inheritedQuery": []}
    assert "$select" in list_vms["versions"]["v4.3"]["inheritedQuery"]

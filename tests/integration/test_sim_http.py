"""The simulator over plain HTTP(S) with requests: what a hand-written client sees, errors included."""

import base64
import time
import uuid

import pytest
import requests
from sim_process import API_KEY

VMS = "/api/vmm/v4.0/ahv/config/vms"


def a_vm(sim, flt: str) -> dict:
    return sim.api("GET", VMS, params={"$filter": flt, "$limit": 1}).json()["data"][0]


def etag_of(sim, ext_id: str) -> str:
    return sim.api("GET", f"{VMS}/{ext_id}").headers["ETag"]


def test_the_readme_curl_answers_like_prism_central(sim):
    r = sim.api("GET", VMS, params={"$limit": 1})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["$objectType"] == "vmm.v4.ahv.config.ListVmsApiResponse"
    assert body["$reserved"] == {"$fv": "v4.r0"}
    vm = body["data"][0]
    assert vm["$objectType"] == "vmm.v4.ahv.config.Vm" and vm["$reserved"] == {"$fv": "v4.r0"}
    assert vm["links"][0]["href"] == f"{sim.base_url}{VMS}/{vm['extId']}"
    flags = {f["name"]: f["value"] for f in body["metadata"]["flags"]}
    assert flags == {"hasError": False, "isPaginated": True}
    assert body["metadata"]["totalAvailableResults"] == 300


@pytest.mark.parametrize(
    ("headers", "auth", "status"),
    [
        ({}, None, 401),
        ({}, ("admin", "wrong"), 401),
        ({"X-ntnx-api-key": "nope"}, None, 401),
        ({"X-ntnx-api-key": API_KEY}, None, 200),
    ],
)
def test_authentication(sim, headers, auth, status):
    r = requests.get(f"{sim.base_url}{VMS}", headers=headers, auth=auth, verify=False)  # no session cookie
    assert r.status_code == status
    if status == 401:
        assert r.json()["code"] == "PLAT-10001" and "WWW-Authenticate" in r.headers


def test_session_cookie_replaces_basic_auth_after_the_first_call(sim):
    fresh = requests.Session()
    first = fresh.get(f"{sim.base_url}{VMS}", auth=("admin", "Nutanix.123"), verify=False)
    assert "NTNX_IAM_SESSION" in first.cookies
    again = fresh.get(f"{sim.base_url}{VMS}", verify=False)  # cookie only, no Authorization
    assert again.status_code == 200


def test_version_negotiation_and_unserved_versions(sim):
    assert sim.api("OPTIONS", "/api/vmm/unversioned/info").json() == {"data": "v4.3"}
    assert sim.api("OPTIONS", "/api/prism/unversioned/info").json() == {"data": "v4.4"}
    for version in ("v4.0", "v4.1", "v4.2", "v4.3"):
        assert sim.api("GET", f"/api/vmm/{version}/ahv/config/vms", params={"$limit": 1}).status_code == 200
    assert sim.api("GET", "/api/prism/v4.4/config/categories").status_code == 200
    r = sim.api("GET", "/api/vmm/v4.4/ahv/config/vms")
    assert r.status_code == 404 and r.json() == {"message": pytest.approx(r.json()["message"])}
    assert "not found on the server" in r.json()["message"]
    sim.control("POST", "versions", {"vmm": "v4.0"})
    assert sim.api("OPTIONS", "/api/vmm/unversioned/info").json() == {"data": "v4.0"}
    assert sim.api("GET", "/api/vmm/v4.1/ahv/config/vms").status_code == 404
    assert sim.api("GET", VMS).status_code == 200


def test_v41_and_later_add_the_typed_nic_objects(sim):
    old = sim.api("GET", VMS, params={"$limit": 1}).json()["data"][0]["nics"][0]
    new = sim.api("GET", "/api/vmm/v4.3/ahv/config/vms", params={"$limit": 1}).json()["data"][0]
    assert "nicNetworkInfo" not in old
    assert new["$reserved"] == {"$fv": "v4.r3"}
    assert (
        new["nics"][0]["nicNetworkInfo"]["$objectType"] == "vmm.v4.ahv.config.VirtualEthernetNicNetworkInfo"
    )


def test_unimplemented_sdk_operation_is_501_and_unknown_path_is_gateway_404(sim):
    r = sim.api("GET", "/api/vmm/v4.0/content/images")
    assert r.status_code == 501
    msg = r.json()["data"]["error"][0]["message"]
    assert "list_images" in msg and "/_sim/coverage" in msg
    r = sim.api("GET", "/api/vmm/v4.0/ahv/config/not-a-thing")
    assert r.status_code == 404 and "code" not in r.json()
    coverage = sim.control("GET", "coverage")["operations"]
    served = {o["operation"] for o in coverage if o["served"]}
    assert {"list_vms", "power_on_vm", "get_task_by_id", "create_category", "list_clusters"} <= served


def test_missing_if_match_is_428_and_wildcard_is_412(sim):
    vm = a_vm(sim, "powerState eq Vmm.Ahv.Config.PowerState'ON'")
    r = sim.api("POST", f"{VMS}/{vm['extId']}/$actions/reboot")
    assert r.status_code == 428 and r.json() == {"code": "PLAT-10004", "message": "Missing eTag header"}
    r = sim.api("POST", f"{VMS}/{vm['extId']}/$actions/reboot", headers={"If-Match": "*"})
    assert r.status_code == 412 and r.json()["code"] == "PLAT-10005"


def test_malformed_json_and_bad_fields_name_the_attribute(sim):
    r = sim.api("POST", VMS, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    error = r.json()["data"]["error"]
    assert error["$objectType"] == "vmm.v4.error.SchemaValidationError"
    assert "Malformed JSON" in error["validationErrorMessages"][0]["message"]
    r = sim.api("POST", VMS, json={"name": "x", "numSockets": 0, "cluster": {"extId": "y"}})
    assert r.status_code == 400
    assert r.json()["data"]["error"]["validationErrorMessages"][0]["attributePath"] == "numSockets"
    r = sim.api("GET", VMS, params={"$filter": "name eq 'unterminated"})
    assert r.status_code == 400
    assert r.json()["data"]["error"]["validationErrorMessages"][0]["location"] == "query"
    r = sim.api("GET", VMS, params={"$expand": "nics"})
    assert r.status_code == 400 and "$expand" in r.text


def test_unknown_ext_id_is_404_in_the_v4_envelope(sim):
    r = sim.api("GET", f"{VMS}/{uuid.uuid4()}")
    assert r.status_code == 404
    body = r.json()
    assert body["$objectType"] == "vmm.v4.ahv.config.GetVmApiResponse"
    assert body["data"]["$objectType"] == "vmm.v4.error.ErrorResponse"
    assert body["data"]["error"][0]["severity"] == "ERROR"
    assert {f["name"]: f["value"] for f in body["metadata"]["flags"]}["hasError"] is True


def test_empty_page_has_no_data_and_page_past_the_end_is_empty(sim):
    body = sim.api("GET", VMS, params={"$filter": "name eq 'no-such-vm'"}).json()
    assert "data" not in body and body["metadata"]["totalAvailableResults"] == 0
    body = sim.api("GET", VMS, params={"$page": 99, "$limit": 100}).json()
    assert "data" not in body and body["metadata"]["totalAvailableResults"] == 300


def test_request_id_replay_returns_the_first_answer_and_acts_once(sim):
    prod = sim.api(
        "GET", "/api/clustermgmt/v4.0/config/clusters", params={"$filter": "name eq 'prod-ahv-01'"}
    ).json()["data"][0]
    rid = str(uuid.uuid4())
    spec = {"name": "replayed-vm", "cluster": {"extId": prod["extId"]}}
    first = sim.api("POST", VMS, json=spec, headers={"NTNX-Request-Id": rid})
    second = sim.api("POST", VMS, json=spec, headers={"NTNX-Request-Id": rid})
    assert first.status_code == second.status_code == 202
    assert first.json()["data"]["extId"] == second.json()["data"]["extId"]
    sim.wait_task(first.json()["data"]["extId"])
    named = sim.api("GET", VMS, params={"$filter": "name eq 'replayed-vm'"}).json()
    assert named["metadata"]["totalAvailableResults"] == 1
    assert sim.control("GET", "state")["replayed"] == 1


def test_a_lost_answer_retried_with_the_same_request_id_does_not_act_twice(sim):
    vm = a_vm(sim, "powerState eq Vmm.Ahv.Config.PowerState'OFF'")
    sim.control("POST", "faults", {"operation": "power_on_vm", "status": 503, "after_handler": True})
    headers = {"NTNX-Request-Id": str(uuid.uuid4()), "If-Match": etag_of(sim, vm["extId"])}
    lost = sim.api("POST", f"{VMS}/{vm['extId']}/$actions/power-on", headers=headers)
    assert lost.status_code == 503
    retry = sim.api("POST", f"{VMS}/{vm['extId']}/$actions/power-on", headers=headers)
    assert retry.status_code == 202
    assert sim.wait_task(retry.json()["data"]["extId"])["status"] == "SUCCEEDED"
    tasks = sim.api(
        "GET",
        "/api/prism/v4.0/config/tasks",
        params={"$filter": f"entitiesAffected/any(a:a/extId eq '{vm['extId']}')"},
    ).json()["data"]
    assert len(tasks) == 1


def test_fault_injection_429_with_retry_after_then_recovers(sim):
    sim.control("POST", "faults", {"operation": "list_vms", "count": 2, "status": 429, "retry_after": 2})
    for _ in range(2):
        r = sim.api("GET", VMS)
        assert r.status_code == 429 and r.headers["Retry-After"] == "2"
        assert r.json()["data"]["$objectType"] == "vmm.v4.error.ErrorResponse"
    assert sim.api("GET", VMS).status_code == 200
    assert sim.control("GET", "faults")["injected"] == 2


def test_latency_is_added_per_operation(sim):
    sim.control("POST", "latency", {"operation": "list_clusters", "seconds": 0.3})
    start = time.monotonic()
    sim.api("GET", "/api/clustermgmt/v4.0/config/clusters")
    slow = time.monotonic() - start
    start = time.monotonic()
    sim.api("GET", "/api/prism/v4.0/config/categories")
    fast = time.monotonic() - start
    assert slow >= 0.3 > fast


def test_fail_next_task_of_an_operation(sim):
    vm = a_vm(sim, "powerState eq Vmm.Ahv.Config.PowerState'OFF'")
    sim.control("POST", "tasks/fail-next", {"operation": "power_on_vm", "message": "host out of memory"})
    r = sim.api(
        "POST", f"{VMS}/{vm['extId']}/$actions/power-on", headers={"If-Match": etag_of(sim, vm["extId"])}
    )
    task = sim.wait_task(r.json()["data"]["extId"])
    assert task["status"] == "FAILED" and task["errorMessages"][0]["message"] == "host out of memory"
    assert sim.api("GET", f"{VMS}/{vm['extId']}").json()["data"]["powerState"] == "OFF"


def test_frozen_clock_holds_tasks_until_advanced(sim):
    sim.control("POST", "clock", {"frozen": True})
    vm = a_vm(sim, "powerState eq Vmm.Ahv.Config.PowerState'ON'")
    r = sim.api(
        "POST", f"{VMS}/{vm['extId']}/$actions/power-off", headers={"If-Match": etag_of(sim, vm["extId"])}
    )
    task_id = r.json()["data"]["extId"]
    time.sleep(0.5)
    assert sim.api("GET", f"/api/prism/v4.0/config/tasks/{task_id}").json()["data"]["status"] == "QUEUED"
    sim.control("POST", "clock", {"advance_seconds": 0.1})
    task = sim.api("GET", f"/api/prism/v4.0/config/tasks/{task_id}").json()["data"]
    assert task["status"] == "RUNNING" and 0 < task["progressPercentage"] < 100
    sim.control("POST", "clock", {"advance_seconds": 1})
    assert sim.api("GET", f"/api/prism/v4.0/config/tasks/{task_id}").json()["data"]["status"] == "SUCCEEDED"
    assert sim.api("GET", f"{VMS}/{vm['extId']}").json()["data"]["powerState"] == "OFF"


def test_task_id_travels_url_encoded(sim):
    vm = a_vm(sim, "powerState eq Vmm.Ahv.Config.PowerState'ON'")
    r = sim.api(
        "POST", f"{VMS}/{vm['extId']}/$actions/reset", headers={"If-Match": etag_of(sim, vm["extId"])}
    )
    task_id = r.json()["data"]["extId"]
    encoded = task_id.replace("=", "%3D").replace(":", "%3A")
    assert sim.api("GET", f"/api/prism/v4.0/config/tasks/{encoded}").json()["data"]["extId"] == task_id
    task_link = next(x for x in r.json()["metadata"]["links"] if x["rel"] == "task")
    assert task_link["href"].endswith(encoded)


def test_the_estate_is_deterministic_and_realistic(sim):
    first = sim.api("GET", VMS, params={"$limit": 100}).json()["data"]
    sim.reset(seed=1)
    again = sim.api("GET", VMS, params={"$limit": 100}).json()["data"]
    assert [v["extId"] for v in first] == [v["extId"] for v in again]
    sim.reset(seed=2)
    other = sim.api("GET", VMS, params={"$limit": 100}).json()["data"]
    assert {v["extId"] for v in first}.isdisjoint({v["extId"] for v in other})
    sim.reset(seed=1)
    cats = {
        c["extId"]: (c["key"], c["value"])
        for c in sim.api("GET", "/api/prism/v4.0/config/categories", params={"$limit": 100}).json()["data"]
    }
    vms = [
        v for p in range(3) for v in sim.api("GET", VMS, params={"$limit": 100, "$page": p}).json()["data"]
    ]
    untagged = [v for v in vms if "Department" not in {cats[c["extId"]][0] for c in v["categories"]}]
    assert 0 < len(untagged) < 20
    states = {v["powerState"] for v in vms}
    assert {"ON", "OFF"} <= states
    vss = [v for v in vms if v["guestTools"].get("isVssSnapshotCapable")]
    assert vss and all(
        v["guestTools"]["isEnabled"] and "VSS_SNAPSHOT" in v["guestTools"]["capabilities"] for v in vss
    )
    assert len(vss) < len(vms), "some VMs must lack NGT, so app-consistent recovery points can fail"
    assert all(v["nics"][0]["networkInfo"]["ipv4Config"]["ipAddress"]["value"].startswith("10.") for v in vms)


def test_generate_dump_and_load(sim):
    assert sim.control("POST", "vms/generate", {"count": 1000})["vms"] == 1300
    snapshot = sim.control("GET", "state/dump")
    assert len(snapshot["vms"]) == 1300
    sim.reset()
    assert sim.control("GET", "state")["vms"] == 300
    assert sim.control("POST", "state/load", snapshot)["vms"] == 1300


def test_api_key_auth_has_no_password_in_the_request(sim):
    r = requests.get(f"{sim.base_url}{VMS}", headers={"X-ntnx-api-key": API_KEY}, verify=False)
    assert r.status_code == 200
    assert "Authorization" not in r.request.headers
    assert base64.b64encode(b"admin").decode() not in str(r.request.headers)

"""The vCenter and Move clients against the simulator process: re-login when a token or session
expires, the shared transport's retries, a mutation resent only after reading back that it did not
act, every answer shape public Move clients read, and errors that name the call and the API's reason."""

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._move import (
    MoveClient,
    target_ext_id,
    vm_failure,
    workload_statuses,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vcenter import VCenterClient
from sim_process import MOVE_USERNAME, PASSWORD, VCENTER_USERNAME


def vcenter(sim, password=PASSWORD) -> VCenterClient:
    return VCenterClient.from_options(
        {
            "vcenter_host": sim.host,
            "vcenter_port": sim.vcenter_port,
            "vcenter_username": VCENTER_USERNAME,
            "vcenter_password": password,
            "validate_certs": True,
            "ca_path": str(sim.cert_path),
        }
    )


def move(sim) -> MoveClient:
    return MoveClient.from_options(
        {
            "move_host": sim.host,
            "move_port": sim.move_port,
            "move_username": MOVE_USERNAME,
            "move_password": PASSWORD,
            "validate_certs": True,
            "ca_path": str(sim.cert_path),
        }
    )


def test_move_logs_in_again_when_its_token_expires(sim):
    client = move(sim)
    assert len(client.providers()) == 2 and client.auth.logins == 1
    sim.control("POST", "move/expire-tokens")
    assert len(client.providers()) == 2 and client.auth.logins == 2


def test_vcenter_creates_a_new_session_after_an_idle_one_expires(sim):
    client = vcenter(sim)
    assert len(client.list_vms(power_states=["POWERED_OFF"])) > 0
    sim.control("POST", "clock", {"advance_seconds": 1801})
    assert client.list_vms(names=["fin-docs-stg-004"])[0]["name"] == "fin-docs-stg-004"
    assert client.auth.logins == 2


def test_vcenter_retries_a_throttled_call_through_the_shared_transport(sim):
    sim.control("POST", "faults", {"path": "/api/vcenter/vm", "status": 503, "retry_after": 0, "count": 2})
    client = vcenter(sim)
    assert len(client.list_vms()) == 300
    assert client.transport.stats["retries"] == 2


def test_no_guest_identity_is_an_answer_not_retried(sim):
    client = vcenter(sim)
    vms = client.list_vms()
    no_tools = vms[16]  # VM #17 of the estate runs without VMware Tools
    off = next(v for v in vms if v["power_state"] == "POWERED_OFF")
    before = dict(client.transport.stats)
    assert client.guest_identity(no_tools["vm"], no_tools["power_state"]) is None
    assert client.guest_identity(off["vm"], off["power_state"]) is None  # not asked at all
    assert client.transport.stats == {"requests": before["requests"] + 1, "retries": before["retries"]}
    assert client.guest_identity(vms[0]["vm"])["host_name"] == vms[0]["name"]


def test_errors_name_the_call_and_the_apis_reason(sim):
    with pytest.raises(ApiError) as bad_login:
        vcenter(sim, password="wrong").list_vms()
    assert str(bad_login.value).startswith("Failed to log in to vCenter: 401 UNAUTHENTICATED")
    assert "check vcenter_username and vcenter_password" in str(bad_login.value)
    assert vcenter(sim).power("vm-1007", "start") is False  # already on: not an error
    with pytest.raises(ApiError) as missing:
        move(sim).plan("nope")
    assert "Failed to read Move plan 'nope': 404 20404: Migration plan nope not found" in str(missing.value)


def test_the_target_vm_comes_from_the_console_link():
    link = "https://pc:9440/vnc/vm/0b6f3c52-1d7e-4a55-8f0e-6a2d9c1e7b34/proxy"
    assert target_ext_id({"VmConsoleLink": link}) == "0b6f3c52-1d7e-4a55-8f0e-6a2d9c1e7b34"
    assert target_ext_id({"StateString": "DataSeeding"}) is None


def test_workload_statuses_read_both_known_shapes_and_fail_naming_any_other():
    flat = {"UUID": "50a", "Name": "db-1", "StateString": "ReadyToCutover", "Actions": ["cutover"]}
    from_status = workload_statuses({"Status": {"VMStatus": [flat]}}, "read")
    from_entities = workload_statuses(
        {"Entities": [{"MetaData": {**flat, "UUID": None, "VMUuid": "50a"}}]}, "read"
    )
    assert from_status[0]["Actions"] == from_entities[0]["Actions"] == ["CUTOVER"]
    assert from_entities[0]["UUID"] == "50a" and from_entities[0]["Name"] == "db-1"
    assert workload_statuses({"Status": {"VMStatus": None}}, "read") == []
    with pytest.raises(ApiError) as unknown:
        workload_statuses({"MetaData": {"Count": 1}, "VMs": [flat]}, "read the VMs of Move plan 'w'")
    assert "a shape day2ops does not know (keys ['MetaData', 'VMs']; MetaData keys ['Count'])" in str(
        unknown.value
    )
    with pytest.raises(ApiError) as no_uuid:
        workload_statuses({"Entities": [{"MetaData": {"Name": "db-1"}}]}, "read")
    assert "without its UUID" in str(no_uuid.value)


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        ("Failed", "failed"),
        ("MigrationFailed", "failed"),
        ("CutoverError", "failed"),
        ("Cancelled", "cancelled"),
        ("Aborted", "cancelled"),
        ("DataSeeding", None),
        ("ReadyToCutover", None),
        (None, None),
    ],
)
def test_a_failed_or_cancelled_vm_is_read_from_any_state_that_says_so(state, outcome):
    assert vm_failure({"StateString": state}) == outcome


def test_a_move_mutation_is_read_back_before_it_is_sent_again(sim):
    client = move(sim)
    source, target = (p["Spec"] for p in client.providers())
    cluster = target["AOSProperties"]["Clusters"][0]
    vm = client.source_inventory(source["UUID"], query="fin-fileshare-tst-003")[0][0]
    spec = {
        "Name": "lost-answer",
        "SourceInfo": {"ProviderUUID": source["UUID"]},
        "TargetInfo": {
            "ProviderUUID": target["UUID"],
            "AOSProviderAttrs": {
                "ClusterUUID": cluster["UUID"],
                "ContainerUUID": cluster["Containers"][0]["UUID"],
            },
        },
        "NetworkMappings": [
            {"SourceNetworkID": n["ID"], "TargetNetworkID": cluster["Networks"][0]["UUID"]}
            for n in vm["Networks"]
        ],
        "Workload": {"Type": "VM", "VMs": [{"VMReference": {"UUID": vm["VMUuid"]}}]},
    }
    # The first 503 came before Move acted, the 504 after: one is sent again, the other read back.
    sim.control("POST", "faults", {"path": "/move/v2/plans", "method": "POST", "status": 503})
    sim.control(
        "POST", "faults", {"path": "/move/v2/plans", "method": "POST", "status": 504, "after_handler": True}
    )
    uuid = client.create_plan(spec)
    assert [p["MetaData"]["UUID"] for p in client.plans() if p["MetaData"]["Name"] == "lost-answer"] == [uuid]
    assert sim.control("GET", "faults")["injected"] == 2

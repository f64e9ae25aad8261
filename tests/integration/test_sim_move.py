"""The Move simulator over HTTP: login and tokens, providers and inventory (paged, ShowVMs), plans
and their actions, guest preparation, readiness, per-VM states in time, cutover and what it does to
vCenter and Prism Central, and the answer shapes clients read."""

import time

import requests
from sim_process import MOVE_USERNAME, PASSWORD


def providers(sim) -> tuple[dict, dict]:
    listed = sim.move("POST", "/providers/list", json={}).json()["Entities"]
    source = next(p for p in listed if "ESXAccessInfo" in p["Spec"])
    target = next(p for p in listed if "AOSAccessInfo" in p["Spec"])
    return source, target


GUEST_CREDENTIALS = {
    "LinuxUserName": "root",
    "LinuxPassword": PASSWORD,
    "WindowsUserName": "Administrator",
    "WindowsPassword": PASSWORD,
}


def source_vms(sim, names: list[str]) -> list[dict]:
    source = providers(sim)[0]["MetaData"]["UUID"]
    out = []
    for name in names:
        found = sim.move(
            "POST", f"/providers/{source}/workloads/list", json={"ShowVMs": "all", "Query": name}
        ).json()["Entities"]
        out.append(next(e for e in found if e["VMName"] == name))
    return out


def prepare(sim, plan: str, credentials=None, vms=()) -> dict:
    """Guest preparation, sent again while Move installs, as the Calm tasks do; its Result."""
    body = {"Spec": {"CommonCredentials": credentials or GUEST_CREDENTIALS, "Region": "", "VMs": list(vms)}}
    deadline = time.monotonic() + 20
    while True:
        answer = sim.move("POST", f"/plans/{plan}/prepare", json=body)
        assert answer.status_code == 200, answer.text
        result = answer.json()["Status"]["Result"]
        if not result["InstallationInProgress"]:
            return result
        assert time.monotonic() < deadline, result
        time.sleep(0.1)


def clean_vms(sim, count: int) -> list[dict]:
    """Powered-on VMs with VMware Tools, SCSI disks and only app/db port groups: Move takes them."""
    listed = sim.vcenter("GET", "/api/vcenter/vm", params={"power_states": "POWERED_ON"}).json()
    out = []
    for summary in listed:
        info = sim.vcenter("GET", f"/api/vcenter/vm/{summary['vm']}").json()
        nets = {n["backing"]["network"] for n in info["nics"].values()}
        tools = sim.vcenter("GET", f"/api/vcenter/vm/{summary['vm']}/guest/identity").status_code == 200
        disks_ok = all(d["type"] == "SCSI" for d in info["disks"].values())
        if tools and disks_ok and nets <= {"dvportgroup-34", "dvportgroup-35"}:
            out.append(summary)
        if len(out) == count:
            return out
    raise AssertionError("not enough clean VMs in the estate")


def plan_body(sim, name: str, vm_names: list[str], mappings=None) -> dict:
    _, target = providers(sim)
    cluster = next(c for c in target["Spec"]["AOSProperties"]["Clusters"] if c["Name"] == "prod-ahv-01")
    subnet = cluster["Networks"][0]["UUID"]
    nets = mappings if mappings is not None else ["dvportgroup-34", "dvportgroup-35"]
    return {
        # Lower-case keys on purpose: Move matches keys without regard to case.
        "spec": {
            "name": name,
            "SourceInfo": {"ProviderUUID": providers(sim)[0]["MetaData"]["UUID"]},
            "TargetInfo": {
                "ProviderUUID": target["MetaData"]["UUID"],
                "AOSProviderAttrs": {
                    "ClusterUUID": cluster["UUID"],
                    "ContainerUUID": cluster["Containers"][0]["UUID"],
                },
            },
            "NetworkMappings": [{"SourceNetworkID": n, "TargetNetworkID": subnet} for n in nets],
            "Settings": {"GuestPrepMode": "auto", "Schedule": {"ScheduleAtEpochSec": -1}},
            "Workload": {
                "Type": "VM",
                "VMs": [
                    {"VMReference": {"UUID": v["VMUuid"], "VMID": v["VmID"]}, "AllowUVMOps": True}
                    for v in source_vms(sim, vm_names)
                ],
            },
        }
    }


def wait_vm_state(sim, plan: str, uuid: str, wanted: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        statuses = sim.move("POST", f"/plans/{plan}/workloads/list", json={}).json()["Status"]["VMStatus"]
        status = next(s for s in statuses if s["UUID"] == uuid)
        if status["StateString"] == wanted:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_login_token_forms_expiry_and_revoke(sim):
    base = f"{sim.url(sim.move_port)}/move/v2"
    wrong = requests.post(
        f"{base}/users/login", json={"Spec": {"UserName": MOVE_USERNAME, "Password": "x"}}, verify=False
    )
    assert wrong.status_code == 401 and "Message" in wrong.json()
    login = requests.post(
        f"{base}/users/login", json={"spec": {"username": MOVE_USERNAME, "password": PASSWORD}}, verify=False
    )
    token = login.json()["Status"]["Token"]
    assert token.count(".") == 2 and login.json()["Status"]["ExpiryDate"]
    for header in ("Bearer " + token, token):
        assert requests.get(f"{base}/appinfo", headers={"Authorization": header}, verify=False).ok
    assert requests.get(f"{base}/appinfo", verify=False).status_code == 401
    sim.control("POST", "move/timing", {"token_seconds": 5})
    short = requests.post(
        f"{base}/users/login", json={"Spec": {"UserName": MOVE_USERNAME, "Password": PASSWORD}}, verify=False
    ).json()["Status"]["Token"]
    sim.control("POST", "clock", {"advance_seconds": 6})
    assert requests.get(f"{base}/appinfo", headers={"Authorization": short}, verify=False).status_code == 401
    revoke = requests.post(
        f"{base}/token/revoke",
        json={"Spec": {"Token": token}},
        headers={"Authorization": token},
        verify=False,
    )
    assert revoke.ok
    assert requests.get(f"{base}/appinfo", headers={"Authorization": token}, verify=False).status_code == 401


def test_providers_inventory_and_target_clusters(sim):
    source, target = providers(sim)
    assert source["Spec"]["Role"] == 1 and target["Spec"]["Type"] == "AOS_PC"
    assert "Password" not in source["Spec"]["ESXAccessInfo"]
    names = {c["Name"] for c in target["Spec"]["AOSProperties"]["Clusters"]}
    assert names == {"prod-ahv-01", "dr-ahv-01"}
    assert source["MetaData"]["NumDiscoveredWorkloads"] == 300
    inventory = sim.move(
        "POST",
        f"/providers/{source['MetaData']['UUID']}/workloads/list",
        json={"Query": "-prd-", "SortBy": "VMName", "Limit": 5},
    ).json()
    assert len(inventory["Entities"]) == 5 and inventory["MetaData"]["Count"] > 5
    entity = inventory["Entities"][0]
    assert entity["VMUuid"].startswith("50") and entity["VmID"].startswith("vm-")
    info = sim.vcenter("GET", f"/api/vcenter/vm/{entity['VmID']}").json()
    assert info["identity"]["instance_uuid"] == entity["VMUuid"]
    duplicate = sim.move(
        "POST",
        "/providers",
        json={
            "Spec": {"Name": "pc-01", "Type": "AOS", "AOSAccessInfo": {"IPorFQDN": "x", "Username": "admin"}}
        },
    )
    assert duplicate.status_code == 409


def test_readiness_names_each_vm_and_its_reason(sim):
    listed = sim.vcenter("GET", "/api/vcenter/vm").json()
    # In estate order: #17 has no VMware Tools, #19 a NIC on the DMZ port group, #23 an NVMe disk.
    names = [listed[16]["name"], listed[18]["name"], listed[22]["name"]]
    ok = clean_vms(sim, 1)[0]["name"]
    created = sim.move("POST", "/plans", json=plan_body(sim, "wave-readiness", [*names, ok]))
    assert created.status_code == 201, created.text
    plan = created.json()["MetaData"]["UUID"]
    unprepared = sim.move("POST", f"/plans/{plan}/readiness").json()["Status"]["VMChecksResult"]["Failed"]
    assert {f["VMName"] for f in unprepared if f["CheckType"] == "GuestPreparation"} == {*names, ok}
    prepared = prepare(sim, plan)
    assert [f["VMName"] for f in prepared["Failed"]] == [names[0]]
    assert "VMware Tools is not running" in prepared["Failed"][0]["Message"]
    result = sim.move("POST", f"/plans/{plan}/readiness").json()["Status"]
    failed = {(f["VMName"], f["CheckType"]) for f in result["VMChecksResult"]["Failed"]}
    assert failed == {
        (names[0], "VMwareTools"),
        (names[0], "GuestPreparation"),
        (names[1], "NetworkMapping"),
        (names[2], "DiskType"),
    }
    assert [p["VMName"] for p in result["VMChecksResult"]["Passed"]] == [ok]
    # Starting seeds the clean VM and fails the others with their reason.
    assert sim.move("POST", f"/plans/{plan}/start").status_code == 202
    statuses = sim.move("POST", f"/plans/{plan}/workloads/list").json()["Status"]["VMStatus"]
    by_name = {s["Name"]: s for s in statuses}
    assert (
        by_name[names[1]]["StateString"] == "Failed" and "dvportgroup-36" in by_name[names[1]]["ErrorMessage"]
    )
    assert by_name[ok]["StateString"] == "DataSeeding"


def test_a_plan_from_seeding_to_cutover_powers_off_the_source_and_makes_the_ahv_vm(sim):
    vm = clean_vms(sim, 2)
    plan = sim.move("POST", "/plans", json=plan_body(sim, "wave-1", [v["name"] for v in vm])).json()
    uuid = plan["MetaData"]["UUID"]
    again = sim.move("POST", "/plans", json=plan_body(sim, "wave-1", [vm[0]["name"]]))
    assert again.status_code == 409
    got = sim.move("GET", f"/plans/{uuid}").json()["MetaData"]
    assert got["StateString"] == "MigrationPlanStateUninitialized" and "START" in got["Actions"]
    prepare(sim, uuid)
    assert sim.move("POST", f"/plans/{uuid}/start", json={"Spec": {"Time": 120}}).status_code == 202
    assert sim.move("POST", f"/plans/{uuid}/start").status_code == 409
    assert sim.move("POST", f"/plans/{uuid}/prepare", json={"Spec": {}}).status_code == 409
    workload = source_vms(sim, [vm[0]["name"]])[0]["VMUuid"]
    seeding = sim.move("POST", f"/plans/{uuid}/workloads/list").json()
    assert seeding["Status"]["VMStatus"][0]["StateString"] == "DataSeeding"
    assert seeding["Status"]["VMStatus"][0]["Actions"] == []
    early = sim.move(
        "POST", f"/plans/{uuid}/workloads/{workload}/action", json={"Spec": {"Action": "cutover"}}
    )
    assert early.status_code == 409
    ready = wait_vm_state(sim, uuid, workload, "ReadyToCutover")
    assert "CUTOVER" in ready["Actions"] and ready["State"] == 5
    # The plan's own number stays 4 (InProgress) while its VMs wait for cutover.
    assert sim.move("GET", f"/plans/{uuid}").json()["MetaData"]["State"] == 4
    cut = sim.move("POST", f"/plans/{uuid}/workloads/{workload}/action", json={"spec": {"action": "cutover"}})
    assert cut.status_code == 202
    assert sim.vcenter("GET", f"/api/vcenter/vm/{vm[0]['vm']}/power").json()["state"] == "POWERED_OFF"
    done = wait_vm_state(sim, uuid, workload, "Completed")
    ext_id = done["VmConsoleLink"].split("vm/")[1].split("/proxy")[0]
    ahv = sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{ext_id}").json()["data"]
    assert ahv["name"] == vm[0]["name"] and ahv["powerState"] == "ON"
    plan_now = sim.move("GET", f"/plans/{uuid}").json()["MetaData"]
    assert plan_now["VMStateCounts"] == {"Completed": 1, "ReadyToCutover": 1}
    second = source_vms(sim, [vm[1]["name"]])[0]["VMUuid"]
    sim.move("POST", f"/plans/{uuid}/workloads/{second}/action", json={"Spec": {"Action": "cutover"}})
    wait_vm_state(sim, uuid, second, "Completed")
    final = sim.move("GET", f"/plans/{uuid}").json()["MetaData"]
    assert final["StateString"] == "MigrationPlanStateCompleted" and final["Actions"] == ["DELETE"]
    assert sim.move("DELETE", f"/plans/{uuid}").status_code == 200
    assert sim.move("GET", f"/plans/{uuid}").status_code == 404


def test_suspend_is_state_5_paused_and_resume_and_cancel(sim):
    vm = clean_vms(sim, 1)
    uuid = sim.move("POST", "/plans", json=plan_body(sim, "wave-pause", [vm[0]["name"]])).json()["MetaData"][
        "UUID"
    ]
    sim.control("POST", "move/timing", {"seeding_seconds": 30})
    prepare(sim, uuid)
    sim.move("POST", f"/plans/{uuid}/start")
    assert sim.move("POST", f"/plans/{uuid}/suspend").status_code == 200
    paused = sim.move("GET", f"/plans/{uuid}").json()["MetaData"]
    assert paused["State"] == 5 and paused["StateString"] == "MigrationPlanStatePaused"
    assert (
        paused["VMStatus"][0]["StateString"] == "Paused" and "CUTOVER" not in paused["VMStatus"][0]["Actions"]
    )
    assert sim.move("POST", f"/plans/{uuid}/resume").status_code == 200
    assert sim.move("GET", f"/plans/{uuid}").json()["MetaData"]["VMStatus"][0]["StateString"] == "DataSeeding"
    assert sim.move("DELETE", f"/plans/{uuid}").status_code == 409
    assert sim.move("POST", f"/plans/{uuid}/cancel").status_code == 200
    cancelled = sim.move("GET", f"/plans/{uuid}").json()["MetaData"]
    assert cancelled["StateString"] == "MigrationPlanStateAborted"
    assert cancelled["VMStatus"][0]["StateString"] == "Cancelled" and cancelled["Actions"] == ["DELETE"]


def test_injected_cutover_failure_and_stuck_seeding(sim):
    vm = clean_vms(sim, 2)
    sim.control("POST", "move/stick-next-seeding", {"count": 1})
    uuid = sim.move("POST", "/plans", json=plan_body(sim, "wave-trouble", [v["name"] for v in vm])).json()[
        "MetaData"
    ]["UUID"]
    prepare(sim, uuid)
    sim.move("POST", f"/plans/{uuid}/start")
    stuck, other = (source_vms(sim, [v["name"]])[0]["VMUuid"] for v in vm)
    wait_vm_state(sim, uuid, other, "ReadyToCutover")
    sim.control("POST", "clock", {"advance_seconds": 3600})
    assert wait_vm_state(sim, uuid, stuck, "DataSeeding")["Actions"] == []
    sim.control("POST", "move/fail-next-cutover", {"message": "Final sync failed"})
    sim.move("POST", f"/plans/{uuid}/workloads/{other}/action", json={"Spec": {"Action": "cutover"}})
    failed = wait_vm_state(sim, uuid, other, "Failed")
    assert failed["ErrorMessage"] == "Final sync failed" and "VmConsoleLink" not in failed
    assert sim.vcenter("GET", f"/api/vcenter/vm/{vm[1]['vm']}/power").json()["state"] == "POWERED_ON"


def test_unserved_paths_and_move_faults(sim):
    assert sim.move("POST", "/plans/x/cutover").status_code == 501
    sim.control("POST", "faults", {"path": "/move/v2/plans/list", "status": 429, "retry_after": 2})
    throttled = sim.move("POST", "/plans/list")
    assert (
        throttled.status_code == 429
        and throttled.headers["Retry-After"] == "2"
        and throttled.json()["Message"]
    )


def test_guest_preparation_takes_each_guests_credentials_and_readiness_names_the_unprepared(sim):
    vm = clean_vms(sim, 3)
    families = {v["name"]: sim.vcenter("GET", f"/api/vcenter/vm/{v['vm']}").json()["guest_OS"] for v in vm}
    uuid = sim.move("POST", "/plans", json=plan_body(sim, "wave-prep", list(families))).json()["MetaData"][
        "UUID"
    ]
    own, *others = vm
    sim.control(
        "POST", f"vcenter/vms/{own['vm']}/guest-account", {"username": "svc-move", "password": "s3cret"}
    )
    wrong = prepare(sim, uuid, {**GUEST_CREDENTIALS, "LinuxPassword": "nope", "WindowsPassword": "nope"})
    assert {f["VMName"] for f in wrong["Failed"]} == set(families) and wrong["Passed"] is None
    assert all("Guest login failed" in f["Message"] for f in wrong["Failed"])
    readiness = sim.move("POST", f"/plans/{uuid}/readiness").json()["Status"]["VMChecksResult"]["Failed"]
    assert {f["VMName"] for f in readiness if f["CheckType"] == "GuestPreparation"} == set(families)
    # Sent again with the right accounts, the per-VM one for the VM with its own: every guest passes.
    mine = {"UUID": source_vms(sim, [own["name"]])[0]["VMUuid"], "UserName": "svc-move", "Password": "s3cret"}
    right = prepare(sim, uuid, vms=[{**mine, "GuestPrepMode": "auto"}])
    assert right["Failed"] is None and {p["VMName"] for p in right["Passed"]} == set(families)
    assert sim.move("POST", f"/plans/{uuid}/readiness").json()["Status"]["VMChecksResult"]["Failed"] is None
    assert "s3cret" not in sim.move("GET", f"/plans/{uuid}").text and others


def test_inventory_pages_of_100_and_show_vms(sim):
    source = providers(sim)[0]["MetaData"]["UUID"]

    def page(**body):
        return sim.move("POST", f"/providers/{source}/workloads/list", json=body).json()

    eligible = page()
    every = page(ShowVMs="all", Limit=500)
    assert len(every["Entities"]) == 100 and every["MetaData"]["Count"] == 300
    assert eligible["MetaData"]["Count"] < 300, "NVMe VMs are not eligible and left out by default"
    assert page(ShowVMs="ineligiblevms")["MetaData"]["Count"] == 300 - eligible["MetaData"]["Count"]
    seen = []
    for offset in (0, 100, 200, 300):
        seen += [e["VMUuid"] for e in page(ShowVMs="all", SortBy="VMName", AfterOffset=offset)["Entities"]]
    assert len(seen) == len(set(seen)) == 300
    assert (
        sim.move("POST", f"/providers/{source}/workloads/list", json={"ShowVMs": "some"}).status_code == 400
    )


def test_answer_shapes_clients_have_read(sim):
    vm = clean_vms(sim, 1)
    uuid = sim.move("POST", "/plans", json=plan_body(sim, "wave-shapes", [vm[0]["name"]])).json()["MetaData"][
        "UUID"
    ]
    both = sim.move("POST", f"/plans/{uuid}/workloads/list").json()
    assert both["Status"]["VMStatus"][0] == both["Entities"][0]["MetaData"]
    sim.control("POST", "move/shapes", {"workloads": "entities", "plan": "metadata"})
    entities = sim.move("POST", f"/plans/{uuid}/workloads/list").json()
    assert "Status" not in entities and entities["Entities"][0]["MetaData"]["Name"] == vm[0]["name"]
    assert "Spec" not in sim.move("GET", f"/plans/{uuid}").json()
    sim.control("POST", "move/shapes", {"workloads": "unknown"})
    assert set(sim.move("POST", f"/plans/{uuid}/workloads/list").json()) == {"MetaData", "VMs"}

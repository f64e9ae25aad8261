"""The vCenter simulator over HTTP: sessions, the VM list's real filters, VM detail, power, guest
identity and tagging, as vSphere Automation REST (/api) answers them."""

import requests
from sim_process import PASSWORD, VCENTER_USERNAME


def vc_url(sim, path: str) -> str:
    return f"{sim.url(sim.vcenter_port)}{path}"


def test_a_session_is_a_bare_string_and_required_everywhere(sim):
    login = requests.post(vc_url(sim, "/api/session"), auth=(VCENTER_USERNAME, PASSWORD), verify=False)
    assert login.status_code == 201 and isinstance(login.json(), str)
    token = login.json()
    anonymous = requests.get(vc_url(sim, "/api/vcenter/vm"), verify=False)
    assert anonymous.status_code == 401 and anonymous.json()["error_type"] == "UNAUTHENTICATED"
    headers = {"vmware-api-session-id": token}
    me = requests.get(vc_url(sim, "/api/session"), headers=headers, verify=False).json()
    assert me["user"] == VCENTER_USERNAME
    assert requests.delete(vc_url(sim, "/api/session"), headers=headers, verify=False).status_code == 204
    assert requests.get(vc_url(sim, "/api/vcenter/vm"), headers=headers, verify=False).status_code == 401
    wrong = requests.post(vc_url(sim, "/api/session"), auth=(VCENTER_USERNAME, "nope"), verify=False)
    assert wrong.status_code == 401


def test_an_idle_session_expires(sim):
    login = requests.post(vc_url(sim, "/api/session"), auth=(VCENTER_USERNAME, PASSWORD), verify=False)
    sim.control("POST", "clock", {"advance_seconds": 1801})
    listed = requests.get(
        vc_url(sim, "/api/vcenter/vm"), headers={"vmware-api-session-id": login.json()}, verify=False
    )
    assert listed.status_code == 401


def test_filters_and_within_a_parameter_or_across(sim):
    everything = sim.vcenter("GET", "/api/vcenter/vm").json()
    assert len(everything) == 300
    assert set(everything[0]) == {"vm", "name", "power_state", "cpu_count", "memory_size_MiB"}
    on_prod = sim.vcenter(
        "GET", "/api/vcenter/vm", params={"clusters": "domain-c8", "power_states": "POWERED_ON"}
    ).json()
    assert on_prod and all(v["power_state"] == "POWERED_ON" for v in on_prod)
    assert all("-prd-" in v["name"] for v in on_prod)
    two = [everything[0]["name"], everything[5]["name"]]
    by_name = sim.vcenter("GET", "/api/vcenter/vm", params=[("names", two[0]), ("names", two[1])]).json()
    assert sorted(v["name"] for v in by_name) == sorted(two)
    # vCenter names are exact: no wildcard, no substring.
    assert sim.vcenter("GET", "/api/vcenter/vm", params={"names": two[0][:-1]}).json() == []
    legacy = sim.vcenter("GET", "/api/vcenter/vm", params={"filter.names": two[0]})
    assert legacy.status_code == 400 and legacy.json()["error_type"] == "INVALID_ARGUMENT"
    bad_state = sim.vcenter("GET", "/api/vcenter/vm", params={"power_states": "ON"})
    assert bad_state.status_code == 400


def test_folders_share_names_across_types_and_filter_by_type(sim):
    production = sim.vcenter("GET", "/api/vcenter/folder", params={"names": "Production"}).json()
    assert [f["type"] for f in production] == ["HOST", "VIRTUAL_MACHINE", "DATASTORE"]
    vm_folder = sim.vcenter(
        "GET", "/api/vcenter/folder", params={"names": "Production", "type": "VIRTUAL_MACHINE"}
    ).json()
    assert vm_folder == [{"folder": "group-v45", "name": "Production", "type": "VIRTUAL_MACHINE"}]
    by_id = sim.vcenter(
        "GET", "/api/vcenter/folder", params=[("folders", "group-v46"), ("folders", "group-h47")]
    )
    assert [f["name"] for f in by_id.json()] == ["Production", "NonProduction"]
    bad_type = sim.vcenter("GET", "/api/vcenter/folder", params={"type": "VM"})
    assert bad_type.status_code == 400 and bad_type.json()["error_type"] == "INVALID_ARGUMENT"


def test_vm_detail_identity_and_unknown_ids(sim):
    first = sim.vcenter("GET", "/api/vcenter/vm", params={"power_states": "POWERED_ON"}).json()[0]
    info = sim.vcenter("GET", f"/api/vcenter/vm/{first['vm']}").json()
    assert "vm" not in info and info["name"] == first["name"]
    assert info["identity"]["instance_uuid"].startswith("50")
    assert info["identity"]["bios_uuid"].startswith("42")
    nic = next(iter(info["nics"].values()))
    assert nic["backing"]["network"].startswith(("network-", "dvportgroup-"))
    assert next(iter(info["disks"])) == "2000"
    missing = sim.vcenter("GET", "/api/vcenter/vm/vm-1")
    assert missing.status_code == 404 and missing.json()["error_type"] == "NOT_FOUND"


def test_power_actions_answer_204_and_refuse_the_state_they_are_in(sim):
    vm = sim.vcenter("GET", "/api/vcenter/vm", params={"power_states": "POWERED_ON"}).json()[0]["vm"]
    power = f"/api/vcenter/vm/{vm}/power"
    again = sim.vcenter("POST", power, params={"action": "start"})
    assert again.status_code == 400 and again.json()["error_type"] == "ALREADY_IN_DESIRED_STATE"
    assert sim.vcenter("POST", power, params={"action": "stop"}).status_code == 204
    assert sim.vcenter("GET", power).json() == {"state": "POWERED_OFF", "clean_power_off": False}
    suspend = sim.vcenter("POST", power, params={"action": "suspend"})
    assert suspend.json()["error_type"] == "NOT_ALLOWED_IN_CURRENT_STATE"
    assert sim.vcenter("POST", power, params={"action": "start"}).status_code == 204
    assert sim.vcenter("GET", power).json() == {"state": "POWERED_ON"}


def test_guest_identity_needs_tools_running(sim):
    on = sim.vcenter("GET", "/api/vcenter/vm", params={"power_states": "POWERED_ON"}).json()
    identities = {v["vm"]: sim.vcenter("GET", f"/api/vcenter/vm/{v['vm']}/guest/identity") for v in on[:40]}
    ok = [r.json() for r in identities.values() if r.status_code == 200]
    down = [r.json() for r in identities.values() if r.status_code == 503]
    assert ok and ok[0]["family"] in ("LINUX", "WINDOWS") and ok[0]["full_name"]["default_message"]
    # Every 17th VM of the estate runs without VMware Tools.
    assert down and down[0]["error_type"] == "SERVICE_UNAVAILABLE"


def test_tags_select_vms_by_department_and_environment(sim):
    categories = sim.vcenter("GET", "/api/cis/tagging/category").json()
    names = {sim.vcenter("GET", f"/api/cis/tagging/category/{c}").json()["name"]: c for c in categories}
    assert set(names) == {"Department", "Environment"}
    tag_ids = sim.vcenter(
        "POST",
        "/api/cis/tagging/tag",
        params={"action": "list-tags-for-category"},
        json={"category_id": names["Environment"]},
    ).json()
    tags = {sim.vcenter("GET", f"/api/cis/tagging/tag/{t}").json()["name"]: t for t in tag_ids}
    assert set(tags) == {"Production", "Staging", "Test", "Development"}
    prod = sim.vcenter(
        "POST",
        f"/api/cis/tagging/tag-association/{tags['Production']}",
        params={"action": "list-attached-objects"},
    ).json()
    assert prod and {o["type"] for o in prod} == {"VirtualMachine"}
    on_tags = sim.vcenter(
        "POST",
        "/api/cis/tagging/tag-association",
        params={"action": "list-attached-objects-on-tags"},
        json={"tag_ids": [tags["Production"]]},
    ).json()
    assert on_tags == [{"tag_id": tags["Production"], "object_ids": prod}]
    vm = {"type": "VirtualMachine", "id": prod[0]["id"]}
    attached = sim.vcenter(
        "POST",
        "/api/cis/tagging/tag-association",
        params={"action": "list-attached-tags"},
        json={"object_id": vm},
    ).json()
    assert tags["Production"] in attached and len(attached) == 2
    # Environment is single-cardinality: a second Environment tag is refused until the first is detached.
    second = sim.vcenter(
        "POST",
        f"/api/cis/tagging/tag-association/{tags['Test']}",
        params={"action": "attach"},
        json={"object_id": vm},
    )
    assert second.status_code == 400
    detach = f"/api/cis/tagging/tag-association/{tags['Production']}"
    assert sim.vcenter("POST", detach, params={"action": "detach"}, json={"object_id": vm}).status_code == 204
    assert sim.control("GET", f"vcenter/vms/{vm['id']}")["tags"].get("Environment") is None


def test_unserved_operations_say_so_and_faults_apply(sim):
    assert sim.vcenter("GET", "/api/vcenter/host").status_code == 501
    sim.control("POST", "faults", {"path": "/api/vcenter/vm", "status": 503, "retry_after": 1})
    hit = sim.vcenter("GET", "/api/vcenter/vm")
    assert hit.status_code == 503 and hit.headers["Retry-After"] == "1"
    assert hit.json()["error_type"] == "SERVICE_UNAVAILABLE"
    assert sim.vcenter("GET", "/api/vcenter/vm").status_code == 200


def test_coverage_lists_the_move_and_vcenter_markers_with_what_is_served(sim):
    coverage = sim.control("GET", "coverage")
    markers = coverage["move"] + coverage["vcenter"]
    folder = next(m for m in coverage["vcenter"] if m.get("path") == "/api/vcenter/folder")
    assert folder["served"] and folder["conf"] == "L" and folder["section"] == "B2"
    prepare = next(m for m in coverage["move"] if m.get("path") == "/move/v2/plans/{uuid}/prepare")
    assert prepare["method"] == "POST" and prepare["conf"] == "C" and prepare["sources"] == ["S2", "S3"]
    behaviours = {m["behaviour"]: m["conf"] for m in markers if "behaviour" in m}
    assert behaviours["token_ttl_900s"] == "R" and behaviours["list_cap_4000"] == "C"
    # A marker left behind by a route that went away would say so here.
    assert all(m["served"] for m in markers if "method" in m)

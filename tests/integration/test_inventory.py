"""day2ops.ahv.prism_vms as Ansible runs it: ansible-inventory in a subprocess, HTTPS to the simulator.

Every expectation is computed from the simulator's own API, so the tests follow the demo estate
rather than restating it; only the golden graph pins one small, filtered corner of it.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from collection_path import collections_path
from sim_process import API_KEY, PASSWORD, USERNAME, free_port

BIN = Path(sys.executable).parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "prism_vms_graph.txt"
VMS = "/api/vmm/v4.0/ahv/config/vms"
WRONG = "hunter2-not-the-password"
HOSTVARS = {
    "ext_id",
    "vm_name",
    "cluster",
    "cluster_ext_id",
    "power_state",
    "vcpus",
    "memory_mib",
    "storage_gib",
    "categories",
    "ip_addresses",
    "ansible_host",
}


# -- running the plugin -------------------------------------------------------------------------


def inventory(
    sim,
    tmp_path,
    config: dict,
    *args: str,
    env: dict | None = None,
    connection: bool = True,
    filename: str = "test.prism_vms.yml",
):
    """`ansible-inventory -i <tmp>/<filename> *args` with the simulator's connection options."""
    settings = {"plugin": "day2ops.ahv.prism_vms"}
    if connection:
        settings.update(sim.prism_options())
    settings.update(config)
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / filename
    source.write_text(yaml.safe_dump(settings))
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NUTANIX_", "ANSIBLE_"))},
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
        "ANSIBLE_INVENTORY_ENABLED": "day2ops.ahv.prism_vms",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        # Ansible only warns about a source it could not parse and exits 0 unless told otherwise.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        **(env or {}),
    }
    return subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,  # away from the repository's ansible.cfg
        timeout=600,
    )


def unwrap(value):
    """ansible-core 2.19 `--list` marks inventory values untrusted: {"__ansible_unsafe": v}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def listing(run) -> dict:
    assert run.returncode == 0, run.stderr
    return unwrap(json.loads(run.stdout))


def hostvars(run) -> dict[str, dict]:
    return listing(run)["_meta"]["hostvars"]


def graph(run) -> dict[str, set[str]]:
    """`--graph` output as {group: hosts directly in it}."""
    assert run.returncode == 0, run.stderr
    groups: dict[str, set[str]] = {}
    stack: list[str] = []
    for line in run.stdout.splitlines():
        depth = (line.index("|--") + 1) // 3 if "|--" in line else 0
        name = line.split("|--")[-1]
        if name.startswith("@"):
            group = name[1:].rstrip(":")
            groups.setdefault(group, set())
            stack[depth:] = [group]
        else:
            groups[stack[depth - 1]].add(name)
    return groups


# -- what the API says --------------------------------------------------------------------------


def api_vms(sim, odata_filter: str | None = None) -> list[dict]:
    params = {"$limit": 100, **({"$filter": odata_filter} if odata_filter else {})}
    first = sim.api("GET", VMS, params=params).json()
    vms = list(first.get("data") or [])
    for page in range(1, -(-first["metadata"]["totalAvailableResults"] // 100)):
        vms += sim.api("GET", VMS, params={**params, "$page": page}).json()["data"]
    return vms


def category_names(sim) -> dict[str, tuple[str, str]]:
    data = sim.api("GET", "/api/prism/v4.0/config/categories", params={"$limit": 100}).json()["data"]
    return {c["extId"]: (c["key"], c["value"]) for c in data}


def cluster_names(sim) -> dict[str, str]:
    data = sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
    return {c["extId"]: c["name"] for c in data}


def categories_of(vm: dict, names: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ref in vm.get("categories") or ():
        key, value = names[ref["extId"]]
        out.setdefault(key, []).append(value)
    return out


def safe(group: str) -> str:
    """Ansible's own group-name rule: anything but letters, digits and _ becomes _."""
    return re.sub(r"[^A-Za-z0-9_]", "_", group)


def wait_task(sim, response) -> dict:
    task = response.json()["data"]["extId"]
    for _ in range(200):
        data = sim.api("GET", f"/api/prism/v4.0/config/tasks/{task}").json()["data"]
        if data["status"] in ("SUCCEEDED", "FAILED", "CANCELED"):
            assert data["status"] == "SUCCEEDED", data
            return data
        time.sleep(0.05)
    raise AssertionError(f"task {task} did not end")


def clone(sim, vm: dict, name: str) -> None:
    etag = sim.api("GET", f"{VMS}/{vm['extId']}").headers["ETag"]
    wait_task(
        sim,
        sim.api(
            "POST", f"{VMS}/{vm['extId']}/$actions/clone", json={"name": name}, headers={"If-Match": etag}
        ),
    )


# -- groups and host variables ------------------------------------------------------------------


def test_graph_groups_by_category_cluster_and_power_state(sim, tmp_path):
    found = graph(inventory(sim, tmp_path, {}, "--graph"))
    names, clusters = category_names(sim), cluster_names(sim)
    expected: dict[str, set[str]] = {}
    for vm in api_vms(sim):
        for key, values in categories_of(vm, names).items():
            for value in values:
                expected.setdefault(safe(f"{key}_{value}"), set()).add(vm["name"])
        expected.setdefault(safe(f"cluster_{clusters[vm['cluster']['extId']]}"), set()).add(vm["name"])
        expected.setdefault(f"power_state_{vm['powerState'].lower()}", set()).add(vm["name"])
    assert {"Environment_Production", "cluster_prod_ahv_01", "power_state_paused"} <= set(expected)
    # Category NAMES, never ext_ids, and nothing beyond the three default families.
    assert found == {"all": set(), "ungrouped": set(), **expected}


def test_hostvars_of_one_vm_match_the_api(sim, tmp_path):
    names, clusters = category_names(sim), cluster_names(sim)
    # The VM with the most Categories, so that the {key: [values]} shape is exercised.
    vm = max(api_vms(sim), key=lambda v: (len(v.get("categories") or ()), v["name"]))
    found = hostvars(inventory(sim, tmp_path, {"filter": f"name eq '{vm['name']}'"}, "--list"))
    assert list(found) == [vm["name"]]
    host = found[vm["name"]]
    assert set(host) == HOSTVARS  # the raw Prism object stays out
    learned = [a["value"] for n in vm["nics"] for a in n["networkInfo"]["ipv4Info"]["learnedIpAddresses"]]
    disks = sum(d["backingInfo"]["diskSizeBytes"] for d in vm["disks"])
    assert host == {
        "ext_id": vm["extId"],
        "vm_name": vm["name"],
        "cluster": clusters[vm["cluster"]["extId"]],
        "cluster_ext_id": vm["cluster"]["extId"],
        "power_state": vm["powerState"],
        "vcpus": vm["numSockets"] * vm["numCoresPerSocket"] * vm["numThreadsPerCore"],
        "memory_mib": vm["memorySizeBytes"] // 2**20,
        "storage_gib": round(disks / 2**30, 2),
        "categories": categories_of(vm, names),
        "ip_addresses": host["ip_addresses"],
        "ansible_host": learned[0],
    }
    assert host["ip_addresses"][0] == learned[0]


def test_a_vm_without_an_address_has_no_ansible_host(sim, tmp_path):
    cluster = api_vms(sim, "name eq 'hr-portal-prd-app-001'")[0]["cluster"]["extId"]  # an AOS cluster
    wait_task(sim, sim.api("POST", VMS, json={"name": "no-nic-01", "cluster": {"extId": cluster}}))
    host = hostvars(inventory(sim, tmp_path, {"filter": "name eq 'no-nic-01'"}, "--list"))["no-nic-01"]
    assert host["ip_addresses"] == [] and "ansible_host" not in host
    assert host["categories"] == {} and host["power_state"] == "OFF"


def test_keyed_groups_compose_and_groups(sim, tmp_path):
    config = {
        "filter": "startswith(name, 'fin-')",
        "compose": {
            "owner": "categories.Owner | default(['nobody']) | first",
            "ansible_user": "'cloud-user'",
        },
        "keyed_groups": [
            {"key": "categories.AppTier | default([])", "prefix": "tier"},
            # A key on a composed variable: keyed_groups see what compose made.
            {"key": "owner", "prefix": "owned_by"},
        ],
        "groups": {"big": "memory_mib >= 16384", "owned": "owner != 'nobody'"},
    }
    run = inventory(sim, tmp_path, config, "--list")
    found, hosts = listing(run), hostvars(run)
    assert hosts and all(h.startswith("fin-") for h in hosts)
    assert set(found["big"]["hosts"]) == {h for h, v in hosts.items() if v["memory_mib"] >= 16384}
    tiers = {h for h, v in hosts.items() if "Web" in v["categories"].get("AppTier", [])}
    assert tiers and set(found["tier_Web"]["hosts"]) == tiers
    for name, v in hosts.items():
        owner = (v["categories"].get("Owner") or ["nobody"])[0]
        assert v["owner"] == owner and v["ansible_user"] == "cloud-user"
        assert name in found[f"owned_by_{owner}"]["hosts"]
    assert set(found["owned"]["hosts"]) == {h for h, v in hosts.items() if v["owner"] != "nobody"}


def test_default_groups_can_be_turned_off(sim, tmp_path):
    config = {
        "filter": "startswith(name, 'hr-')",
        "group_by_categories": False,
        "group_by_cluster": False,
        "group_by_power_state": False,
    }
    found = graph(inventory(sim, tmp_path, config, "--graph"))
    hr = {vm["name"] for vm in api_vms(sim, "startswith(name, 'hr-')")}
    assert found == {"all": set(), "ungrouped": hr}


def test_a_server_side_filter_narrows_the_hosts(sim, tmp_path):
    odata = "powerState eq Vmm.Ahv.Config.PowerState'OFF' and memorySizeBytes ge 8589934592"
    expected = {vm["name"] for vm in api_vms(sim, odata)}
    everything = api_vms(sim)
    assert 0 < len(expected) < len(everything)
    assert expected == {
        vm["name"] for vm in everything if vm["powerState"] == "OFF" and vm["memorySizeBytes"] >= 8 * 2**30
    }
    assert set(hostvars(inventory(sim, tmp_path, {"filter": odata}, "--list"))) == expected


def test_a_categories_scope_keeps_only_those_vms(sim, tmp_path):
    scope = {"Environment": ["Production", "Staging"], "Department": "Finance"}
    names = category_names(sim)
    expected = set()
    for vm in api_vms(sim):
        carried = categories_of(vm, names)
        if set(carried.get("Environment", [])) & {"Production", "Staging"} and "Finance" in carried.get(
            "Department", []
        ):
            expected.add(vm["name"])
    assert expected
    assert set(hostvars(inventory(sim, tmp_path, {"categories": scope}, "--list"))) == expected


def test_strict_makes_a_bad_compose_expression_fail(sim, tmp_path):
    config = {"filter": "startswith(name, 'hr-')", "compose": {"x": "no_such_var.attr"}}
    lenient = hostvars(inventory(sim, tmp_path / "lenient", {**config, "strict": False}, "--list"))
    assert lenient and all("x" not in v for v in lenient.values())
    run = inventory(sim, tmp_path / "strict", {**config, "strict": True}, "--list")
    assert run.returncode != 0 and "no_such_var" in run.stderr


def test_graph_matches_the_golden_file(sim, tmp_path):
    """Regenerate with GOLDEN_UPDATE=1 after a deliberate change, and read the diff."""
    run = inventory(sim, tmp_path, {"filter": "startswith(name, 'hr-portal')"}, "--graph")
    assert run.returncode == 0, run.stderr
    if os.environ.get("GOLDEN_UPDATE"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(run.stdout)
    assert run.stdout == GOLDEN.read_text()


@pytest.mark.parametrize(
    "filename,read",
    [("east.prism_vms.yaml", True), ("prism_vms.yml", True), ("hosts.yml", False), ("prism_vms.json", False)],
)
def test_only_files_named_for_the_plugin_are_read(sim, tmp_path, filename, read):
    run = inventory(sim, tmp_path, {"filter": "name eq 'hr-portal-prd-app-001'"}, "--list", filename=filename)
    assert (run.returncode == 0) is read, run.stderr
    if read:
        assert list(hostvars(run)) == ["hr-portal-prd-app-001"]


# -- host names ---------------------------------------------------------------------------------


def test_shared_names_get_an_ext_id_suffix(sim, tmp_path):
    name = "hr-portal-prd-app-001"
    source = api_vms(sim, f"name eq '{name}'")[0]
    for _ in range(3):
        clone(sim, source, name)
    listed = [vm["extId"] for vm in api_vms(sim, f"name eq '{name}'")]
    twins = sorted(listed)
    # Neither the first nor the last VM Prism lists has the lowest ext_id, so list order cannot pass.
    assert len(twins) == 4 and twins[0] not in (listed[0], listed[-1])
    run = inventory(sim, tmp_path, {"filter": f"name eq '{name}'"}, "--list")
    found = {host: v["ext_id"] for host, v in hostvars(run).items()}
    assert found == {name: twins[0], **{f"{name}_{ext_id[:8]}": ext_id for ext_id in twins[1:]}}
    assert f"'{name}' is shared by 4 VMs" in " ".join(run.stderr.split())
    by_id = hostvars(
        inventory(
            sim,
            tmp_path / "ext_id",
            {"filter": "startswith(name, 'hr-portal-prd')", "hostnames": "ext_id"},
            "--list",
        )
    )
    assert set(twins) <= set(by_id) and all(host == v["ext_id"] for host, v in by_id.items())


# -- cache --------------------------------------------------------------------------------------


def test_the_cache_serves_the_second_run_without_listing_vms(sim, tmp_path):
    config = {
        "filter": "startswith(name, 'fin-')",
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 600,
    }
    first = hostvars(inventory(sim, tmp_path, config, "--list"))
    (entry,) = (tmp_path / "cache").iterdir()
    cached = json.loads(entry.read_text())
    if isinstance(cached, dict) and "__payload__" in cached:  # ansible-core 2.19's jsonfile envelope
        cached = json.loads(cached["__payload__"])
    # Only the host variables, never whole Prism objects: the cache stays small at 20,000 VMs.
    assert len(cached) == len(first) and all(set(vm) == HOSTVARS - {"ansible_host"} for vm in cached)
    sim.control("POST", "faults", {"operation": "list_vms", "count": 5, "status": 500})
    second = hostvars(inventory(sim, tmp_path, config, "--list"))
    assert second == first
    faults = sim.control("GET", "faults")
    assert faults["injected"] == 0 and faults["faults"][0]["count"] == 5  # not one list_vms call
    # --flush-cache goes to Prism, meets the fault, and says so.
    flushed = inventory(sim, tmp_path, config, "--list", "--flush-cache")
    assert flushed.returncode != 0 and "Failed to list VMs: 500" in flushed.stderr
    assert sim.control("GET", "faults")["injected"] == 1


# -- connection ---------------------------------------------------------------------------------


def test_connection_from_environment_variables(sim, tmp_path):
    env = {
        "NUTANIX_HOST": sim.host,
        "NUTANIX_PORT": str(sim.port),
        "NUTANIX_USERNAME": USERNAME,
        "NUTANIX_PASSWORD": PASSWORD,
    }
    config = {"ca_path": str(sim.cert_path), "filter": "name eq 'hr-portal-prd-app-001'"}
    found = hostvars(inventory(sim, tmp_path, config, "--list", env=env, connection=False))
    assert list(found) == ["hr-portal-prd-app-001"]


def test_api_key_authentication(sim, tmp_path):
    config = {
        "nutanix_host": sim.host,
        "nutanix_port": sim.port,
        "nutanix_api_key": API_KEY,
        "ca_path": str(sim.cert_path),
        "filter": "name eq 'hr-portal-prd-app-001'",
    }
    found = hostvars(inventory(sim, tmp_path, config, "--list", connection=False))
    assert list(found) == ["hr-portal-prd-app-001"]
    env = {"NUTANIX_API_KEY": "not-the-key"}
    del config["nutanix_api_key"]
    run = inventory(sim, tmp_path / "bad", config, "--list", env=env, connection=False)
    assert run.returncode != 0 and "Failed to list VMs: 401" in run.stderr


@pytest.mark.parametrize(
    "config,cause",
    [
        pytest.param(
            {"nutanix_password": WRONG}, r"Failed to list VMs: 401 .*nutanix_password", id="password"
        ),
        pytest.param({"filter": "name eq"}, r"Failed to list VMs: 400: \$filter: .*'eq'", id="filter"),
        pytest.param(
            {"nutanix_port": "FREE", "max_retries": 1},
            r"Failed to list VMs: cannot reach https://127\.0\.0\.1:\d+ after 2 attempts .*nutanix_port",
            id="unreachable",
        ),
        pytest.param(
            {"nutanix_username": None, "nutanix_password": None},
            r"Failed to connect to Prism Central: no credentials were given",
            id="no-credentials",
        ),
    ],
)
def test_errors_are_one_readable_line(sim, tmp_path, config, cause):
    if config.get("nutanix_port") == "FREE":
        config = {**config, "nutanix_port": free_port()}
    if "filter" in config:
        # The operator's malformed filter, refused by Prism as it should be (the session's simulator is
        # this worker's alone: no other test's expectation covers it).
        sim.expect_refusal("list_vms", "expected a value after 'eq'")
    options = {**sim.prism_options(), **config}
    run = inventory(
        sim, tmp_path, {k: v for k, v in options.items() if v is not None}, "--list", connection=False
    )
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    lines = [line for line in run.stderr.splitlines() if re.match(cause, line)]
    assert lines, run.stderr
    assert WRONG not in output


def test_missing_requests_is_a_readable_error(sim, tmp_path):
    stub = tmp_path / "no-requests" / "requests"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('No module named requests')\n")
    run = inventory(sim, tmp_path, {}, "--list", env={"PYTHONPATH": str(stub.parent)})
    assert run.returncode != 0 and "Traceback" not in run.stdout + run.stderr
    assert "Failed to import the required Python library (requests)" in run.stderr


# -- scale --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_thousand_vms_load(sim, tmp_path):
    sim.control("POST", "vms/generate", {"count": 20000 - 300})
    try:
        started = time.monotonic()
        # --graph rather than --list: the JSON dump of 20,000 hosts is Ansible's cost, not ours.
        found = graph(inventory(sim, tmp_path, {}, "--graph"))
        elapsed = time.monotonic() - started
        names = {vm["name"] for vm in api_vms(sim)}
    finally:
        sim.reset()
    hosts = set().union(*(found[g] for g in ("power_state_on", "power_state_off", "power_state_paused")))
    assert len(names) == 20000 and hosts == names
    assert elapsed < 120, elapsed

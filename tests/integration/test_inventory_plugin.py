"""The prism_vms inventory plugin as Ansible runs it: real ansible-inventory, real HTTPS to the simulator."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from collection_path import collections_path
from sim_process import API_KEY

BIN = Path(sys.executable).parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "prism_vms_graph.txt"


def inventory(sim, tmp_path, config: dict, *args: str, env: dict | None = None, connection: bool = True):
    settings = {"plugin": "day2ops.ahv.prism_vms"}
    if connection:
        settings.update(sim.prism_options())
    settings.update(config)
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "test.prism_vms.yml"
    source.write_text(yaml.safe_dump(settings))
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
        "ANSIBLE_INVENTORY_ENABLED": "day2ops.ahv.prism_vms",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        # Without it Ansible only warns about a source it could not parse and exits 0.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        **(env or {}),
    }
    return subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), *args],
        capture_output=True,
        text=True,
        env=environment,
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


def all_vms(sim) -> list[dict]:
    first = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$limit": 100}).json()
    vms = list(first["data"])
    for page in range(1, (first["metadata"]["totalAvailableResults"] + 99) // 100):
        vms += sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$limit": 100, "$page": page}).json()[
            "data"
        ]
    return vms


def category_names(sim) -> dict[str, tuple[str, str]]:
    data = sim.api("GET", "/api/prism/v4.0/config/categories", params={"$limit": 100}).json()["data"]
    return {c["extId"]: (c["key"], c["value"]) for c in data}


def test_groups_by_category_cluster_and_power_state(sim, tmp_path):
    found = listing(inventory(sim, tmp_path, {}, "--list"))
    vms = all_vms(sim)
    names = category_names(sim)
    expected: dict[str, set[str]] = {}
    for vm in vms:
        for ref in vm.get("categories") or ():
            key, value = names[ref["extId"]]
            expected.setdefault(f"{key}_{value}", set()).add(vm["name"])
    assert len(found["_meta"]["hostvars"]) == len(vms)
    for group, members in expected.items():
        assert set(found[group]["hosts"]) == members, group
    on = {vm["name"] for vm in vms if vm["powerState"] == "ON"}
    assert set(found["power_state_on"]["hosts"]) == on
    assert "cluster_prod_ahv_01" in found and "cluster_dr_ahv_01" in found


def test_hostvars_match_the_api(sim, tmp_path):
    found = listing(inventory(sim, tmp_path, {"filter": "name eq 'hr-portal-prd-app-001'"}, "--list"))
    hostvars = found["_meta"]["hostvars"]["hr-portal-prd-app-001"]
    raw = next(vm for vm in all_vms(sim) if vm["name"] == "hr-portal-prd-app-001")
    names = category_names(sim)
    assert hostvars["ext_id"] == raw["extId"]
    assert hostvars["vcpus"] == raw["numSockets"] * raw["numCoresPerSocket"] * raw["numThreadsPerCore"]
    assert hostvars["memory_mib"] == raw["memorySizeBytes"] // 2**20
    disks = sum(d["backingInfo"]["diskSizeBytes"] for d in raw["disks"])
    assert hostvars["storage_gib"] == round(disks / 2**30, 2)
    expected = {}
    for ref in raw["categories"]:
        key, value = names[ref["extId"]]
        expected.setdefault(key, []).append(value)
    assert hostvars["categories"] == expected
    assert hostvars["ansible_host"] == hostvars["ip_addresses"][0]
    assert hostvars["cluster"] == "prod-ahv-01" and hostvars["power_state"] == raw["powerState"]


def test_constructed_options_and_categories_scope(sim, tmp_path):
    config = {
        "categories": {"Department": "Finance"},
        "keyed_groups": [{"key": "categories.AppTier | default([])", "prefix": "tier"}],
        "groups": {"big": "memory_mib >= 16384"},
        "compose": {"owner": "categories.Owner | default(['nobody']) | first"},
        "group_by_categories": False,
    }
    found = listing(inventory(sim, tmp_path, config, "--list"))
    hostvars = found["_meta"]["hostvars"]
    assert hostvars and all(v["categories"]["Department"] == ["Finance"] for v in hostvars.values())
    assert "Department_Finance" not in found
    assert set(found["big"]["hosts"]) == {h for h, v in hostvars.items() if v["memory_mib"] >= 16384}
    tiers = {h for h, v in hostvars.items() if "Web" in v["categories"].get("AppTier", [])}
    assert set(found["tier_Web"]["hosts"]) == tiers
    assert all(v["owner"] == (v["categories"].get("Owner") or ["nobody"])[0] for v in hostvars.values())


def test_strict_makes_a_bad_expression_fail(sim, tmp_path):
    config = {"filter": "startswith(name, 'hr-')", "compose": {"x": "no_such_var.attr"}}
    assert inventory(sim, tmp_path / "lenient", {**config, "strict": False}, "--list").returncode == 0
    run = inventory(sim, tmp_path / "strict", {**config, "strict": True}, "--list")
    assert run.returncode != 0 and "no_such_var" in run.stderr


def test_graph_matches_the_golden_file(sim, tmp_path):
    run = inventory(sim, tmp_path, {"filter": "startswith(name, 'hr-portal')"}, "--graph")
    assert run.returncode == 0, run.stderr
    if os.environ.get("GOLDEN_UPDATE"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(run.stdout)
    assert run.stdout == GOLDEN.read_text()


def test_cache_serves_the_second_run(sim, tmp_path):
    config = {
        "filter": "startswith(name, 'fin-')",
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 600,
    }
    first = listing(inventory(sim, tmp_path, config, "--list"))
    sim.control("POST", "faults", {"operation": "list_vms", "count": 50, "status": 500})
    second = listing(inventory(sim, tmp_path, config, "--list"))
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    assert inventory(sim, tmp_path / "uncached", {"filter": config["filter"]}, "--list").returncode != 0


def test_environment_variables_and_api_key(sim, tmp_path):
    env = {
        "NUTANIX_HOST": sim.host,
        "NUTANIX_PORT": str(sim.port),
        "NUTANIX_API_KEY": API_KEY,
        "NUTANIX_CA_PATH": str(sim.cert_path),
    }
    found = listing(
        inventory(
            sim, tmp_path, {"filter": "name eq 'hr-portal-prd-app-001'"}, "--list", env=env, connection=False
        )
    )
    assert list(found["_meta"]["hostvars"]) == ["hr-portal-prd-app-001"]


def test_duplicate_names_get_a_suffix(sim, tmp_path):
    source = next(vm for vm in all_vms(sim) if vm["name"] == "hr-portal-prd-app-001")
    etag = sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{source['extId']}").headers["ETag"]
    task = sim.api(
        "POST",
        f"/api/vmm/v4.0/ahv/config/vms/{source['extId']}/$actions/clone",
        json={"name": "hr-portal-prd-app-001"},
        headers={"If-Match": etag},
    ).json()["data"]["extId"]
    for _ in range(100):
        if sim.api("GET", f"/api/prism/v4.0/config/tasks/{task}").json()["data"]["status"] == "SUCCEEDED":
            break
    run = inventory(sim, tmp_path, {"filter": "name eq 'hr-portal-prd-app-001'"}, "--list")
    hosts = sorted(listing(run)["_meta"]["hostvars"])
    assert (
        len(hosts) == 2
        and hosts[0] == "hr-portal-prd-app-001"
        and hosts[1].startswith("hr-portal-prd-app-001_")
    )
    assert "is shared" in run.stderr


@pytest.mark.parametrize(
    "case,config,words",
    [
        ("wrong password", {"nutanix_password": "wrong"}, ["401", "nutanix_username"]),
        ("bad filter", {"filter": "name eq"}, ["400"]),
        ("unreachable", {"nutanix_port": 1, "max_retries": 1}, ["cannot reach"]),
    ],
)
def test_errors_are_one_readable_line(sim, tmp_path, case, config, words):
    run = inventory(sim, tmp_path, config, "--list")
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    for word in words:
        assert word in run.stderr, run.stderr


def test_twenty_thousand_vms_load(sim, tmp_path):
    sim.control("POST", "vms/generate", {"count": 20000 - 300})
    found = listing(inventory(sim, tmp_path, {}, "--list"))
    assert len(found["_meta"]["hostvars"]) == 20000

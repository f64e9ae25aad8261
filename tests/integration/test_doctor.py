"""`day2ops doctor` and day2ops.ahv.doctor_info against the simulator process: the clean demo estate, and
each degraded mode (an older Prism Central, an API key, a permission taken away, a certificate that
cannot be verified), where the failing check must name its flow and the fix."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils._doctor import examine
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
from playbook import run_tasks
from sim_process import API_KEY, MOVE_USERNAME, PASSWORD, VCENTER_USERNAME

DAY2OPS = Path(sys.executable).parent / "day2ops"
CLEAN_SKIPS = {"role data"}  # the iam API, which day2ops does not read


def doctor(sim, **overrides) -> dict:
    options = sim.prism_options(max_retries=0, **overrides)
    return examine(PrismClient.from_options(options), options)


def by_name(report: dict) -> dict:
    return {c["name"]: c for c in report["checks"]}


def test_cli_prints_a_clean_report_against_the_demo_estate(sim):
    """The real command, as a user runs it after `make demo`, Move and vCenter included; secrets from the
    environment never appear in what it prints."""
    env = {
        "PATH": str(DAY2OPS.parent),
        "HOME": str(Path.home()),
        "NUTANIX_PASSWORD": PASSWORD,
        "MOVE_PASSWORD": PASSWORD,
        "VMWARE_PASSWORD": PASSWORD,
    }
    cert = str(sim.cert_path)
    run = subprocess.run(
        [
            *(str(DAY2OPS), "doctor", "--host", sim.host, "--port", str(sim.port), "--username", "admin"),
            *("--ca-path", cert, "--move-host", sim.host, "--move-port", str(sim.move_port)),
            *("--move-ca-path", cert, "--vcenter-host", sim.host, "--vcenter-port", str(sim.vcenter_port)),
            *("--vcenter-username", VCENTER_USERNAME, "--vcenter-ca-path", cert),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    table = list(itertools.takewhile(bool, lines[3:]))  # the check lines, up to the blank line
    statuses = {line.split()[0] for line in table if not line.startswith(" ")}
    assert statuses <= {"ok", "skip"}, run.stdout
    for check in (
        "TLS",
        "authentication",
        "clock skew",
        "vmm API version",
        "VM ETag",
        "Nutanix Move",
        "vCenter",
    ):
        assert any(line.startswith("ok") and f" {check} " in line for line in table), (check, run.stdout)
    assert "0 fail" in lines[-1] and PASSWORD not in run.stdout + run.stderr


def test_json_report_lists_versions_and_every_flow(sim):
    report = doctor(sim)
    assert report["passed"] and report["failed_checks"] == []
    assert {c["name"] for c in report["checks"] if c["status"] != "ok"} == CLEAN_SKIPS
    assert report["versions"]["vmm"] == {
        "served": "v4.3",
        "configured": "v4.0",
        "how": "by OPTIONS unversioned/info",
    }
    flows = ", ".join(c["flow"] for c in report["checks"])
    for flow in (
        "inventory",
        "chargeback",
        "safe patch",
        "DR",
        "DR drill",
        "templates",
        "migration",
        "catalog",
    ):
        assert flow in flows
    assert "2 AHV clusters" in by_name(report)["clusters for DR"]["detail"]


def test_task_id_form_is_reported_once_a_task_exists(sim):
    vm = f"/api/vmm/v4.0/ahv/config/vms/{sim.vm('hr-portal-tst-app-071')['extId']}"
    etag = sim.api("GET", vm).headers["ETag"]
    started = sim.api("POST", f"{vm}/$actions/power-off", headers={"If-Match": etag})
    sim.wait_task(started.json()["data"]["extId"])
    assert "ZXJnb24=:<uuid> (base64 of 'ergon'" in by_name(doctor(sim))["tasks"]["detail"]


def test_an_older_prism_central_passes_with_the_v4_0_defaults(sim):
    sim.control("POST", "versions", {ns: "v4.0" for ns in ("vmm", "prism", "clustermgmt", "dataprotection")})
    report = doctor(sim)
    assert report["passed"], report["checks"]
    assert {ns: v["served"] for ns, v in report["versions"].items()} == dict.fromkeys(
        report["versions"], "v4.0"
    )


def test_a_version_newer_than_served_fails_with_the_api_versions_fix(sim):
    sim.control("POST", "versions", {"vmm": "v4.0"})
    report = doctor(sim, api_versions={"vmm": "v4.1"})
    checks = by_name(report)
    assert report["failed_checks"] == ["vmm API version"]
    assert "serves up to v4.0" in checks["vmm API version"]["detail"]
    assert "api_versions: {vmm: v4.0}" in checks["vmm API version"]["fix"]
    assert checks["list VMs"]["status"] == checks["templates"]["status"] == "skip"
    assert checks["recovery points"]["status"] == "ok"  # other namespaces are still checked


def test_api_key_authentication(sim):
    checks = by_name(doctor(sim, nutanix_username=None, nutanix_password=None, nutanix_api_key=API_KEY))
    assert checks["authentication"] == {
        "name": "authentication",
        "flow": "all flows",
        "status": "ok",
        "detail": "API key (X-ntnx-api-key)",
        "fix": None,
    }
    wrong = doctor(sim, nutanix_username=None, nutanix_password=None, nutanix_api_key="not-the-key")
    assert wrong["failed_checks"] == ["authentication"] and len(wrong["checks"]) == 2
    assert "nutanix_api_key" in by_name(wrong)["authentication"]["fix"]
    assert "not-the-key" not in json.dumps(wrong)


def test_a_missing_permission_fails_its_check_naming_the_flow_and_the_fix(sim):
    sim.control("POST", "permissions", {"deny": ["list_recovery_points"]})
    report = doctor(sim)
    failed = by_name(report)["recovery points"]
    assert report["failed_checks"] == ["recovery points"]
    assert failed["status"] == "fail" and "DR drill" in failed["flow"] and "403" in failed["detail"]
    assert "role" in failed["fix"] and "list_recovery_points" in failed["fix"]


def test_denying_the_vm_list_skips_what_needs_a_vm(sim):
    sim.control("POST", "permissions", {"deny": ["list_vms"]})
    checks = by_name(doctor(sim))
    assert checks["list VMs"]["status"] == "fail" and "list_vms" in checks["list VMs"]["fix"]
    assert checks["VM ETag"]["status"] == "skip" and checks["clusters for DR"]["status"] == "ok"


def test_sim_permissions_control_refuses_unknown_operations_and_reset_lifts_denials(sim):
    assert sim.control("POST", "permissions", {"deny": ["list_clusters"]}) == {"denied": ["list_clusters"]}
    assert sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").status_code == 403
    assert sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").status_code == 403  # never runs out
    refused = sim.session.post(f"{sim.base_url}/_sim/permissions", json={"deny": ["list_vm"]}, verify=False)
    assert refused.status_code == 400 and "list_vm" in refused.json()["detail"]
    sim.reset()
    assert sim.control("GET", "permissions") == {"denied": []}
    assert sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").status_code == 200
    sim.control("POST", "permissions", {"deny": ["list_clusters"]})
    assert sim.control("DELETE", "permissions") == {"denied": []}


@pytest.mark.parametrize("ca_path", [None, certifi.where()], ids=["no CA", "wrong CA"])
def test_a_certificate_that_cannot_be_verified_fails_tls_with_the_fix(sim, ca_path):
    report = doctor(sim, ca_path=ca_path)
    assert report["failed_checks"] == ["TLS"] and len(report["checks"]) == 1
    tls = report["checks"][0]
    assert "could not be verified" in tls["detail"]
    assert (
        "NUTANIX_CA_PATH" in tls["fix"] and f"openssl s_client -connect {sim.host}:{sim.port}" in tls["fix"]
    )


def test_validate_certs_off_is_a_warning(sim):
    report = doctor(sim, ca_path=None, validate_certs=False)
    assert report["passed"] and by_name(report)["TLS"]["status"] == "warn"


def test_move_and_vcenter_failures_are_reported_for_the_migration_flow(sim):
    options = sim.prism_options(max_retries=0)
    report = examine(
        PrismClient.from_options(options),
        options,
        {
            **{"move_host": sim.host, "move_port": sim.move_port, "move_username": MOVE_USERNAME},
            **{"move_password": "wrong", "ca_path": str(sim.cert_path)},
        },
        {
            **{"vcenter_host": sim.host, "vcenter_port": sim.vcenter_port},
            **{"vcenter_username": VCENTER_USERNAME, "vcenter_password": PASSWORD, "ca_path": None},
        },
    )
    checks = by_name(report)
    assert report["failed_checks"] == ["Nutanix Move", "vCenter"]
    assert checks["Nutanix Move"]["flow"] == "migration" and "move_password" in checks["Nutanix Move"]["fix"]
    assert "VMWARE_CA_PATH" in checks["vCenter"]["fix"]


def test_module_fails_on_a_failed_check_and_reports_it_either_way(sim, tmp_path):
    sim.control("POST", "permissions", {"deny": ["list_templates"]})
    run = run_tasks(
        sim,
        tmp_path,
        [{"day2ops.ahv.doctor_info": {}}, {"day2ops.ahv.doctor_info": {"fail_on_failed_checks": False}}],
        ignore_errors=True,
    )
    failing, reporting = run.results
    assert failing["failed"] and "1 check(s) failed: templates" in failing["msg"]
    assert not reporting.get("failed") and reporting["failed_checks"] == ["templates"]
    assert reporting["changed"] is False and reporting["versions"]["vmm"]["served"] == "v4.3"


def test_module_checks_move_and_vcenter_from_their_environment(sim, tmp_path):
    run = run_tasks(sim, tmp_path, [{"day2ops.ahv.doctor_info": {"move": {}, "vcenter": {}}}])
    assert run.rc == 0, run.output
    checks = by_name(run.results[0])
    assert checks["Nutanix Move"]["status"] == checks["vCenter"]["status"] == "ok"
    assert PASSWORD not in run.output

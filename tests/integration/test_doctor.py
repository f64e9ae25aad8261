"""`day2ops doctor` and day2ops.ahv.doctor_info against the simulator process: the clean demo estate, and
each degraded mode (an older Prism Central, an API key, a permission taken away, a certificate that
cannot be verified, a Move plan API answer in no known shape), where the failing check must name its
flow and the fix."""

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
from test_sim_move import plan_body

DAY2OPS = Path(sys.executable).parent / "day2ops"
CLEAN_SKIPS = {"role data"}  # the iam API, which day2ops does not read
MIGRATION_CHECKS = (
    "Nutanix Move login",
    "Nutanix Move inventory",
    "Nutanix Move plan API",
    "vCenter login",
    "vCenter inventory",
)
# Every call that would change Move or vCenter: the simulator fails it, and counts it as injected.
MUTATIONS = [
    *(("DELETE", "/move/v2/*"), ("PUT", "/move/v2/*"), ("PATCH", "/move/v2/*")),
    *(("POST", "/move/v2/providers"), ("POST", "/move/v2/plans"), ("POST", "/move/v2/token/revoke")),
    *(("POST", f"/move/v2/plans/*/{verb}") for verb in ("prepare", "start", "suspend", "resume", "cancel")),
    *(("POST", "/move/v2/plans/*/abort"), ("POST", "/move/v2/plans/*/workloads/*/action")),
    *(("DELETE", "/api/*"), ("PUT", "/api/*"), ("PATCH", "/api/*"), ("POST", "/api/vcenter/*")),
    ("POST", "/api/cis/tagging/tag-association*"),
]


def doctor(sim, **overrides) -> dict:
    options = sim.prism_options(max_retries=0, **overrides)
    return examine(PrismClient.from_options(options), options)


def migration_options(sim, move_password=PASSWORD, vcenter_ca=True) -> tuple[dict, dict]:
    """The doctor's Move and vCenter options for the simulator (the CLI's and the module's names)."""
    move = {
        **{"move_host": sim.host, "move_port": sim.move_port, "move_username": MOVE_USERNAME},
        **{"move_password": move_password, "ca_path": str(sim.cert_path)},
    }
    vcenter = {
        **{"vcenter_host": sim.host, "vcenter_port": sim.vcenter_port, "vcenter_username": VCENTER_USERNAME},
        **{"vcenter_password": PASSWORD, "ca_path": str(sim.cert_path) if vcenter_ca else None},
    }
    return move, vcenter


def migration_doctor(sim, **options) -> dict:
    """The report's Move and vCenter checks, by name."""
    prism = sim.prism_options(max_retries=0)
    report = examine(PrismClient.from_options(prism), prism, *migration_options(sim, **options))
    return {name: check for name, check in by_name(report).items() if check["flow"] == "migration"}


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
    for check in ("TLS", "authentication", "clock skew", "vmm API version", "VM ETag", *MIGRATION_CHECKS):
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
    checks = migration_doctor(sim, move_password="wrong", vcenter_ca=False)
    assert [c["status"] for c in checks.values()] == ["fail", "skip", "skip", "fail", "skip"], checks
    assert "move_password" in checks["Nutanix Move login"]["fix"]
    assert checks["Nutanix Move plan API"]["detail"] == "not tried: Nutanix Move login failed"
    assert "VMWARE_CA_PATH" in checks["vCenter login"]["fix"]


def test_move_and_vcenter_checks_count_the_demo_estate(sim):
    """Move's source inventory read to its end in pages of 100, the plan API with no plans, and vCenter's
    inventory with the VM-folder lookup."""
    checks = migration_doctor(sim)
    assert list(checks) == list(MIGRATION_CHECKS)
    assert {c["status"] for c in checks.values()} == {"ok"}, checks
    assert "Move 5.2.0 at" in checks["Nutanix Move login"]["detail"]
    assert checks["Nutanix Move inventory"]["detail"] == (
        "'vcenter-east': NumDiscoveredWorkloads 300, MetaData.Count 300, 300 VMs in 3 pages of 100"
    )
    assert checks["Nutanix Move plan API"]["detail"] == "POST plans/list answers; no plans to read"
    assert f"session for '{VCENTER_USERNAME}'" in checks["vCenter login"]["detail"]
    inventory = checks["vCenter inventory"]["detail"]
    assert inventory.startswith("2 clusters (esx-prod-01, esx-dev-01), ") and inventory.endswith(", 300 VMs")
    assert " tag categories, " in inventory and " VM folders" in inventory


def create_plan(sim, name: str) -> str:
    """A plan of one source VM, created and never started: the doctor only reads it."""
    vm = sim.vcenter("GET", "/api/vcenter/vm").json()[0]["name"]
    created = sim.move("POST", "/plans", json=plan_body(sim, name, [vm]))
    assert created.status_code == 201, created.text
    return created.json()["MetaData"]["UUID"]


def move_plans(sim) -> list[dict]:
    return sim.move("POST", "/plans/list", json={}).json()["Entities"]


@pytest.mark.parametrize(
    "plan, workloads, found",
    [
        ("full", "both", "MetaData, Spec, Status; workloads/list with Status.VMStatus and Entities"),
        ("metadata", "status", "MetaData, Status; workloads/list with Status.VMStatus"),
        ("metadata", "entities", "MetaData, Status; workloads/list with Entities"),
    ],
)
def test_the_plan_api_check_reports_the_shapes_move_answers_in(sim, plan, workloads, found):
    create_plan(sim, "doctor-shapes")
    sim.control("POST", "move/shapes", {"plan": plan, "workloads": workloads})
    plan_api = migration_doctor(sim)["Nutanix Move plan API"]
    assert plan_api["status"] == "ok", plan_api
    assert plan_api["detail"] == f"plans/list: 1; plan 'doctor-shapes': GET answers with {found} (VMs: 1)"


def test_an_unknown_workload_shape_fails_the_plan_api_check_naming_the_keys(sim):
    """A Move release answering plans/{uuid}/workloads/list in no shape day2ops reads fails before a wave
    relies on it; and the doctor changes nothing in Move or vCenter meanwhile."""
    uuid = create_plan(sim, "doctor-unknown-shape")
    sim.control("POST", "move/shapes", {"workloads": "unknown"})
    for method, path in MUTATIONS:
        sim.control("POST", "faults", {"method": method, "path": path, "count": 100, "status": 418})
    before = move_plans(sim), sim.control("GET", "move")["plans"]
    checks = migration_doctor(sim)
    plan_api = checks["Nutanix Move plan API"]
    assert plan_api["status"] == "fail" and plan_api["flow"] == "migration"
    assert plan_api["detail"].startswith(
        "read the VMs of Move plan 'doctor-unknown-shape': Move answered in a shape day2ops does not know "
        "(keys ['MetaData', 'VMs']; MetaData keys ['Count'])"
    )
    assert "appinfo" in plan_api["fix"]
    assert [n for n, c in checks.items() if c["status"] != "ok"] == ["Nutanix Move plan API"]
    assert sim.control("GET", "faults")["injected"] == 0  # no call that changes anything was sent
    assert (move_plans(sim), sim.control("GET", "move")["plans"]) == before
    assert move_plans(sim)[0]["MetaData"]["UUID"] == uuid


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
    assert [checks[name]["status"] for name in MIGRATION_CHECKS] == ["ok"] * len(MIGRATION_CHECKS)
    assert PASSWORD not in run.output

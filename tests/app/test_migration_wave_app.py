"""The shipped migration_wave item through the app: the wave's named approver decides at the gate
before the first cutover, and the per-VM audit trail names the operator and that approver."""

import json
import time

import yaml
from app_process import start_app
from safe_patch_lab import lab_host_vars
from test_gates import open_gate

HERE = __import__("pathlib").Path(__file__).resolve().parents[1] / "integration"
VMS = ["fin-fileshare-tst-003", "eng-build-tst-005"]


def test_the_named_approver_opens_the_cutover_and_the_trail_names_both(sim, sshd, tmp_path):
    waves = tmp_path / "waves.yml"
    waves.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "waves": [
                    {
                        "name": "app-wave",
                        "source_provider": "vcenter-east",
                        "target_provider": "pc-01",
                        "target_cluster": "prod-ahv-01",
                        "network_mappings": [
                            {"source": s, "target": "vlan0-prod-ahv-01"}
                            for s in ("VM Network", "dvpg-app-101", "dvpg-db-102")
                        ],
                        "approvers": ["alex"],
                        # The app passes these variables of its environment (the demo's) as secrets.
                        "guest_credentials": {
                            "linux": {"username": "root", "password_env": "MIGRATION_GUEST_LINUX_PASSWORD"},
                            "windows": {
                                "username": "Administrator",
                                "password_env": "MIGRATION_GUEST_WINDOWS_PASSWORD",
                            },
                        },
                        "groups": [
                            {"name": "db", "vms": VMS[:1]},
                            {"name": "app", "vms": VMS[1:], "depends_on": ["db"]},
                        ],
                    }
                ],
            }
        )
    )
    site = tmp_path / "site.yml"
    site.write_text(
        yaml.safe_dump(
            {
                "migration_wave_file": str(waves),
                "migration_wave_poll_seconds": 1,
                "migration_wave_reconfigure_tasks": str(HERE / "waves" / "reconfigure.yml"),
                "migration_wave_host_vars": lab_host_vars(sshd),
                "reconfigure_marker_dir": str(tmp_path),
            }
        )
    )
    app = start_app(sim, tmp_path / "app", f"sqlite:///{tmp_path / 'audit.db'}", site_vars_file=site)
    try:
        olivia, alex = app.client("olivia"), app.client("alex")
        assert (
            olivia.post("/api/runs", {"item_id": "migration_wave", "inputs": {"wave": "no wave"}}).status_code
            == 422
        )
        execution = olivia.run("migration_wave", wave="app-wave")
        try:
            gate = open_gate(alex, execution["id"], timeout=180)
        except AssertionError as failed:
            raise AssertionError(olivia.get(f"/api/runs/{execution['id']}/events").text[-4000:]) from failed
        assert gate["name"] == "cutover app-wave" and gate["reviewers"] == ["alex"]
        assert gate["details"]["ready"] == VMS and gate["details"]["operator"] == "olivia"
        # Nothing is cut over while the gate waits: both sources still run in vCenter.
        time.sleep(2)
        for name in VMS:
            assert (
                sim.vcenter("GET", "/api/vcenter/vm", params={"names": name}).json()[0]["power_state"]
                == "POWERED_ON"
            )
        assert alex.post(
            f"/api/approvals/{gate['id']}/decision", {"decision": "approve", "comment": "CHG-7"}
        ).ok
        done = olivia.wait(execution["id"], timeout=300)
        assert done["status"] == "successful", olivia.get(f"/api/runs/{execution['id']}/events").text[-3000:]
        journal = tmp_path / "app" / "data" / "state" / "migration" / "app-wave.jsonl"
        lines = [json.loads(line) for line in journal.read_text().splitlines()]
        migrated = {line["vm_name"]: line for line in lines if line["event"] == "migrated"}
        assert sorted(migrated) == sorted(VMS)
        for line in migrated.values():
            assert (line["operator"], line["approver"], line["run_id"]) == ("olivia", "alex", execution["id"])
            assert (
                sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{line['ahv_ext_id']}").json()["data"][
                    "powerState"
                ]
                == "ON"
            )
        assert migrated[VMS[0]]["time"] < next(
            line["time"] for line in lines if line["event"] == "cutover_started" and line["vm_name"] == VMS[1]
        )
        record = olivia.get(f"/api/runs/{execution['id']}/evidence").json()
        (approval,) = record["approvals"]
        assert approval["status"] == "approved" and approval["decisions"][0]["reviewer"] == "alex"
        cutovers = [e for e in record["evidence"] if e["action"] == "day2ops.ahv.move_cutover"]
        assert {m for e in cutovers for m in e["vm_ext_ids"]} == {
            line["ahv_ext_id"] for line in migrated.values()
        }
    finally:
        app.stop()

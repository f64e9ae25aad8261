"""A safe_patch lab: the prism_vms inventory over a Prism (the simulator), every VM reached through one
loopback sshd whose package manager and reboot are stand-ins that change the simulated guest.

The integration tests drive it. (`make demo-patch` runs the same item through the demo's app instead:
day2ops_cli.demo_patch.)
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collection_path import ansible_env
from day2ops_sim.guest_standin import write_standins
from day2ops_sim.sshd import Sshd
from sim_process import PASSWORD, USERNAME, nutanix_env

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Three powered-on VMs of the demo estate: hr-wiki-tst-app-036, hr-portal-tst-app-071, hr-portal-tst-app-141.
SCOPE = {"Department": "HR", "AppTier": "App", "Environment": "Test"}


@dataclass
class Prism:
    host: str
    port: int
    ca_path: Path

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def options(self) -> dict:
        return {
            "nutanix_host": self.host,
            "nutanix_port": self.port,
            "nutanix_username": USERNAME,
            "nutanix_password": PASSWORD,
            "ca_path": str(self.ca_path),
        }


def lab_host_vars(sshd: Sshd) -> dict:
    """Every VM is reached through the one loopback sshd, with this Python."""
    return {**sshd.host_vars(), "ansible_python_interpreter": str(BIN / "python")}


def lab_variables(prism: Prism, workdir: Path) -> dict:
    """The role's variables for the lab: stand-ins for the package manager and reboot, the simulator's
    guest health URL as the probe, a journal in the work directory."""
    workdir.mkdir(parents=True, exist_ok=True)
    standins = write_standins(workdir / "standin", prism.base_url, prism.ca_path)
    return {
        "safe_patch_become": False,
        "safe_patch_serial": 3,
        "safe_patch_retention": "1d",
        "safe_patch_standins": str(standins),
        # The stand-ins learn which simulated VM they run in from DAY2OPS_SIM_VM.
        "safe_patch_environment": {
            "PATH": "{{ safe_patch_standins }}:/usr/bin:/bin",
            "DAY2OPS_SIM_VM": "{{ ext_id }}",
        },
        "safe_patch_reboot_required_checks": {"apt": str(standins / "reboot-required")},
        "safe_patch_reboot_command": f"{standins}/reboot {{{{ ext_id }}}}",
        "safe_patch_boot_time_command": f"{standins}/boot-id {{{{ ext_id }}}}",
        "safe_patch_probe_url": f"{prism.base_url}/_sim/guests/{{{{ ext_id }}}}/health",
        "safe_patch_probe_validate_certs": False,
        "safe_patch_probe_retries": 2,
        "safe_patch_probe_delay": 1,
        "safe_patch_journal": str(workdir / "journal.jsonl"),
    }


def safe_patch(
    prism: Prism, sshd: Sshd, workdir: Path, categories=None, extra=None, webhook_url="", wait=True
):
    """ansible-playbook playbooks/safe_patch.yml; (rc, output), or the running process when not waiting."""
    variables = {**lab_variables(prism, workdir), **(extra or {})}
    inventory = {
        "plugin": "day2ops.ahv.prism_vms",
        **prism.options(),
        "categories": categories or SCOPE,
        "filter": "powerState eq Vmm.Ahv.Config.PowerState'ON'",
        "compose": {k: repr(v) for k, v in lab_host_vars(sshd).items()},
    }
    (workdir / "lab.prism_vms.yml").write_text(yaml.safe_dump(inventory))
    (workdir / "vars.json").write_text(json.dumps(variables))
    env = ansible_env(
        workdir,
        {
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
            "ANSIBLE_CALLBACKS_ENABLED": "day2ops.ahv.safe_patch_summary",
            **nutanix_env(prism.options()),
            "DAY2OPS_WEBHOOK_URL": webhook_url,
        },
    )
    command = [
        str(BIN / "ansible-playbook"),
        "-i",
        str(workdir / "lab.prism_vms.yml"),
        str(REPO / "playbooks" / "safe_patch.yml"),
        "-e",
        f"@{workdir / 'vars.json'}",
    ]
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    if not wait:
        return process
    output, _ = process.communicate(timeout=600)
    return process.returncode, output

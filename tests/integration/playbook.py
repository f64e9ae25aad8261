"""Run a list of tasks as a real `ansible-playbook` against the simulator and read back every result."""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from collection_path import ansible_env
from sim_process import SimProcess, nutanix_env

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    rc: int
    output: str
    results: list[dict]

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.results if r.get("failed")]


def servicenow_env(sim: SimProcess) -> dict:
    """ServiceNow's SN_* variables: the simulator serves its Table API too."""
    return {
        "SN_HOST": sim.base_url,
        "SN_USERNAME": "admin",
        "SN_PASSWORD": "Nutanix.123",
        "SN_CA_PATH": str(sim.cert_path),
    }


def sim_env(sim: SimProcess) -> dict:
    """Prism Central from NUTANIX_* (as a playbook without module_defaults reads it), ServiceNow,
    and vCenter and Move from VMWARE_* and MOVE_*."""
    return {**nutanix_env(sim.prism_options()), **servicenow_env(sim), **sim.migration_env()}


def connection(sim: SimProcess, **overrides) -> dict:
    """The module_defaults of the day2ops.ahv.prism group for this simulator."""
    return sim.prism_options(**overrides)


def run_tasks(
    sim: SimProcess,
    tmp_path: Path,
    tasks: list[dict],
    *,
    defaults: dict | None = None,
    env: dict | None = None,
    args: tuple[str, ...] = (),
    ignore_errors: bool = False,
) -> Run:
    """Each task's result is registered as r<i> and written out at the end, failures included."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    names = []
    body = []
    for i, task in enumerate(tasks):
        task = dict(task)
        name = task.setdefault("register", f"r{i}")
        names.append(name)
        if ignore_errors:
            task["ignore_errors"] = True
        body.append(task)
    out = tmp_path / "results.json"
    dump = "{{ [" + ", ".join(f"{n} | default({{}})" for n in names) + "] | to_json }}"
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/day2ops.ahv.prism": connection(sim) if defaults is None else defaults},
        "tasks": [
            {
                "block": body,
                "always": [
                    {"ansible.builtin.copy": {"content": dump, "dest": str(out)}, "check_mode": False}
                ],
            },
        ],
    }
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    environment = ansible_env(tmp_path, {**servicenow_env(sim), **sim.migration_env(), **(env or {})})
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    results = json.loads(out.read_text()) if out.exists() else []
    return Run(proc.returncode, proc.stdout + proc.stderr, results)


def module_examples(module: str) -> list[dict]:
    """The EXAMPLES of a module, as tasks, read from its source as ansible-doc reads them."""
    source = (Path(__file__).resolve().parents[2] / "plugins" / "modules" / f"{module}.py").read_text()
    namespace: dict = {}
    start = source.index('EXAMPLES = r"""')
    end = source.index('"""', start + len('EXAMPLES = r"""'))
    exec(source[start : end + 3], namespace)  # only the string assignment, not the module
    return yaml.safe_load(namespace["EXAMPLES"])


def run_playbook(
    sim: SimProcess, tmp_path: Path, playbook: str, extra_vars: dict, env: dict | None = None
) -> Run:
    """`ansible-playbook playbooks/<playbook>` with the simulator as Prism (NUTANIX_* variables)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
    environment = ansible_env(tmp_path, {**sim_env(sim), **(env or {})})
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            str(REPO / "playbooks" / playbook),
            "-e",
            f"@{tmp_path / 'vars.json'}",
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=600,
    )
    return Run(proc.returncode, proc.stdout + proc.stderr, [])

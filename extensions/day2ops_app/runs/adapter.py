"""ansible-runner behind one typed call: `start_run(request, listener) -> RunHandle`."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner
import yaml

from day2ops_app import private
from day2ops_app.audit.redact import MASK
from day2ops_app.runs.processes import kill_run
from day2ops_app.runs.unsafe import UnsafeDumper, untemplated

WRAPPER = Path(sys.executable).parent / "day2ops-ansible-playbook"
# runner's `binary` option would switch it to raw mode (no playbook argument, no structured events), so
# the wrapper takes ansible-playbook's name on a PATH of its own instead.
RUNNER_STATUS = {"successful": "successful", "failed": "failed", "canceled": "canceled", "timeout": "failed"}


@dataclass
class RunRequest:
    execution_id: str
    item_id: str
    private_dir: Path
    playbook: Path
    project_dir: Path
    # From the form, the catalog and the schedule: data only, handed to Ansible as unsafe (never templated).
    extra_vars: dict
    env: dict[str, str]
    secret_env: dict[str, str] = field(default_factory=dict)
    # The secret inputs again, by their variable name, for engines that keep them encrypted as variables
    # (AWX password survey answers); the local runner hands them over in secret_env only.
    secret_vars: dict[str, str] = field(default_factory=dict)
    inventory: dict | None = None
    # The site's own extra vars (DAY2OPS_SITE_VARS_FILE), written by whoever runs the app: they may hold
    # Jinja, as any vars file of the site's playbooks may.
    site_vars: dict = field(default_factory=dict)


@dataclass
class RunListener:
    # Both take an optional reason for the record: where the run started (a remote worker node), why it
    # ended when ansible-playbook's exit status cannot say (a node that cannot be reached).
    on_start: Callable[..., None]
    on_event: Callable[[dict], bool]
    on_finish: Callable[..., None]
    should_cancel: Callable[[], bool]
    # For engines that hold approval steps of their own (AWX workflow approval nodes): opens the app's gate
    # of that spec (or finds the one opened already) and returns its status, so the app decides.
    gate: Callable[[dict], str] | None = None


@dataclass
class RunHandle:
    execution_id: str
    thread: threading.Thread
    cancel_requested: threading.Event

    def cancel(self) -> None:
        self.cancel_requested.set()

    def wait(self, timeout: float | None = None) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()


def write_inventory(request: RunRequest) -> Path | None:
    """The run's generated prism_vms inventory in its private data dir, if it has one."""
    if request.inventory is None:
        return None
    path = request.private_dir / "inventory" / "scope.prism_vms.yml"
    private.replace(path, yaml.safe_dump(request.inventory, sort_keys=False))
    return path


def write_extravars(request: RunRequest) -> Path:
    """The run's extra vars in `env/extravars` of its private data dir, where ansible-runner (local, or a
    worker after transmit) passes them as `-e @file`. Every string a user could have given is tagged
    `!unsafe`, so Ansible keeps it as text: `{{ lookup('pipe', ...) }}` in a form stays those characters."""
    path = request.private_dir / "env" / "extravars"
    document = {**request.site_vars, **untemplated(request.extra_vars)}
    private.replace(path, yaml.dump(document, Dumper=UnsafeDumper, sort_keys=False, allow_unicode=True))
    return path


def _masked_environment(secret_values: set[str]) -> dict[str, str]:
    """runner copies the app's own environment into the run (and into artifacts/command): mask any
    variable holding a secret, such as the app's DAY2OPS_PRISM_PASSWORD."""
    return {key: MASK for key, value in os.environ.items() if value and value in secret_values}


def _wrapper_dir(runs_dir: Path) -> Path:
    directory = runs_dir / ".bin"
    link = directory / "ansible-playbook"
    if not link.is_symlink():
        directory.mkdir(parents=True, exist_ok=True)
        link.symlink_to(WRAPPER)
    return directory


def start_run(request: RunRequest, listener: RunListener) -> RunHandle:
    request.private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    wrapper_dir = _wrapper_dir(request.private_dir.parent)
    inventory_path = write_inventory(request)
    inventory = str(inventory_path) if inventory_path else None
    write_extravars(request)
    secrets_file = request.private_dir.parent / f".{request.execution_id}.secrets"
    private.replace(secrets_file, json.dumps(request.secret_env))
    env = {
        **_masked_environment(set(request.secret_env.values())),
        **request.env,
        "PATH": f"{wrapper_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAY2OPS_SECRETS_FILE": str(secrets_file),
    }
    cancel_requested = threading.Event()

    def status_handler(data, runner_config=None):
        if data.get("status") == "running":
            listener.on_start()

    ended = threading.Event()

    def finished(runner):
        secrets_file.unlink(missing_ok=True)  # the wrapper deletes it; not if the run never started
        ended.set()
        listener.on_finish(RUNNER_STATUS.get(runner.status, "failed"), runner.rc)

    def cancel() -> bool:
        if cancel_requested.is_set() or listener.should_cancel():
            kill_run(request.execution_id)
            return True
        return False

    thread, _runner = ansible_runner.run_async(
        private_data_dir=str(request.private_dir),
        project_dir=str(request.project_dir),
        playbook=str(request.playbook),
        inventory=inventory,
        envvars=env,
        ident=request.execution_id,
        quiet=True,
        suppress_output_file=True,
        event_handler=listener.on_event,
        status_handler=status_handler,
        finished_callback=finished,
        cancel_callback=cancel,
    )

    def supervise():
        # If runner's own thread dies of an exception, its finished_callback never comes: the run
        # must still end in the record, not stay "running" for ever.
        thread.join()
        if not ended.is_set():
            secrets_file.unlink(missing_ok=True)
            listener.on_finish("failed", None)

    supervisor = threading.Thread(target=supervise, name=f"run-{request.execution_id}", daemon=True)
    supervisor.start()
    return RunHandle(request.execution_id, supervisor, cancel_requested)

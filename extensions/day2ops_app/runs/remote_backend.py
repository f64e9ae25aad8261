"""run_backend `remote`: the playbook runs on an execution node, through ansible-runner's own streaming.

`ansible-runner transmit` here writes the run (its kwargs and a zip of the private data dir) into the stdin
of `ssh node ansible-runner worker`; the worker runs it and streams runner's statuses, events and artifacts
back on stdout; `ansible-runner process` here reads them into the same RunListener as a local run, so the
audit store cannot tell where a playbook ran, except for the node named in the run's transitions.

The private data dir carries the catalog's playbooks; the collection is installed on the node, as in an
execution environment (docs/deploy/remote-workers.md).
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import ansible_runner

from day2ops_app.audit.redact import Redactor
from day2ops_app.runs.adapter import (
    RUNNER_STATUS,
    RunHandle,
    RunListener,
    RunRequest,
    write_extravars,
    write_inventory,
)
from day2ops_app.runs.remote_commands import kill_command, run_command, secrets_line
from day2ops_app.runs.remote_nodes import Node, NodePool, nodes_from
from day2ops_app.settings import Settings

log = logging.getLogger("day2ops.runs.remote")

# Paths on the app's disk mean nothing on a node: there, its own collections path and state dir apply.
APP_ONLY_ENV = ("ANSIBLE_COLLECTIONS_PATH", "DAY2OPS_STATE_DIR")
ENDED = frozenset({"successful", "failed", "canceled", "timeout"})
CANCEL_GRACE_SECONDS = 15


@dataclass(frozen=True)
class Remote:
    pool: NodePool
    ssh_key: Path
    known_hosts: Path
    runner: str

    def ssh(self, node: Node, command: str) -> list[str]:
        return node.ssh(self.ssh_key, self.known_hosts, command)


@functools.cache
def _pool(nodes: tuple[Node, ...]) -> NodePool:
    # One pool per configuration for the life of the app, so that busy counts span runs.
    return NodePool(nodes)


def remote_starter(settings: Settings):
    nodes = nodes_from(settings.remote_workers, settings.remote_ssh_key, settings.remote_known_hosts)
    remote = Remote(
        _pool(nodes), settings.remote_ssh_key, settings.remote_known_hosts, settings.remote_runner
    )
    return functools.partial(start_remote_run, remote)


def start_remote_run(remote: Remote, request: RunRequest, listener: RunListener) -> RunHandle:
    node = remote.pool.acquire()
    cancel_requested = threading.Event()

    def drive():
        try:
            status, rc, reason = _run_on(remote, node, request, listener, cancel_requested)
        except Exception as exc:  # the run must end in the record whatever broke here
            log.exception("remote run %s on %s", request.execution_id, node)
            status, rc, reason = "failed", None, f"worker node {node}: {exc}"
        finally:
            remote.pool.release(node)
        listener.on_finish(status, rc, reason)

    thread = threading.Thread(target=drive, name=f"run-{request.execution_id}", daemon=True)
    thread.start()
    return RunHandle(request.execution_id, thread, cancel_requested)


def _stage(request: RunRequest) -> tuple[Path, Path | None]:
    """The private data dir that travels: the catalog's playbook directory as runner's project, the
    generated inventory, and the extra vars (env/extravars, user values unsafe). The project dir of a
    local run may be the whole repository; only the playbooks go."""
    request.private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    relative = request.playbook.relative_to(request.project_dir)
    shutil.copytree(
        request.project_dir / relative.parts[0],
        request.private_dir / "project" / relative.parts[0],
        ignore=shutil.ignore_patterns("__pycache__"),
        dirs_exist_ok=True,
    )
    write_extravars(request)
    return request.private_dir / "project" / relative, write_inventory(request)


@dataclass
class _WorkerStatus:
    """What the node's statuses said: whether its worker started, and its own explanation of an end."""

    node: Node
    listener: RunListener
    reached: bool = False
    explanation: str = ""

    def __call__(self, data: dict, runner_config=None) -> None:
        # `starting` comes from the worker; an `error` may be the processor's own, on an empty stream.
        self.reached = self.reached or data.get("status") == "starting"
        self.explanation = data.get("job_explanation") or self.explanation
        if data.get("status") == "running":
            self.listener.on_start(f"on worker node {self.node}")


def _run_on(
    remote: Remote, node: Node, request: RunRequest, listener: RunListener, cancel_requested: threading.Event
) -> tuple[str, int | None, str]:
    playbook, inventory = _stage(request)
    worker = _WorkerStatus(node, listener)
    with tempfile.TemporaryFile() as ssh_errors:
        ssh = subprocess.Popen(
            remote.ssh(node, run_command(remote.runner)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=ssh_errors,
        )
        ended = threading.Event()
        canceled = threading.Event()
        watcher = threading.Thread(
            target=_watch_cancel,
            args=(remote, node, request.execution_id, ssh, listener, cancel_requested, ended, canceled),
            daemon=True,
        )
        watcher.start()
        try:
            _transmit(ssh, request, playbook, inventory)
            processor = ansible_runner.run(
                streamer="process",
                _input=ssh.stdout,
                private_data_dir=str(request.private_dir),
                ident=request.execution_id,
                quiet=True,
                event_handler=listener.on_event,
                status_handler=worker,
            )
            ssh_rc = ssh.wait()
        finally:
            ended.set()
            if ssh.poll() is None:
                ssh.kill()
                ssh.wait()
        complaint = _complaint(request, ssh_errors)
    return _outcome(request, worker, processor.status, ssh_rc, canceled.is_set(), complaint)


def _complaint(request: RunRequest, ssh_errors) -> str:
    """The end of what ssh said on stderr, on one line. It goes into the record: no secret of the run may
    ride along."""
    ssh_errors.seek(0)
    said = Redactor(list(request.secret_env.values())).text(ssh_errors.read().decode(errors="replace"))
    return " ".join(said.split())[-500:]


def _outcome(
    request: RunRequest,
    worker: _WorkerStatus,
    runner_status: str,
    ssh_rc: int,
    canceled: bool,
    complaint: str,
) -> tuple[str, int | None, str]:
    """(status, rc, reason) of the run, from runner's status, ssh's exit and what the worker said."""
    node = worker.node
    rc = _rc(request)
    if canceled:
        # A run that ended well before the kill took hold stays successful: the service decides.
        status = RUNNER_STATUS[runner_status] if runner_status in ENDED else "failed"
        return status, rc, f"canceled on worker node {node}"
    if runner_status in ENDED:
        return RUNNER_STATUS[runner_status], rc, f"ansible-playbook exited with {rc} on worker node {node}"
    if ssh_rc == 255 and not worker.reached:
        return "failed", None, f"worker node {node} is unreachable over SSH: {complaint or 'no message'}"
    why = worker.explanation or "no explanation"
    return "failed", rc, f"worker node {node} ended the run early ({why}); ssh: {ssh_rc} {complaint}".strip()


def _transmit(ssh: subprocess.Popen, request: RunRequest, playbook: Path, inventory: Path | None) -> None:
    env = {k: v for k, v in request.env.items() if k not in APP_ONLY_ENV}
    try:
        ssh.stdin.write(secrets_line(request.secret_env))
        ansible_runner.run(
            streamer="transmit",
            _output=ssh.stdin,
            private_data_dir=str(request.private_dir),
            playbook=str(playbook),
            inventory=str(inventory) if inventory else None,
            envvars=env,
            ident=request.execution_id,
            quiet=True,
            suppress_output_file=True,
        )
        ssh.stdin.close()
    except OSError:
        # The node hung up before taking the whole run: its stream, read next, and ssh's exit say why.
        log.info("worker for %s closed its input early", request.execution_id)


def _watch_cancel(
    remote: Remote,
    node: Node,
    execution_id: str,
    ssh: subprocess.Popen,
    listener: RunListener,
    cancel_requested: threading.Event,
    ended: threading.Event,
    canceled: threading.Event,
) -> None:
    """A cancel kills the run's processes on the node (the worker then ends its stream as for any failed
    run); a node that does not answer within the grace has its stream closed under it."""
    while not ended.wait(0.5):
        if cancel_requested.is_set() or listener.should_cancel():
            canceled.set()
            try:
                subprocess.run(
                    remote.ssh(node, kill_command(execution_id)), capture_output=True, timeout=30, check=False
                )
            except subprocess.TimeoutExpired:
                log.warning("kill of run %s on %s timed out", execution_id, node)
            if not ended.wait(CANCEL_GRACE_SECONDS):
                ssh.terminate()
            return


def _rc(request: RunRequest) -> int | None:
    """ansible-playbook's exit status, from the artifacts the worker streamed back."""
    path = request.private_dir / "artifacts" / request.execution_id / "rc"
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None

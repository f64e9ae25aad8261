"""run_backend `remote`: the app sends runs to execution nodes over SSH through ansible-runner's streaming
(transmit here, `ansible-runner worker` on the node, process here). The node is a real sshd on loopback
whose login gives it an environment of its own: its PATH, its collections path, its temporary directory
and a mark no other process has, so a test can tell where a playbook really ran."""

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from app_process import TEST_CATALOG, start_app
from day2ops_app.runs.processes import run_processes
from day2ops_app.settings import REPO, Settings
from pydantic import ValidationError
from sim_process import PASSWORD, free_port

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
MARK = "worker-b"


@dataclass
class Worker:
    node: str
    key: Path
    known_hosts: Path
    tmp: Path
    sshd_log: Path

    def settings(self, workers: str | None = None) -> dict:
        return {
            "run_backend": "remote",
            "remote_workers": workers or self.node,
            "remote_ssh_key": self.key,
            "remote_known_hosts": self.known_hosts,
        }

    def sessions(self) -> int:
        return self.sshd_log.read_text().count("Accepted publickey")


@pytest.fixture(scope="module")
def worker(sshd, tmp_path_factory) -> Worker:
    home = tmp_path_factory.mktemp("worker")
    # The collection installed in the node's own collections path, as `ansible-galaxy collection install`
    # would put it; the app sends only the catalog's playbooks.
    installed = home / "collections" / "ansible_collections" / "day2ops" / "ahv"
    installed.parent.mkdir(parents=True)
    installed.symlink_to(REPO, target_is_directory=True)
    (home / "tmp").mkdir()
    login = home / "login.sh"
    login.write_text(
        "#!/bin/sh\n"
        f'export PATH="{VENV_BIN}:$PATH" ANSIBLE_COLLECTIONS_PATH="{home / "collections"}"\n'
        f'export TMPDIR="{home / "tmp"}" ANSIBLE_HOME="{home / "ansible-home"}" DAY2OPS_NODE_MARK={MARK}\n'
        'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n'
    )
    login.chmod(0o755)
    workdir = sshd.key.parent
    authorized = workdir / "authorized_keys"
    authorized.write_text(f'restrict,command="{login}" {(workdir / "client_key.pub").read_text()}')
    known_hosts = home / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {(workdir / 'host_key.pub').read_text()}")
    return Worker(f"{sshd.user}@127.0.0.1:{sshd.port}", sshd.key, known_hosts, home / "tmp", sshd.log)


@pytest.fixture(scope="module")
def remote_app(sim_process, worker, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("remote-app")
    app = start_app(
        sim_process, workdir, f"sqlite:///{workdir / 'audit.db'}", **TEST_CATALOG, **worker.settings()
    )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def local_app(sim_process, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("local-app")
    app = start_app(sim_process, workdir, f"sqlite:///{workdir / 'audit.db'}", **TEST_CATALOG)
    yield app
    app.stop()


def shape(client, execution_id: str) -> list[tuple]:
    return [(e["event"], e["host"], e["task"]) for e in client.get(f"/api/runs/{execution_id}/events").json()]


def transitions(client, execution_id: str) -> list[dict]:
    return client.get(f"/api/runs/{execution_id}/evidence").json()["transitions"]


def runner_command(app, execution_id: str) -> dict:
    """What runner recorded of the playbook's command line and environment, in the run's artifacts."""
    path = Path(app.env["DAY2OPS_DATA_DIR"]) / "runs" / execution_id / "artifacts" / execution_id / "command"
    return json.loads(path.read_text())


def files_holding(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_a_remote_run_records_what_a_local_run_records(sim, local_app, remote_app, worker):
    sessions = worker.sessions()
    local, remote = local_app.client("olivia"), remote_app.client("olivia")

    here = local.run("noop", message="the same run")
    assert local.wait(here["id"])["status"] == "successful"
    assert worker.sessions() == sessions  # a local run never touches the node
    there = remote.run("noop", message="the same run")
    assert remote.wait(there["id"])["status"] == "successful"
    assert worker.sessions() == sessions + 1

    expected = shape(local, here["id"])
    assert [e for e, _, _ in expected] == [
        "playbook_on_start",
        "playbook_on_play_start",
        "playbook_on_task_start",
        "runner_on_start",
        "runner_on_ok",
        "playbook_on_stats",
    ]
    assert shape(remote, there["id"]) == expected
    said = [e["stdout"] for e in remote.get(f"/api/runs/{there['id']}/events").json()]
    assert any("the same run" in s for s in said)

    # The playbook ran under the node's environment, in the node's temporary directory, not the app's.
    command = runner_command(remote_app, there["id"])
    assert command["env"]["DAY2OPS_NODE_MARK"] == MARK and command["cwd"].startswith(str(worker.tmp))
    assert "DAY2OPS_NODE_MARK" not in runner_command(local_app, here["id"])["env"]
    assert not list(worker.tmp.iterdir())  # the node's run directory is gone with the run

    record = transitions(remote, there["id"])
    assert [t["to_status"] for t in record] == ["queued", "running", "successful"]
    assert record[1]["reason"] == f"on worker node {worker.node}"
    assert record[2]["reason"] == f"ansible-playbook exited with 0 on worker node {worker.node}"
    assert remote_app.client("ada").get("/api/audit/verify").json()["ok"]


def test_a_remote_run_reaches_prism_and_the_app_with_secrets_kept_off_disk(sim, remote_app, worker):
    """The gated item needs the collection on the node, the Prism password and the run's own token in
    ansible-playbook's environment there, and the app's approval API: all of it, or the VM stays on."""
    sam, alex = remote_app.client("sam"), remote_app.client("alex")
    vm = next(
        c["value"]
        for c in sam.get("/api/catalog/gated/choices/vm").json()
        if sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{c['value']}").json()["data"]["powerState"] == "ON"
    )
    execution = sam.run("gated", vm=vm)
    deadline = time.monotonic() + 120
    while not (
        gates := [
            g
            for g in alex.get("/api/approvals", params={"mine": "false"}).json()
            if g["execution_id"] == execution["id"]
        ]
    ):
        assert time.monotonic() < deadline, sam.get(f"/api/runs/{execution['id']}").json()
        time.sleep(0.5)
    assert alex.post(f"/api/approvals/{gates[0]['id']}/decision", {"decision": "approve"}).ok
    assert sam.wait(execution["id"])["status"] == "successful"
    assert sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{vm}").json()["data"]["powerState"] == "OFF"

    assert "NUTANIX_PASSWORD" not in runner_command(remote_app, execution["id"])["env"]
    assert files_holding(Path(remote_app.env["DAY2OPS_DATA_DIR"]), PASSWORD) == []
    assert not list(worker.tmp.iterdir())


def test_a_remote_run_keeps_its_inputs_as_data(sim, remote_app, worker, tmp_path):
    """Issue 18: the extra vars travel to the node in the run's env/extravars, tagged !unsafe there too."""
    marker = tmp_path / "ran-on-the-node"
    olivia = remote_app.client("olivia")
    value = f"{{{{ lookup('pipe', 'touch {marker}') }}}}"
    execution = olivia.run("noop", message=value)
    assert olivia.wait(execution["id"])["status"] == "successful", remote_app.log()
    said = [e["stdout"] for e in olivia.get(f"/api/runs/{execution['id']}/events").json()]
    assert any(value in s for s in said), said
    assert not marker.exists()


def _running(execution_id: str, command: list[str]) -> bool:
    """Whether the run has `command` running; a short-lived process may end between being listed and read."""
    for process in run_processes(execution_id):
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.cmdline() == command:
                return True
    return False


def test_cancel_a_remote_run_kills_it_on_the_node(sim, remote_app, worker):
    olivia = remote_app.client("olivia")
    execution = olivia.run("slow", seconds=93)
    deadline = time.monotonic() + 60
    while not _running(execution["id"], ["sleep", "93"]):
        assert time.monotonic() < deadline, olivia.get(f"/api/runs/{execution['id']}").json()
        time.sleep(0.3)
    assert olivia.post(f"/api/runs/{execution['id']}/cancel").status_code == 202
    assert olivia.wait(execution["id"], timeout=60)["status"] == "canceled"
    assert run_processes(execution["id"]) == []  # the node's ansible-playbook and its sleep are gone
    assert transitions(olivia, execution["id"])[-1]["reason"] == f"canceled on worker node {worker.node}"


def test_nodes_take_runs_in_turn_and_one_that_cannot_be_reached_fails_its_run(sim, worker, tmp_path):
    closed = f"{worker.node.split('@')[0]}@127.0.0.1:{free_port()}"
    # Same server under another name: its host key is not in known_hosts, so the node must be refused.
    unknown = worker.node.replace("127.0.0.1", "localhost")
    app = start_app(
        sim,
        tmp_path,
        f"sqlite:///{tmp_path / 'audit.db'}",
        **TEST_CATALOG,
        **worker.settings(f"{closed},{unknown},{worker.node}"),
    )
    try:
        olivia = app.client("olivia")
        runs = [olivia.run("noop", message=f"run {n}")["id"] for n in range(3)]
        done = [olivia.wait(r) for r in runs]
        assert [d["status"] for d in done] == ["failed", "failed", "successful"]
        refused = transitions(olivia, runs[0])[-1]["reason"]
        assert refused.startswith(f"worker node {closed} is unreachable over SSH: ") and "refused" in refused
        untrusted = transitions(olivia, runs[1])[-1]["reason"]
        assert untrusted.startswith(f"worker node {unknown} is unreachable over SSH: ")
        assert "Host key verification failed" in untrusted
        assert transitions(olivia, runs[2])[1]["reason"] == f"on worker node {worker.node}"
        assert shape(olivia, runs[0]) == [] and shape(olivia, runs[1]) == []
    finally:
        app.stop()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"remote_workers": ""}, "DAY2OPS_REMOTE_WORKERS is empty"),
        ({"remote_workers": "node1:22"}, "DAY2OPS_REMOTE_WORKERS: 'node1:22' is not a node"),
        ({"remote_workers": "a@node1:22", "remote_ssh_key": "/nonexistent"}, "DAY2OPS_REMOTE_SSH_KEY"),
    ],
)
def test_remote_settings_that_cannot_work_are_refused_at_start(settings, named, tmp_path):
    with pytest.raises(ValidationError, match=named):
        Settings(run_backend="remote", remote_known_hosts=tmp_path, **settings)

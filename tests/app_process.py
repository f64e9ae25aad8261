"""The self-service app as a real process (`day2ops serve`), its users, and an HTTP client per user."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import requests
import yaml
from day2ops_app.db.tables import User
from day2ops_app.services.users import add_user
from day2ops_cli.demo import simulator_settings
from day2ops_cli.main import open_store
from http_wait import wait_for_http
from sim_process import SimProcess, free_port
from sqlalchemy import select

BIN = Path(sys.executable).parent
# Demo users: every role, and the approver groups the shipped catalog names.
USERS = {
    "olivia": (["operator"], []),
    "alex": (["approver"], ["change-approvers", "dr-approvers"]),
    "sam": (["approver", "operator"], ["change-approvers"]),
    "ada": (["admin"], []),
}
USER_PASSWORD = "correct-horse-battery"


@dataclass
class AppProcess:
    port: int
    env: dict
    workdir: Path
    process: subprocess.Popen | None = None
    log_files: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "AppProcess":
        log = self.workdir / f"app-{self.port}-{len(self.log_files)}.log"
        self.log_files.append(log)
        self.process = subprocess.Popen(
            [str(BIN / "day2ops"), "serve", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_http(f"{self.url}/healthz", self.process, 60, "the app did not start")
        except AssertionError:
            raise AssertionError(self.log()) from None
        return self

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.log_files if p.exists())

    def kill(self) -> None:
        """SIGKILL the app and every run it started: a crash, not a shutdown."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "day2ops"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def client(self, username: str) -> "Client":
        return Client.login(self.url, username, USER_PASSWORD)

    def token_client(self, username: str) -> "Client":
        token = self.cli("token", "create", username).stdout.strip()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        return Client(self.url, session)


@dataclass
class Client:
    url: str
    session: requests.Session

    @classmethod
    def login(cls, url: str, username: str, password: str) -> "Client":
        session = requests.Session()
        r = session.post(
            f"{url}/api/auth/login", json={"username": username, "password": password}, timeout=30
        )
        r.raise_for_status()
        session.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return cls(url, session)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.url}{path}", timeout=60, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.session.post(f"{self.url}{path}", json=json, timeout=60, **kwargs)

    def patch(self, path: str, json=None) -> requests.Response:
        return self.session.patch(f"{self.url}{path}", json=json, timeout=60)

    def run(self, item_id: str, **inputs) -> dict:
        r = self.post("/api/runs", {"item_id": item_id, "inputs": inputs})
        assert r.status_code == 202, r.text
        return r.json()

    def wait(
        self, execution_id: str, statuses=("successful", "failed", "canceled", "interrupted"), timeout=300
    ):
        deadline = time.monotonic() + timeout
        while True:
            execution = self.get(f"/api/runs/{execution_id}").json()
            if execution["status"] in statuses:
                return execution
            assert time.monotonic() < deadline, execution
            time.sleep(0.3)


def app_env(sim: SimProcess, workdir: Path, db_url: str, **settings) -> dict:
    env = {
        **os.environ,
        "DAY2OPS_DB_URL": db_url,
        "DAY2OPS_DATA_DIR": str(workdir / "data"),
        "DAY2OPS_SCHEDULER_SECONDS": "0.5",
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        # Prism Central, vCenter and Move as the demo configures them.
        **simulator_settings(sim.host, sim.port, sim.vcenter_port, sim.move_port, str(sim.cert_path)),
    }
    env.update({f"DAY2OPS_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def start_app(sim: SimProcess, workdir: Path, db_url: str, users: bool = True, **settings) -> AppProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # A test may name another base_url (an https one, to see Secure cookies); runs then cannot call back.
    settings = {"base_url": f"http://127.0.0.1:{port}", **settings}
    app = AppProcess(port, app_env(sim, workdir, db_url, **settings), workdir)
    if users:
        add_users(app.env)
    return app.start()


def add_users(env: dict) -> None:
    """USERS, added to the store `env` names as `day2ops user add` adds each (test_api runs that command),
    in this process: four of its processes cost 5 s of CPU per app started, most of what the app and
    security suites spent on 2 cores. Those already there (an app started again on its store) stay."""
    with mock.patch.dict(os.environ, env, clear=True):
        db = open_store()
    try:
        with db.session() as session:
            present = set(session.scalars(select(User.username).where(User.username.in_(USERS))))
            for name, (roles, groups) in USERS.items():
                if name not in present:
                    add_user(session, name, USER_PASSWORD, roles, groups)
    finally:
        db.dispose()


TEST_CATALOG = {
    "catalog_dir": Path(__file__).resolve().parent / "app" / "catalog",
    "playbook_dir": Path(__file__).resolve().parent / "app" / "playbooks",
}


def start_patch_lab_app(sim: SimProcess, sshd, workdir: Path, **settings) -> AppProcess:
    """The app set up to run the shipped safe_patch item for real: the lab's stand-ins and probe as site
    vars, every VM reached through the loopback sshd."""
    from safe_patch_lab import Prism, lab_host_vars, lab_variables

    workdir.mkdir(parents=True, exist_ok=True)
    site = workdir / "site.yml"
    site.write_text(yaml.safe_dump(lab_variables(Prism(sim.host, sim.port, sim.cert_path), workdir / "lab")))
    hosts = workdir / "hosts.yml"
    hosts.write_text(yaml.safe_dump(lab_host_vars(sshd)))
    return start_app(
        sim,
        workdir,
        f"sqlite:///{workdir / 'audit.db'}",
        site_vars_file=site,
        inventory_vars_file=hosts,
        **settings,
    )

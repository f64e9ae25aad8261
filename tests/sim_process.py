"""Start the simulator as a real process on a free loopback port, for tests and benchmarks."""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3
from day2ops_sim.ports import free_port

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

# Each simulator's conformance record lands here when it stops; conftest prints the run's table.
CONFORMANCE_DIR = Path(__file__).resolve().parents[1] / "build" / "conformance"
USERNAME = "admin"
PASSWORD = "Nutanix.123"
API_KEY = "day2ops-demo-api-key"
VCENTER_USERNAME = "administrator@vsphere.local"
MOVE_USERNAME = "nutanix"


def nutanix_env(options: dict) -> dict:
    """The collection's connection options as the NUTANIX_* variables its modules fall back to."""
    return {
        "NUTANIX_HOST": options["nutanix_host"],
        "NUTANIX_PORT": str(options["nutanix_port"]),
        "NUTANIX_USERNAME": options["nutanix_username"],
        "NUTANIX_PASSWORD": options["nutanix_password"],
        "NUTANIX_CA_PATH": options["ca_path"],
    }


@dataclass
class SimProcess:
    """A running `day2ops sim` and a requests session for its control API."""

    port: int
    tls: bool
    process: subprocess.Popen
    log_path: Path
    vcenter_port: int
    move_port: int
    session: requests.Session = field(default_factory=requests.Session)
    # (operation, words in the problem): refusals a test provokes on purpose with bad user input.
    expected_refusals: list[tuple[str, str]] = field(default_factory=list)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def cert_path(self) -> Path:
        """The simulator's self-signed certificate, usable as a CA bundle (`ca_path`)."""
        return self.log_path.parent / "sim-cert.pem"

    def prism_options(self, **overrides) -> dict:
        """The collection's connection options for this simulator, verified by its own certificate."""
        options = {
            "nutanix_host": self.host,
            "nutanix_port": self.port,
            "nutanix_username": USERNAME,
            "nutanix_password": PASSWORD,
            "ca_path": str(self.cert_path),
        }
        options.update(overrides)
        return {k: v for k, v in options.items() if v is not None}

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, port: int) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    def migration_env(self) -> dict:
        """The VMWARE_* and MOVE_* variables the vCenter and Move modules fall back to, and the guest
        passwords the examples and the demo's wave file name (the simulator's guests take its password)."""
        return {
            "VMWARE_HOST": self.host,
            "VMWARE_PORT": str(self.vcenter_port),
            "VMWARE_USER": VCENTER_USERNAME,
            "VMWARE_PASSWORD": PASSWORD,
            "VMWARE_CA_PATH": str(self.cert_path),
            "MOVE_HOST": self.host,
            "MOVE_PORT": str(self.move_port),
            "MOVE_USERNAME": MOVE_USERNAME,
            "MOVE_PASSWORD": PASSWORD,
            "MOVE_CA_PATH": str(self.cert_path),
            "MIGRATION_GUEST_LINUX_PASSWORD": PASSWORD,
            "MIGRATION_GUEST_WINDOWS_PASSWORD": PASSWORD,
        }

    def vcenter(self, method: str, path: str, **kwargs) -> requests.Response:
        """A vCenter REST call with a fresh session (kwargs as for requests)."""
        login = self.session.post(
            f"{self.url(self.vcenter_port)}/api/session", auth=(VCENTER_USERNAME, PASSWORD), verify=False
        )
        login.raise_for_status()
        url = f"{self.url(self.vcenter_port)}{path}"
        return self._authorized(method, url, {"vmware-api-session-id": login.json()}, kwargs)

    def move(self, method: str, path: str, **kwargs) -> requests.Response:
        """A Move v2 call with a fresh token (kwargs as for requests)."""
        login = self.session.post(
            f"{self.url(self.move_port)}/move/v2/users/login",
            json={"Spec": {"UserName": MOVE_USERNAME, "Password": PASSWORD}},
            verify=False,
        )
        login.raise_for_status()
        url = f"{self.url(self.move_port)}/move/v2{path}"
        return self._authorized(
            method, url, {"Authorization": "Bearer " + login.json()["Status"]["Token"]}, kwargs
        )

    def _authorized(self, method: str, url: str, auth: dict, kwargs: dict) -> requests.Response:
        headers = {**auth, **kwargs.pop("headers", {})}
        return self.session.request(method, url, headers=headers, verify=False, timeout=60, **kwargs)

    def control(self, method: str, path: str, json=None) -> dict:
        r = self.session.request(
            method, f"{self.base_url}/_sim/{path.lstrip('/')}", json=json, verify=False, timeout=120
        )
        r.raise_for_status()
        return r.json()

    def reset(self, **spec) -> dict:
        return self.control("POST", "reset", spec or None)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("auth", (USERNAME, PASSWORD))
        kwargs.setdefault("verify", False)
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.base_url}{path}", **kwargs)

    def wait_task(self, task_ext_id: str, timeout: float = 30) -> dict:
        """Poll a Prism task until it ends; its final wire form."""
        from urllib.parse import quote

        deadline = time.monotonic() + timeout
        while True:
            task = self.api("GET", f"/api/prism/v4.0/config/tasks/{quote(task_ext_id, safe='')}").json()[
                "data"
            ]
            if task["status"] in ("SUCCEEDED", "FAILED", "CANCELED"):
                return task
            assert time.monotonic() < deadline, task
            time.sleep(0.05)

    def vm(self, name: str) -> dict:
        """One VM by name, as the API lists it."""
        listed = self.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": f"name eq '{name}'"})
        return listed.json()["data"][0]

    def estate(self) -> tuple[list[dict], dict[str, tuple[str, str]]]:
        """Every VM as the API lists it (the 300 of the demo estate), and Category ext_id -> (key, value)."""
        categories = self.api("GET", "/api/prism/v4.0/config/categories", params={"$limit": 100}).json()[
            "data"
        ]
        vms = []
        for page in range(3):
            listed = self.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$limit": 100, "$page": page})
            vms += listed.json()["data"]
        return vms, {c["extId"]: (c["key"], c["value"]) for c in categories}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def expect_refusal(self, operation: str, words: str) -> None:
        """A test passes the collection bad input on purpose (a malformed user $filter): Prism's 400
        for it is the point, not a request day2ops composed wrongly."""
        self.expected_refusals.append((operation, words))

    def _unexpected(self, refused: list[dict]) -> list[dict]:
        return [
            r
            for r in refused
            if r["client"] == "day2ops"
            and not any(
                r["operation"] == op and words in " ".join(r["problems"])
                for op, words in self.expected_refusals
            )
        ]

    def conformance(self) -> dict:
        """What the simulator recorded: requests per client, operation and version, and those refused."""
        return self.control("GET", "conformance")

    def stop(self) -> None:
        """Stop the process; first keep its conformance record, and fail if day2ops sent a request the
        SDK model of its operation and version would not produce."""
        report = None
        if self.process.poll() is None:
            # A simulator that no longer answers has already failed its tests.
            with contextlib.suppress(requests.RequestException):
                report = self.conformance()
        self._terminate()
        if report is not None:
            CONFORMANCE_DIR.mkdir(parents=True, exist_ok=True)
            (CONFORMANCE_DIR / f"{os.getpid()}-{self.port}.json").write_text(json.dumps(report))
            refused = self._unexpected(report["refused"])
            assert not refused, "non-conforming requests from day2ops:\n" + json.dumps(refused, indent=1)

    def _terminate(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_sim(
    *,
    tls: bool = True,
    vm_count: int = 300,
    seed: int = 1,
    task_seconds: float = 0.3,
    extra: list[str] | None = None,
) -> SimProcess:
    port, vcenter_port, move_port = free_port(), free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="day2ops-sim-"))
    log_path = workdir / "sim.log"
    cmd = [
        sys.executable,
        "-m",
        "day2ops_cli.main",
        "sim",
        "--port",
        str(port),
        "--control",
        "--cert-dir",
        str(workdir),
        "--vm-count",
        str(vm_count),
        "--seed",
        str(seed),
        "--task-seconds",
        str(task_seconds),
        "--log-level",
        "warning",
        "--vcenter-port",
        str(vcenter_port),
        "--move-port",
        str(move_port),
        *(extra or []),
    ]
    if not tls:
        cmd.append("--http")
    log = log_path.open("w")
    process = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    sim = SimProcess(port, tls, process, log_path, vcenter_port, move_port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited with {process.returncode}:\n{sim.log()}")
        try:
            sim.control("GET", "state")
            return sim
        except requests.RequestException:
            time.sleep(0.1)
    sim._terminate()
    raise RuntimeError(f"simulator did not answer within 60 s:\n{sim.log()}")

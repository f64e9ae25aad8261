"""`day2ops demo` as a real process, on free ports, in a directory of its own: what `make demo` starts.

    demo = start_demo(tmp_path)                 # returns once the app answers
    demo.url                                    # the app, http://127.0.0.1:<port> (the UI at /ui/)
    demo.users                                  # {"olivia": password, "alex": ..., "ada": ...}
    demo.user("olivia")                         # an AppUser logged in (get, post, approve, wait)
    demo.sim                                    # Simulator: .url (https://127.0.0.1:<port>), .ca_path,
                                                #   .vm(name), .guests(), .guest(ext_id, levers)
    demo.output()                               # what the demo printed so far
    demo.stop()                                 # Ctrl-C (SIGINT to the demo); its exit code

`start_demo(tmp_path, trace=path)` runs it under `strace -f --seccomp-bpf -e trace=connect`, every
connect() of the demo and of everything it starts (simulator, sshd, ansible-playbook runs) written to
`path`; `connected_addresses` reads such a trace.
"""

import ipaddress
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from day2ops_cli.demo import DEMO_USERS
from day2ops_cli.demo_patch import AppUser, Simulator
from http_wait import wait_for_http
from sim_process import free_port

BIN = Path(sys.executable).parent
INET = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"')


@dataclass
class DemoProcess:
    url: str
    sim: Simulator
    process: subprocess.Popen
    log: Path
    traced: bool

    @property
    def users(self) -> dict[str, str]:
        return {name: password for name, password, _, _ in DEMO_USERS}

    def user(self, name: str) -> AppUser:
        return AppUser.login(self.url, name)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _demo_pid(self) -> int:
        """The demo itself: strace's first child when traced."""
        if not self.traced:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return int(children[0])

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user would; everything it started is killed if it does not stop in time."""
        if self.process.poll() is None:
            os.kill(self._demo_pid(), signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        return self.process.returncode


def start_demo(workdir: Path, trace: Path | None = None, vm_count: int = 300) -> DemoProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    app_port, sim_port = free_port(), free_port()
    command = [
        *(str(BIN / "day2ops"), "demo", "--port", str(app_port), "--sim-port", str(sim_port)),
        *("--vcenter-port", str(free_port()), "--move-port", str(free_port()), "--vm-count", str(vm_count)),
        *("--guest-ssh-port", str(free_port()), "--guest-http-port", str(free_port())),
        *("--dir", str(workdir / "demo")),
    ]
    if trace is not None:
        # --seccomp-bpf: the traced processes stop only at a connect(), not at every system call, which
        # made the demo and its playbooks under strace take about twice as long. The filter is inherited
        # by every process the demo starts, as -f follows them.
        command = ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "-o", str(trace), *command]
    log = workdir / "demo.log"
    env = {**os.environ, "ANSIBLE_HOME": str(workdir / "ansible-home"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{app_port}"
    try:
        wait_for_http(f"{url}/healthz", process, 120, "the demo app did not start")
    except AssertionError:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(log.read_text()) from None
    sim = Simulator(f"https://127.0.0.1:{sim_port}", str(workdir / "demo" / "sim" / "sim-cert.pem"))
    return DemoProcess(url, sim, process, log, trace is not None)


def connected_addresses(trace: str) -> list[str]:
    """Every IPv4 and IPv6 address a connect() in an strace log names (AF_UNIX and AF_UNSPEC are no
    connection to another machine)."""
    return [v4 or v6 for line in trace.splitlines() if "connect(" in line for v4, v6 in INET.findall(line)]


def outside_loopback(addresses: list[str]) -> list[str]:
    """The addresses not in 127.0.0.0/8 or ::1 (an IPv4-mapped IPv6 address counts as its IPv4 one).
    0.0.0.0 and :: are this host to Linux: sshd's address lookups connect UDP sockets to them, which
    sends nothing."""
    outside = []
    for text in addresses:
        address = ipaddress.ip_address(text)
        address = getattr(address, "ipv4_mapped", None) or address
        if not (address.is_loopback or address.is_unspecified):
            outside.append(text)
    return outside


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)
    return found

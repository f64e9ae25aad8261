"""A real OpenSSH server on loopback with its own host and client keys: the one "guest" every simulated VM
is reached through (the demo's guest gateway forwards each VM address to it; the tests' lab uses it
directly). Runs as the current user; the stand-ins (guest_standin) do what root would do on a real VM."""

import getpass
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from day2ops_sim.ports import free_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER = next(
    (p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server") if Path(p).exists()),
    "internal-sftp",
)
SSH_OPTIONS = ("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null")


@dataclass
class Sshd:
    port: int
    user: str
    key: Path
    process: subprocess.Popen
    log: Path

    def host_vars(self, host: str | None = "127.0.0.1", port: int | None = None) -> dict:
        """What an Ansible host needs to reach this server; host None leaves ansible_host to the inventory
        (the VM's address, forwarded here by the guest gateway on `port`)."""
        found = {
            "ansible_port": port or self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": " ".join(SSH_OPTIONS),
        }
        return found if host is None else {"ansible_host": host, **found}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _keys(workdir: Path) -> None:
    for name in ("host_key", "client_key"):
        if not (workdir / name).exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(workdir / name)], check=True
            )
    (workdir / "authorized_keys").write_text((workdir / "client_key.pub").read_text())
    os.chmod(workdir / "authorized_keys", 0o600)


def _config(workdir: Path, port: int, user: str) -> Path:
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {workdir / 'host_key'}",
                f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
                f"AllowUsers {user}",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "UsePAM no",
                "StrictModes no",
                f"PidFile {workdir / 'sshd.pid'}",
                f"Subsystem sftp {SFTP_SERVER}",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    return config


def _accepts_login(workdir: Path, port: int, user: str) -> bool:
    probe = subprocess.run(
        [
            *("ssh", "-p", str(port), "-i", str(workdir / "client_key"), *SSH_OPTIONS),
            *("-o", "BatchMode=yes", "-o", "ConnectTimeout=2", f"{user}@127.0.0.1", "true"),
        ],
        capture_output=True,
    )
    return probe.returncode == 0


def start_sshd(workdir: Path, port: int = 0) -> Sshd:
    """sshd on 127.0.0.1:`port` (a free one when 0), keys kept in `workdir`; returns once a login works.
    Its own session: a Ctrl-C in the terminal reaches whoever started it, who stops it."""
    workdir.mkdir(parents=True, exist_ok=True)
    _keys(workdir)
    user = getpass.getuser()
    port = port or free_port()
    config = _config(workdir, port, user)
    # Debian's sshd refuses to start without its privilege separation directory.
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = workdir / "sshd.log"
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stderr=log.open("w"), start_new_session=True
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {log.read_text()}")
        if _accepts_login(workdir, port, user):
            return Sshd(port, user, workdir / "client_key", process, log)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"sshd did not accept a login on port {port}: {log.read_text()}")

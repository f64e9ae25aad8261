"""A real OpenSSH server on loopback, started by the tests, with its own host and client keys."""

import getpass
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sim_process import free_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER = next(
    (p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server") if Path(p).exists()),
    "internal-sftp",
)


@dataclass
class Sshd:
    port: int
    user: str
    key: Path
    process: subprocess.Popen
    log: Path

    def host_vars(self) -> dict:
        """What an Ansible host needs to reach this server."""
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_sshd(workdir: Path) -> Sshd:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "client_key"):
        if not (workdir / name).exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(workdir / name)], check=True
            )
    (workdir / "authorized_keys").write_text((workdir / "client_key.pub").read_text())
    os.chmod(workdir / "authorized_keys", 0o600)
    user = getpass.getuser()
    port = free_port()
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
    # Debian's sshd refuses to start without its privilege separation directory.
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = workdir / "sshd.log"
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=log.open("w"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {log.read_text()}")
        probe = subprocess.run(
            [
                "ssh",
                "-p",
                str(port),
                "-i",
                str(workdir / "client_key"),
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=2",
                f"{user}@127.0.0.1",
                "true",
            ],
            capture_output=True,
        )
        if probe.returncode == 0:
            return Sshd(port, user, workdir / "client_key", process, log)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"sshd did not accept a login on port {port}: {log.read_text()}")

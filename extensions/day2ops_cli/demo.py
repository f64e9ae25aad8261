"""`day2ops demo`: the simulator, the guests' SSH and health endpoints and the app, with demo users, on
loopback only.

The simulator runs as a child process (its own event loop and port) with its VMs on 127.0.0.0/8
(--guest-network loopback); one loopback sshd stands in for every guest, and the guest gateway (a thread
here) answers SSH and /health on each VM's address; the app runs here, pointed at all of them. Everything
lives under one directory (.demo/ by default), so a second start finds its store again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path

import yaml

# Demo only: printed at start. A real installation adds its users with `day2ops user add`.
DEMO_USERS = (
    ("olivia", "olivia-operator-demo", ["operator"], []),
    ("alex", "alex-approver-demo", ["approver"], ["change-approvers", "dr-approvers"]),
    ("ada", "ada-admin-demo", ["admin", "approver", "operator"], ["change-approvers", "dr-approvers"]),
)
SIM_USER, SIM_PASSWORD = "admin", "Nutanix.123"
VCENTER_USER, MOVE_USER = "administrator@vsphere.local", "nutanix"


def simulator_settings(host: str, prism_port: int, vcenter_port: int, move_port: int, ca_path: str) -> dict:
    """The app's DAY2OPS_* settings for the simulator's Prism Central, vCenter and Move listeners."""
    settings = {}
    for name, port, user in (
        ("PRISM", prism_port, SIM_USER),
        ("VCENTER", vcenter_port, VCENTER_USER),
        ("MOVE", move_port, MOVE_USER),
    ):
        settings.update(
            {
                f"DAY2OPS_{name}_HOST": host,
                f"DAY2OPS_{name}_PORT": str(port),
                f"DAY2OPS_{name}_USERNAME": user,
                f"DAY2OPS_{name}_PASSWORD": SIM_PASSWORD,
                f"DAY2OPS_{name}_CA_PATH": ca_path,
            }
        )
    # The simulator's guests take its password (playbooks/waves.example.yml names these variables);
    # the app hands every MIGRATION_GUEST_* variable of its environment to migration runs as a secret.
    settings.update({f"MIGRATION_GUEST_{os_name}_PASSWORD": SIM_PASSWORD for os_name in ("LINUX", "WINDOWS")})
    return settings


def _wait_for_port(port: int, child: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if child.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"day2ops demo: the simulator did not start on port {port}; is the port taken?")
        time.sleep(0.2)


def guest_site_vars(standins: Path, ssh_vars: dict, http_port: int) -> dict:
    """What the guest-dependent items need in the demo: the stand-ins (on PATH, told their VM) instead of
    apt-get and reboot, no become, and every probe on the VM's own loopback address at the gateway's port."""
    path = f"{standins}:/usr/bin:/bin"
    return {
        "safe_patch_become": False,
        "safe_patch_environment": {"PATH": path, "DAY2OPS_SIM_VM": "{{ ext_id }}"},
        "safe_patch_reboot_required_checks": {"apt": f"{standins}/reboot-required"},
        "safe_patch_reboot_command": f"{standins}/reboot {{{{ ext_id }}}}",
        "safe_patch_boot_time_command": f"{standins}/boot-id {{{{ ext_id }}}}",
        "safe_patch_probe_url": f"http://{{{{ ansible_host }}}}:{http_port}/health",
        "safe_patch_probe_retries": 3,
        "safe_patch_probe_delay": 2,
        "dr_drill_probe_url": f"http://{{ip}}:{http_port}/health",
        "dr_drill_probe_retries": 5,
        "dr_drill_probe_delay": 2,
        "template_release_become": False,
        "template_release_host_vars": ssh_vars,
        "template_release_environment": {"PATH": path, "DAY2OPS_SIM_VM": "{{ template_release_vm.ext_id }}"},
        "template_release_smoke_commands": [[f"{standins}/app-health", "{{ template_release_vm.ext_id }}"]],
        "template_release_smoke_url": f"http://{{ip}}:{http_port}/health",
        "template_release_smoke_retries": 3,
        "template_release_smoke_delay": 2,
        "template_release_ip_wait_seconds": 60,
        "template_release_connect_timeout": 60,
    }


def _start_sim(args: argparse.Namespace, cert_dir: Path) -> subprocess.Popen:
    # Its own session: Ctrl-C reaches this process only, which stops the simulator after the app.
    sim = subprocess.Popen(
        [
            *(sys.executable, "-m", "day2ops_cli.main", "sim", "--port", str(args.sim_port), "--control"),
            *("--cert-dir", str(cert_dir), "--vm-count", str(args.vm_count), "--log-level", "warning"),
            *("--vcenter-port", str(args.vcenter_port), "--move-port", str(args.move_port)),
            *("--guest-network", "loopback"),
        ],
        start_new_session=True,
    )
    for port in (args.sim_port, args.vcenter_port, args.move_port):
        _wait_for_port(port, sim)
    return sim


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _start_gateway(gateway) -> Callable[[], None]:
    """The gateway on its own event loop in a thread; returns what stops it."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def serve() -> None:
        loop.run_until_complete(gateway.run(stop))
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def halt() -> None:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)

    return halt


def _start_guests(args: argparse.Namespace, home: Path, sim_url: str, ca_path: str, stack: ExitStack) -> dict:
    """sshd, stand-ins and gateway; the site vars that point the items at them."""
    from day2ops_sim.gateway import GuestGateway
    from day2ops_sim.guest_standin import write_standins
    from day2ops_sim.sshd import start_sshd

    sshd = start_sshd(home / "guests" / "sshd")
    stack.callback(sshd.stop)
    standins = write_standins(home / "guests" / "standin", sim_url, Path(ca_path))
    gateway = GuestGateway(sim_url, ca_path, sshd.port, args.guest_ssh_port, args.guest_http_port)
    stack.callback(_start_gateway(gateway))
    # The guest is this machine: the venv's Python runs the modules Ansible sends.
    ssh_vars = {
        **sshd.host_vars(host=None, port=args.guest_ssh_port),
        "ansible_python_interpreter": sys.executable,
    }
    inventory_vars = home / "app" / "inventory-vars.yml"
    inventory_vars.write_text(yaml.safe_dump(ssh_vars))
    os.environ["DAY2OPS_INVENTORY_VARS_FILE"] = str(inventory_vars)
    return guest_site_vars(standins, ssh_vars, args.guest_http_port)


def _add_demo_users(settings) -> None:
    from day2ops_app.db.engine import Database
    from day2ops_app.db.migrate import upgrade
    from day2ops_app.services.users import add_user

    upgrade(settings.db_url)
    db = Database(settings.db_url)
    for username, password, roles, groups in DEMO_USERS:
        try:
            with db.session() as session:
                add_user(session, username, password, roles, groups)
        except ValueError:
            pass  # a second start: the demo users are there already
    db.dispose()


def _banner(args: argparse.Namespace) -> str:
    width = max(len(u[0]) for u in DEMO_USERS)
    return (
        f"\n  day2ops self-service app:  http://127.0.0.1:{args.port}/ui/\n"
        + "".join(
            f"    {name:<{width}}  password {password:<22} ({', '.join(roles)})\n"
            for name, password, roles, _ in DEMO_USERS
        )
        + f"  Prism Central simulator:   https://127.0.0.1:{args.sim_port}  ({SIM_USER} / {SIM_PASSWORD})\n"
        f"  vCenter simulator:         https://127.0.0.1:{args.vcenter_port}"
        f"  ({VCENTER_USER} / {SIM_PASSWORD})\n"
        f"  Nutanix Move simulator:    https://127.0.0.1:{args.move_port}  ({MOVE_USER} / {SIM_PASSWORD})\n"
        f"  guest gateway:             every VM's 127.x address, SSH on port {args.guest_ssh_port},"
        f" /health on port {args.guest_http_port}\n"
        "  Ctrl-C stops them all (simulator, guest gateway and sshd, app).\n"
    )


def demo(args: argparse.Namespace) -> None:
    import uvicorn
    from day2ops_app.main import create_app
    from day2ops_app.settings import REPO, Settings

    home = Path(args.dir).resolve()
    cert_dir = home / "sim"
    (home / "app").mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.callback(_stop, _start_sim(args, cert_dir))
        ca_path = str(cert_dir / "sim-cert.pem")
        site_vars = _start_guests(args, home, f"https://127.0.0.1:{args.sim_port}", ca_path, stack)
        # The migration item runs the example waves (the demo estate's VMs) against the simulated Move.
        site_vars["migration_wave_file"] = str(REPO / "playbooks" / "waves.example.yml")
        site = home / "app" / "site.yml"
        site.write_text(yaml.safe_dump(site_vars))
        os.environ.update(
            {
                "DAY2OPS_DB_URL": f"sqlite:///{home / 'app' / 'audit.db'}",
                "DAY2OPS_DATA_DIR": str(home / "app"),
                "DAY2OPS_BASE_URL": f"http://127.0.0.1:{args.port}",
                "DAY2OPS_SITE_VARS_FILE": str(site),
                **simulator_settings("127.0.0.1", args.sim_port, args.vcenter_port, args.move_port, ca_path),
            }
        )
        settings = Settings()
        _add_demo_users(settings)
        print(_banner(args), flush=True)
        # uvicorn shuts the app down on Ctrl-C, then raises it again; the stack stops the rest.
        with suppress(KeyboardInterrupt):
            uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning")
    print("day2ops demo: stopped.", flush=True)


def add_parser(sub) -> None:
    parser = sub.add_parser("demo", help="the simulator and the app together, with demo users (loopback)")
    parser.add_argument("--port", type=int, default=8080, help="the app's port")
    parser.add_argument("--sim-port", type=int, default=9440, help="the simulator's port")
    parser.add_argument("--vcenter-port", type=int, default=9443, help="the simulated vCenter's port")
    parser.add_argument("--move-port", type=int, default=9444, help="the simulated Nutanix Move's port")
    parser.add_argument("--vm-count", type=int, default=300)
    parser.add_argument("--guest-ssh-port", type=int, default=2222, help="SSH on every VM's loopback address")
    parser.add_argument("--guest-http-port", type=int, default=8880, help="/health on every VM's address")
    parser.add_argument("--dir", default=".demo", help="where the store, runs and certificate live")
    parser.set_defaults(func=demo)

"""`day2ops demo`: the simulator and the app together, with demo users, on loopback.

The simulator runs as a child process (its own event loop and port); the app runs here, pointed at it.
Everything lives under one directory (.demo/ by default), so a second start finds its store again.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def demo(args: argparse.Namespace) -> None:
    import uvicorn
    from day2ops_app.main import create_app
    from day2ops_app.settings import REPO, Settings

    home = Path(args.dir).resolve()
    cert_dir = home / "sim"
    sim = subprocess.Popen(
        [
            *(sys.executable, "-m", "day2ops_cli.main", "sim", "--port", str(args.sim_port), "--control"),
            *("--cert-dir", str(cert_dir), "--vm-count", str(args.vm_count), "--log-level", "warning"),
            *("--vcenter-port", str(args.vcenter_port), "--move-port", str(args.move_port)),
        ],
    )
    try:
        for port in (args.sim_port, args.vcenter_port, args.move_port):
            _wait_for_port(port, sim)
        ca_path = str(cert_dir / "sim-cert.pem")
        # The migration item runs the example waves (the demo estate's VMs) against the simulated Move.
        site = home / "app" / "site.yml"
        site.parent.mkdir(parents=True, exist_ok=True)
        waves = REPO / "playbooks" / "waves.example.yml"
        site.write_text(f"migration_wave_file: {waves}\n")
        os.environ.update(
            {
                "DAY2OPS_DB_URL": f"sqlite:///{home / 'app' / 'audit.db'}",
                "DAY2OPS_DATA_DIR": str(home / "app"),
                "DAY2OPS_BASE_URL": f"http://127.0.0.1:{args.port}",
                "DAY2OPS_SITE_VARS_FILE": str(site),
                **simulator_settings("127.0.0.1", args.sim_port, args.vcenter_port, args.move_port, ca_path),
            }
        )
        (home / "app").mkdir(parents=True, exist_ok=True)
        settings = Settings()
        _add_demo_users(settings)
        width = max(len(u[0]) for u in DEMO_USERS)
        print(
            f"\n  day2ops self-service app:  http://127.0.0.1:{args.port}/ui/\n"
            + "".join(
                f"    {name:<{width}}  password {password:<22} ({', '.join(roles)})\n"
                for name, password, roles, _ in DEMO_USERS
            )
            + f"  Prism Central simulator:   https://127.0.0.1:{args.sim_port}"
            f"  ({SIM_USER} / {SIM_PASSWORD})\n"
            f"  vCenter simulator:         https://127.0.0.1:{args.vcenter_port}"
            f"  ({VCENTER_USER} / {SIM_PASSWORD})\n"
            f"  Nutanix Move simulator:    https://127.0.0.1:{args.move_port}"
            f"  ({MOVE_USER} / {SIM_PASSWORD})\n"
            "  Ctrl-C stops both.\n",
            flush=True,
        )
        uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning")
    finally:
        sim.terminate()
        sim.wait(timeout=30)


def add_parser(sub) -> None:
    parser = sub.add_parser("demo", help="the simulator and the app together, with demo users (loopback)")
    parser.add_argument("--port", type=int, default=8080, help="the app's port")
    parser.add_argument("--sim-port", type=int, default=9440, help="the simulator's port")
    parser.add_argument("--vcenter-port", type=int, default=9443, help="the simulated vCenter's port")
    parser.add_argument("--move-port", type=int, default=9444, help="the simulated Nutanix Move's port")
    parser.add_argument("--vm-count", type=int, default=300)
    parser.add_argument("--dir", default=".demo", help="where the store, runs and certificate live")
    parser.set_defaults(func=demo)

"""Run the simulator as a real process on loopback (uvicorn), HTTPS by default.

Prism Central always listens; vCenter and Move listen on their own ports only when given one
(`--vcenter-port`, `--move-port`), as the real ones live at other addresses. All share one state."""

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .app import create_app, create_move_app, create_vcenter_app
from .certs import ensure_certificate
from .state import Credentials, SimState

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 9440
    tls: bool = True
    cert_dir: Path = Path(".day2ops/sim")
    seed: int = 1
    vm_count: int = 300
    control: bool = False
    task_seconds: float | None = None
    username: str = "admin"
    password: str = "Nutanix.123"
    api_key: str = "day2ops-demo-api-key"
    log_level: str = "warning"
    vcenter_port: int | None = None
    move_port: int | None = None
    guest_network: str = ""


def serve(opts: ServerOptions) -> None:
    if opts.host not in LOOPBACK:
        raise SystemExit(f"refusing to listen on {opts.host}: the simulator serves loopback only")
    state = SimState(
        opts.seed,
        opts.vm_count,
        Credentials(opts.username, opts.password, [opts.api_key]),
        opts.guest_network,
    )
    if opts.task_seconds is not None:
        state.tasks.timing.default_seconds = opts.task_seconds
    app = create_app(state, control_plane=opts.control)
    ssl = {}
    if opts.tls:
        cert, key = ensure_certificate(opts.cert_dir)
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    logging.basicConfig(level=opts.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    listeners = [(app, opts.port)]
    if opts.vcenter_port:
        listeners.append((create_vcenter_app(state), opts.vcenter_port))
    if opts.move_port:
        listeners.append((create_move_app(state), opts.move_port))
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                listener,
                host=opts.host,
                port=port,
                log_level=opts.log_level,
                access_log=False,
                timeout_graceful_shutdown=1,
                **ssl,
            )
        )
        for listener, port in listeners
    ]

    async def run_all() -> None:
        # One event loop for every listener: the shared state is never touched from two loops.
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(run_all())

"""Run the simulator as a real process on loopback (uvicorn), HTTPS by default."""

import logging
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .app import create_app
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


def serve(opts: ServerOptions) -> None:
    if opts.host not in LOOPBACK:
        raise SystemExit(f"refusing to listen on {opts.host}: the simulator serves loopback only")
    state = SimState(opts.seed, opts.vm_count, Credentials(opts.username, opts.password, [opts.api_key]))
    if opts.task_seconds is not None:
        state.tasks.timing.default_seconds = opts.task_seconds
    app = create_app(state, control_plane=opts.control)
    ssl = {}
    if opts.tls:
        cert, key = ensure_certificate(opts.cert_dir)
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    logging.basicConfig(level=opts.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvicorn.run(
        app,
        host=opts.host,
        port=opts.port,
        log_level=opts.log_level,
        access_log=False,
        timeout_graceful_shutdown=1,
        **ssl,
    )

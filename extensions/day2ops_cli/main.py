"""`day2ops <subcommand>`: `sim` starts the Prism Central simulator."""

import argparse
from pathlib import Path


def _sim(args: argparse.Namespace) -> None:
    from day2ops_sim.server import ServerOptions, serve

    scheme = "http" if args.http else "https"
    print(
        f"day2ops simulator: Prism Central v4 on {scheme}://{args.host}:{args.port}  "
        f"(user {args.username}, {args.vm_count} VMs, seed {args.seed}"
        f"{', control API at /_sim/' if args.control else ''})",
        flush=True,
    )
    serve(
        ServerOptions(
            host=args.host,
            port=args.port,
            tls=not args.http,
            cert_dir=Path(args.cert_dir),
            seed=args.seed,
            vm_count=args.vm_count,
            control=args.control,
            task_seconds=args.task_seconds,
            username=args.username,
            password=args.password,
            api_key=args.api_key,
            log_level=args.log_level,
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="day2ops", description="Nutanix AHV day-2 operations")
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("sim", help="run the Prism Central v4 simulator on loopback")
    sim.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=9440)
    sim.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    sim.add_argument("--cert-dir", default=".day2ops/sim", help="where the self-signed certificate is kept")
    sim.add_argument("--seed", type=int, default=1, help="the demo estate's seed (same seed, same extIds)")
    sim.add_argument("--vm-count", type=int, default=300)
    sim.add_argument("--control", action="store_true", help="mount the /_sim/ control API (tests, demo)")
    sim.add_argument("--task-seconds", type=float, default=None, help="default task duration")
    sim.add_argument("--username", default="admin")
    sim.add_argument("--password", default="Nutanix.123")
    sim.add_argument("--api-key", default="day2ops-demo-api-key")
    sim.add_argument("--log-level", default="warning")
    sim.set_defaults(func=_sim)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

"""`day2ops <subcommand>`: `sim` starts the Prism Central simulator; `serve` the self-service app;
`demo` both, with demo users;
`user add`, `token create`, `audit verify`, `audit export` and `db upgrade` work on its store."""

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from day2ops_cli import awx, demo


def _sim(args: argparse.Namespace) -> None:
    from day2ops_sim.server import ServerOptions, serve

    scheme = "http" if args.http else "https"
    print(
        f"day2ops simulator: Prism Central v4 on {scheme}://{args.host}:{args.port}  "
        f"(user {args.username}, {args.vm_count} VMs, seed {args.seed}"
        f"{', control API at /_sim/' if args.control else ''})",
        flush=True,
    )
    if args.vcenter_port:
        print(f"  vCenter REST on {scheme}://{args.host}:{args.vcenter_port}/api", flush=True)
    if args.move_port:
        print(
            f"  Nutanix Move v2 on {scheme}://{args.host}:{args.move_port}/move/v2 (user nutanix)", flush=True
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
            vcenter_port=args.vcenter_port,
            move_port=args.move_port,
        )
    )


def _settings():
    from day2ops_app.settings import Settings

    return Settings()


def _database():
    from day2ops_app.db.engine import Database
    from day2ops_app.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.db_url)
    return Database(settings.db_url)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn
    from day2ops_app.main import create_app

    os.environ.setdefault("DAY2OPS_BASE_URL", f"http://{args.host}:{args.port}")
    print(f"day2ops app on http://{args.host}:{args.port}  (API docs at /docs)", flush=True)
    uvicorn.run(create_app(_settings()), host=args.host, port=args.port, log_level=args.log_level)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {args.username}: ")
    if first != getpass.getpass("again: "):
        sys.exit("the two passwords differ")
    return first


def _user_add(args: argparse.Namespace) -> None:
    from day2ops_app.users import add_user

    db = _database()
    try:
        with db.session() as session:
            add_user(session, args.username, _password(args), args.role, args.group)
    except ValueError as error:
        sys.exit(f"day2ops user add: {error}")
    print(f"user {args.username} added with roles {', '.join(args.role)}")


def _token_create(args: argparse.Namespace) -> None:
    from datetime import timedelta

    from day2ops_app.db.tables import ApiToken, User, utcnow
    from day2ops_app.security import digest, new_token
    from sqlalchemy import select

    db = _database()
    token = new_token("d2t")
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == args.username)).one_or_none()
        if user is None:
            sys.exit(f"day2ops token create: no user {args.username}; add it with `day2ops user add`")
        expires = utcnow() + timedelta(days=args.days) if args.days else None
        session.add(ApiToken(user_id=user.id, name=args.name, token_sha256=digest(token), expires_at=expires))
    print(token)


def _audit_verify(args: argparse.Namespace) -> None:
    from day2ops_app.audit import chain

    with _database().session() as session:
        report = chain.verify(session)
    for problem in report.problems:
        print(f"TAMPERED: {problem}")
    print(f"audit chain: {report.entries} entries, {'intact' if report.ok else 'BROKEN'}")
    sys.exit(0 if report.ok else 1)


def _audit_export(args: argparse.Namespace) -> None:
    from day2ops_app.audit.export import export_csv, export_execution
    from day2ops_app.db.tables import Execution

    with _database().session() as session:
        if session.get(Execution, args.execution_id) is None:
            sys.exit(f"day2ops audit export: no execution {args.execution_id}")
        record = export_execution(session, args.execution_id)
    sys.stdout.write(
        export_csv(record) if args.format == "csv" else json.dumps(record, indent=2, default=str) + "\n"
    )


def _db_upgrade(args: argparse.Namespace) -> None:
    _database()
    print("audit store at the newest schema")


def _app_commands(sub) -> None:
    serve = sub.add_parser("serve", help="run the self-service app (settings from DAY2OPS_* variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)

    user = sub.add_parser("user", help="local users of the app").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add a user (asks for the password, or reads it from stdin)")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=["operator", "approver", "admin"])
    add.add_argument("--group", action="append", default=[], help="approver groups, catalog access groups")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(func=_user_add)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="print a new API token for a user (shown once)")
    create.add_argument("username")
    create.add_argument("--name", default="automation")
    create.add_argument("--days", type=int, default=None, help="expires after this many days")
    create.set_defaults(func=_token_create)

    audit = sub.add_parser("audit", help="the audit store").add_subparsers(dest="action", required=True)
    audit.add_parser(
        "verify", help="check the hash chain; exit 1 if anything was tampered with"
    ).set_defaults(func=_audit_verify)
    export = audit.add_parser("export", help="one execution's evidence")
    export.add_argument("execution_id")
    export.add_argument("--format", choices=["json", "csv"], default="json")
    export.set_defaults(func=_audit_export)

    db = sub.add_parser("db", help="the store's schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(func=_db_upgrade)


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
    sim.add_argument(
        "--vcenter-port",
        type=int,
        default=None,
        help="also serve vCenter REST (/api, user administrator@vsphere.local) on this port (off by default)",
    )
    sim.add_argument(
        "--move-port",
        type=int,
        default=None,
        help="also serve Nutanix Move v2 (/move/v2, user nutanix) on this port (off by default)",
    )
    sim.set_defaults(func=_sim)
    _app_commands(sub)
    demo.add_parser(sub)
    awx.add_parser(sub)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

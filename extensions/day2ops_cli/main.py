"""`day2ops <subcommand>`: `sim` starts the Prism Central simulator; `serve` the self-service app;
`demo` both, with demo users; `doctor` checks a real Prism Central (read-only);
`user add|disable|enable|unlock`, `token create`, `audit verify|seal|rotate-key|export` and `db upgrade`
work on its store."""

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from day2ops_cli import awx, demo, doctor


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
            guest_network=args.guest_network,
        )
    )


def _settings():
    from day2ops_app.settings import Settings

    return Settings()


def open_store(create_key: bool = True):
    """The store DAY2OPS_* names, migrated, its sessions carrying the audit chain's key (the commands on the
    store; the tests add their users through it)."""
    from day2ops_app.audit.context import AuditContext
    from day2ops_app.db.engine import Database
    from day2ops_app.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.db_url)
    return Database(settings.db_url, audit=AuditContext.from_settings(settings, create_key=create_key))


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
    from day2ops_app.services.users import add_user

    db = open_store()
    try:
        with db.session() as session:
            add_user(session, args.username, _password(args), args.role, args.group)
    except ValueError as error:
        sys.exit(f"day2ops user add: {error}")
    print(f"user {args.username} added with roles {', '.join(args.role)}")


def _user_disable(args: argparse.Namespace) -> None:
    from day2ops_app.services.users import set_disabled

    disabled = args.action == "disable"
    try:
        with open_store().session() as session:
            set_disabled(session, args.username, disabled)
    except LookupError as error:
        sys.exit(f"day2ops user {args.action}: {error}")
    print(
        f"user {args.username} "
        + ("disabled: its sessions end, its tokens are refused" if disabled else "enabled")
    )


def _user_unlock(args: argparse.Namespace) -> None:
    from day2ops_app.services import logins

    key = logins.address_key(args.address) if args.address else logins.user_key(args.username)
    with open_store().session() as session:
        lifted = logins.forget(session, key)
    print(f"{key}: {'lockout lifted' if lifted else 'was not locked out'}; its wrong logins are forgotten")


def _token_create(args: argparse.Namespace) -> None:
    from day2ops_app.db.tables import User
    from day2ops_app.services.tokens import issue
    from sqlalchemy import select

    settings = _settings()
    with open_store().session() as session:
        user = session.scalars(select(User).where(User.username == args.username)).one_or_none()
        if user is None:
            sys.exit(f"day2ops token create: no user {args.username}; add it with `day2ops user add`")
        try:
            _, token = issue(session, settings, user, args.name, args.days, args.scope)
        except ValueError as error:
            sys.exit(f"day2ops token create: --days: {error}")
    print(token)


def _audit_verify(args: argparse.Namespace) -> None:
    from day2ops_app.audit import chain
    from day2ops_app.audit.checkpoint import log_path

    db = open_store(create_key=False)
    checkpoints = args.checkpoint
    if checkpoints == "":  # --checkpoint without a file: the app's own log
        checkpoints = log_path(db.audit.checkpoints.path)
    try:
        with db.read() as session:
            report = chain.verify(session, checkpoints=Path(checkpoints) if checkpoints else None)
    except ValueError as error:
        sys.exit(f"day2ops audit verify: {error}")
    tampered = [p for p in report.problems if not p.startswith(chain.LEGACY)]
    for problem in report.problems:
        print(f"TAMPERED: {problem}" if problem in tampered else problem)
    against = f", checked against {checkpoints}" if checkpoints else ""
    state = "BROKEN" if tampered else "not sealed" if report.problems else "intact"
    print(f"audit chain: {report.entries} entries{against}, {state}")
    sys.exit(0 if report.ok else 1)


def _audit_seal(args: argparse.Namespace) -> None:
    import socket

    from day2ops_app.audit import seal
    from day2ops_app.audit.checkpoint import log_path

    db = open_store(create_key=False)
    keys = db.audit.keys
    if not keys.env_key and not keys.path.exists():
        sys.exit(
            f"day2ops audit seal: no audit key file at {keys.path}: start the upgraded app once (it makes "
            "the key), or set DAY2OPS_AUDIT_KEY_FILE to the app's key file"
        )
    checkpoints = db.audit.checkpoints.path
    log = log_path(checkpoints)
    try:
        with db.session() as session:
            sealed = seal.seal(
                session, f"{getpass.getuser()}@{socket.gethostname()}", log if log.exists() else None
            )
    except seal.Refused as refused:
        for problem in refused.problems:
            print(f"TAMPERED: {problem}")
        sys.exit(
            f"day2ops audit seal: refused, nothing was changed: {refused}. Find out what changed the store "
            "(or restore it from a backup that verifies) before sealing"
        )
    except ValueError as error:
        sys.exit(f"day2ops audit seal: {error}")
    if sealed is None:
        print("audit chain: no legacy entries, nothing to seal")
        return
    filled = {name: len(values) for name, values in sealed.filled.items()}
    print(
        f"sealed {sealed.legacy_entries} legacy entries (the last, entry {sealed.legacy_head_seq}, was "
        f"{sealed.legacy_head_hash}): {sealed.resigned} entries re-signed with audit key {sealed.key_id}; "
        f"filled in: {json.dumps(filled)}; the seal is chain entry {sealed.head_seq}, checkpointed in "
        f"{checkpoints}"
    )


def _audit_rotate_key(args: argparse.Namespace) -> None:
    from day2ops_app.audit.context import AuditContext

    keys = AuditContext.from_settings(_settings()).keys
    try:
        key_id = keys.rotate()
    except ValueError as error:
        sys.exit(f"day2ops audit rotate-key: {error}")
    if keys.env_key:
        print(
            f"the key of DAY2OPS_AUDIT_KEY (id {key_id}) is kept in {keys.path}: now set DAY2OPS_AUDIT_KEY "
            "to a new key, or unset it to use the file's current key; entries made with the old key keep "
            "verifying"
        )
    else:
        print(
            f"audit key {key_id} is now current in {keys.path}; entries made with older keys keep verifying "
            "with the keys kept there. Running app instances use it from their next write: copy the file to "
            "every instance that shares the database"
        )


def _audit_export(args: argparse.Namespace) -> None:
    from day2ops_app.audit.export import export_csv, export_execution
    from day2ops_app.db.tables import Execution

    with open_store().session() as session:
        if session.get(Execution, args.execution_id) is None:
            sys.exit(f"day2ops audit export: no execution {args.execution_id}")
        record = export_execution(session, args.execution_id)
    sys.stdout.write(
        export_csv(record) if args.format == "csv" else json.dumps(record, indent=2, default=str) + "\n"
    )


def _db_upgrade(args: argparse.Namespace) -> None:
    open_store()
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
    for action, text in (("disable", "refuse a user everywhere, at once"), ("enable", "let a user in again")):
        toggle = user.add_parser(action, help=text)
        toggle.add_argument("username")
        toggle.set_defaults(func=_user_disable)
    unlock = user.add_parser("unlock", help="lift the lockout after too many wrong logins")
    target = unlock.add_mutually_exclusive_group(required=True)
    target.add_argument("username", nargs="?")
    target.add_argument("--address", help="a client address instead of a user name")
    unlock.set_defaults(func=_user_unlock)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="print a new API token for a user (shown once)")
    create.add_argument("username")
    create.add_argument("--name", default="automation")
    create.add_argument(
        "--days", type=int, default=None, help="expires after this many days (default DAY2OPS_TOKEN_DAYS, 90)"
    )
    create.add_argument("--scope", choices=["full", "read"], default="full", help="read: GET requests only")
    create.set_defaults(func=_token_create)

    audit = sub.add_parser("audit", help="the audit store").add_subparsers(dest="action", required=True)
    verify = audit.add_parser("verify", help="check the hash chain; exit 1 if anything was tampered with")
    verify.add_argument(
        "--checkpoint",
        nargs="?",
        const="",
        metavar="FILE",
        help="also check the chain against its checkpoints (default: the app's checkpoint log): catches a "
        "chain cut short or rewritten",
    )
    verify.set_defaults(func=_audit_verify)
    audit.add_parser(
        "seal",
        help="once, after upgrading a store written before the chain was keyed: check its legacy entries by "
        "the old rules and sign them with the audit key",
    ).set_defaults(func=_audit_seal)
    audit.add_parser(
        "rotate-key", help="add an audit key and make it current (older entries keep verifying)"
    ).set_defaults(func=_audit_rotate_key)
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
    sim.add_argument(
        "--guest-network",
        choices=["loopback"],
        default="",
        help="loopback: every VM address in 127.0.0.0/8, leased when a VM powers on without one (the demo)",
    )
    sim.set_defaults(func=_sim)
    _app_commands(sub)
    demo.add_parser(sub)
    awx.add_parser(sub)
    doctor.add_parser(sub)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

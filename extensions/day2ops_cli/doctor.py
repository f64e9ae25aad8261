"""`day2ops doctor`: the read-only preflight against a real Prism Central (and Move and vCenter when
given), as one screen of text or as JSON. The checks are the collection's own (module_utils/_doctor.py),
which day2ops.ahv.doctor_info runs for AWX; this file only gathers options and prints."""

from __future__ import annotations

import argparse
import json
import os
import sys

from day2ops_app.collection import ApiError, PrismClient, examine

MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
# The Prism client retries an unreachable server for up to two minutes; a preflight answers sooner.
MAX_RETRIES = 1


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("0", "false", "no", "off", "")


def _api_versions(pairs: list[str]) -> dict[str, str]:
    versions = {}
    for pair in pairs:
        namespace, sep, version = pair.partition("=")
        if not sep:
            sys.exit(f"day2ops doctor: --api-version {pair}: write it as NAMESPACE=VERSION, e.g. vmm=v4.1")
        versions[namespace.strip()] = version.strip()
    return versions


def prism_options(args: argparse.Namespace) -> dict:
    """The collection's connection options (the prism doc fragment's names) from flags and NUTANIX_*."""
    if not args.host:
        sys.exit("day2ops doctor: give --host (or NUTANIX_HOST): the Prism Central to check")
    return {
        "nutanix_host": args.host,
        "nutanix_port": args.port,
        "nutanix_username": args.username,
        "nutanix_password": args.password,
        "nutanix_api_key": args.api_key,
        "validate_certs": args.validate_certs,
        "ca_path": args.ca_path,
        "request_timeout": args.timeout,
        "max_retries": MAX_RETRIES,
        "api_versions": _api_versions(args.api_version),
    }


def service_options(args: argparse.Namespace, prefix: str) -> dict | None:
    """Move's or vCenter's options (their doc fragments' names), or None when its host is not given."""
    host = getattr(args, f"{prefix}_host")
    if not host:
        return None
    password = getattr(args, f"{prefix}_password")
    if not password:
        flag = prefix.replace("_", "-")
        sys.exit(f"day2ops doctor: --{flag}-host needs --{flag}-password (or its environment variable)")
    return {
        f"{prefix}_host": host,
        f"{prefix}_port": getattr(args, f"{prefix}_port"),
        f"{prefix}_username": getattr(args, f"{prefix}_username"),
        f"{prefix}_password": password,
        "validate_certs": args.validate_certs,
        "ca_path": getattr(args, f"{prefix}_ca_path"),
        "request_timeout": args.timeout,
    }


def render(report: dict) -> str:
    """One screen: a line per check, its fix under it when it failed or warns, then the counts."""
    checks = report["checks"]
    name_width = max([len(c["name"]) for c in checks] + [5])
    flow_width = min(max([len(c["flow"]) for c in checks] + [4]), 42)
    lines = [
        f"day2ops doctor: Prism Central {report['prism_central']}",
        "",
        f"{'':4}  {'CHECK':<{name_width}}  {'FLOW':<{flow_width}}  DETAIL",
    ]
    for c in checks:
        lines.append(
            f"{MARKS[c['status']]:<4}  {c['name']:<{name_width}}  {c['flow']:<{flow_width}}  {c['detail']}"
        )
        if c["fix"] and c["status"] in ("fail", "warn"):
            lines.append(f"{'':6}fix: {c['fix']}")
    counts = report["counts"]
    lines += ["", ", ".join(f"{counts[s]} {s}" for s in ("ok", "warn", "fail", "skip"))]
    if report["failed_checks"]:
        lines.append("failed: " + ", ".join(report["failed_checks"]))
    return "\n".join(lines) + "\n"


def doctor(args: argparse.Namespace) -> None:
    options = prism_options(args)
    try:
        client = PrismClient.from_options(options)
    except ApiError as error:
        sys.exit(f"day2ops doctor: {error}")
    report = examine(client, options, service_options(args, "move"), service_options(args, "vcenter"))
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else render(report))
    sys.exit(0 if report["passed"] else 1)


def add_parser(sub) -> None:
    env = os.environ.get
    parser = sub.add_parser(
        "doctor",
        help="read-only preflight against a real Prism Central (and Move, vCenter): what each flow needs",
        description="Tries, read-only, every call the day2ops flows make and reports what works, what does "
        "not, and the fix. Exit status 1 when a check fails. Secrets come from flags or the environment "
        "variables the collection's modules read, and are never printed.",
    )
    parser.add_argument("--host", default=env("NUTANIX_HOST"), help="Prism Central (NUTANIX_HOST)")
    parser.add_argument("--port", type=int, default=int(env("NUTANIX_PORT") or 9440))
    parser.add_argument("--username", default=env("NUTANIX_USERNAME"), help="(NUTANIX_USERNAME)")
    parser.add_argument("--password", default=env("NUTANIX_PASSWORD"), help="(NUTANIX_PASSWORD; prefer it)")
    parser.add_argument(
        "--api-key", default=env("NUTANIX_API_KEY"), help="instead of a password (NUTANIX_API_KEY)"
    )
    parser.add_argument(
        "--ca-path", default=env("NUTANIX_CA_PATH"), help="CA bundle of Prism Central (NUTANIX_CA_PATH)"
    )
    parser.add_argument(
        "--no-validate-certs",
        dest="validate_certs",
        action="store_false",
        default=_env_bool("VALIDATE_CERTS", True),
        help="do not check certificates (a lab only; VALIDATE_CERTS=false)",
    )
    parser.add_argument(
        "--api-version",
        action="append",
        default=[],
        metavar="NS=VERSION",
        help="the api_versions your playbooks set, e.g. vmm=v4.1, to check them against what is served",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP answer")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    for prefix, name, port, user, variables in (
        ("move", "Nutanix Move", 443, env("MOVE_USERNAME") or "nutanix", "MOVE"),
        ("vcenter", "vCenter", 443, env("VMWARE_USER"), "VMWARE"),
    ):
        parser.add_argument(
            f"--{prefix}-host", default=env(f"{variables}_HOST"), help=f"{name} ({variables}_HOST)"
        )
        parser.add_argument(f"--{prefix}-port", type=int, default=int(env(f"{variables}_PORT") or port))
        parser.add_argument(f"--{prefix}-username", default=user)
        parser.add_argument(
            f"--{prefix}-password", default=env(f"{variables}_PASSWORD"), help=f"({variables}_PASSWORD)"
        )
        parser.add_argument(
            f"--{prefix}-ca-path", default=env(f"{variables}_CA_PATH"), help=f"({variables}_CA_PATH)"
        )
    parser.set_defaults(func=doctor)

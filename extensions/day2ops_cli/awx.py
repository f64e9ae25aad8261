"""`day2ops awx export`: the catalog and the app's schedules as AWX objects, written as JSON (one file per
kind, for review and diffs) and as a vars file for playbooks/awx/awx_objects.yml."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import yaml


class _Unsafe(str):
    """A string Ansible must pass to AWX as written: the Jinja in it is for the AWX job, not this play."""


class _VarsDumper(yaml.SafeDumper):
    pass


_VarsDumper.add_representer(_Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def _protect(value):
    if isinstance(value, dict):
        return {k: _protect(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_protect(v) for v in value]
    if isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#")):
        return _Unsafe(value)
    return value


def _schedules(settings) -> list:
    from day2ops_app.db.engine import Database
    from day2ops_app.db.migrate import upgrade
    from day2ops_app.db.tables import Schedule
    from sqlalchemy import select

    upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        with db.session() as session:
            return list(session.scalars(select(Schedule).order_by(Schedule.name)))
    finally:
        db.dispose()


def _live(settings):
    from day2ops_app.catalog.choices import PrismChoices

    prism = PrismChoices(settings)

    def read(source, key, odata):
        return [choice["value"] for choice in prism.choices(source, key, None, odata)]

    return read


def _export(args: argparse.Namespace) -> None:
    from day2ops_app.awx.errors import ExportError
    from day2ops_app.awx.export import Target, export
    from day2ops_app.catalog.choices import ChoicesUnavailable
    from day2ops_app.catalog.model import Catalog, CatalogError
    from day2ops_app.settings import Settings

    settings = Settings()
    target = Target(
        organization=args.organization,
        project=args.project,
        inventory=args.inventory,
        credential=args.credential,
    )
    try:
        catalog = Catalog.load(Path(args.catalog), settings.playbook_dir)
        objects = export(
            catalog,
            _schedules(settings),
            settings.playbook_dir,
            settings.playbook_dir.parent / "roles",
            target,
            date.today(),
            _live(settings) if args.prism else None,
        )
    except (CatalogError, ExportError, ChoicesUnavailable) as error:
        sys.exit(f"day2ops awx export: {error}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for kind, definitions in objects.items():
        (out / f"{kind}.json").write_text(json.dumps(definitions, indent=2) + "\n")
    names = {f"day2ops_awx_{field}": getattr(target, field) for field in target.__dataclass_fields__}
    variables = {**names, **{f"day2ops_awx_{kind}": definitions for kind, definitions in objects.items()}}
    (out / "awx_vars.yml").write_text(
        "# Written by `day2ops awx export`, for: ansible-playbook playbooks/awx/awx_objects.yml -e @<file>\n"
        + yaml.dump(_protect(variables), Dumper=_VarsDumper, sort_keys=False)
    )
    counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in objects.items())
    print(f"AWX objects in {out}: {counts}")


def add_parser(sub) -> None:
    awx = sub.add_parser("awx", help="AWX / Ansible Automation Platform").add_subparsers(
        dest="action", required=True
    )
    export = awx.add_parser("export", help="job templates, surveys, workflows with approvals, schedules")
    export.add_argument("--catalog", default="catalog", help="the catalog directory (default: catalog)")
    export.add_argument("--out", required=True, help="the directory to write the JSON and awx_vars.yml to")
    export.add_argument("--project", default="day2ops", help="the AWX project holding this repository")
    export.add_argument("--inventory", default="day2ops Prism VMs", help="the AWX inventory of Prism VMs")
    export.add_argument("--organization", default="Default")
    export.add_argument("--credential", default="day2ops Prism Central", help="the Prism Central credential")
    export.add_argument(
        "--prism",
        action="store_true",
        help="read live choices (clusters, Category values, VMs, templates) from Prism now "
        "(DAY2OPS_PRISM_*); without it they are text questions",
    )
    export.set_defaults(func=_export)

"""Regenerate the simulator's SDK tables from the official `ntnx-*-py-client` releases.

- extensions/day2ops_sim/sdk_operations.json: every operation of the newest releases (path, method,
  response `$objectType`, query options). The simulator routes by it; operations it does not
  implement answer 501 naming the SDK call.
- extensions/day2ops_sim/sdk_versions/<namespace>-<segment>.json: per version segment, from the SDK
  release that defines it (4.0.x for v4.0, ...): the operations the simulator handles, with their body
  model and the OData fields each query option accepts, and every model reachable from their bodies and
  responses. The simulator validates requests and shapes responses per segment with these.

Each release is installed once under build/sdk-matrix/ and dumped in its own process (releases share
module names). Run after bumping an SDK or adding a handler:
    .venv/bin/python scripts/gen_sdk_operations.py
"""

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MATRIX = ROOT / "build" / "sdk-matrix"
SIM = ROOT / "extensions" / "day2ops_sim"
# The newest patch release of each minor: release 4.N defines version segment v4.N.
RELEASES = {
    "vmm": ["4.0.1", "4.1.1", "4.2.2", "4.3.2"],
    "prism": ["4.0.1", "4.1.1", "4.2.1", "4.3.1", "4.4.2"],
    "clustermgmt": ["4.0.2", "4.1.1", "4.2.2", "4.3.2"],
    "dataprotection": ["4.0.1", "4.1.1", "4.2.1", "4.3.1", "4.4.2"],
}
TYPE_NAMES = re.compile(r"[A-Za-z][\w]*(?:\.[\w]+)+")


def release_dir(namespace: str, version: str) -> pathlib.Path:
    target = MATRIX / f"{namespace}-{version}"
    if not (target / f"ntnx_{namespace}_py_client").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
             f"ntnx-{namespace}-py-client=={version}"],
            check=True,
        )  # fmt: skip
    return target


def dump(namespace: str, version: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(release_dir(namespace, version))}
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sdk_release_dump.py"), namespace],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout)


def handled() -> set[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "extensions"))
    from day2ops_sim import dispatcher  # noqa: F401  (registers the handlers)
    from day2ops_sim.routes.common import HANDLERS

    return set(HANDLERS)


def reachable(roots: list[str], models: dict[str, dict]) -> dict[str, dict]:
    """Every model a root type names, directly or through fields, lists, maps and oneOf options."""
    seen: dict[str, dict] = {}
    todo = list(roots)
    while todo:
        for name in TYPE_NAMES.findall(todo.pop()):
            if name in seen or name not in models:
                continue
            seen[name] = models[name]
            todo.extend(models[name].get("fields", {}).values())
            todo.extend(models[name].get("oneOf", ()))
    return dict(sorted(seen.items()))


def version_table(
    namespace: str, version: str, release: dict, wanted: set[tuple[str, str]], older: dict | None
) -> dict:
    ops = {}
    for op in release["operations"]:
        key = f"{op['method']} {op['path']}"
        if (op["method"], op["path"]) not in wanted:
            continue
        ops[key] = {k: op[k] for k in ("operation", "responseType", "body", "bodyRequired", "query")}
        for option, fields in op["query"].items():
            if fields is None and option in ("$filter", "$orderby", "$select", "$expand"):
                # Not listed by this release: the older segment's list, flagged, since Prism may accept more.
                inherited = ((older or {}).get("operations", {}).get(key) or {}).get("query", {}).get(option)
                ops[key]["query"][option] = inherited
                ops[key].setdefault("inheritedQuery", []).append(option)
    roots = [t for op in ops.values() for t in (op["body"], op["responseType"]) if t]
    return {
        "sdk": f"ntnx-{namespace}-py-client=={version}",
        "operations": ops,
        "models": reachable(roots, release["models"]),
    }


def main() -> None:
    handlers = handled()
    newest = {ns: dump(ns, versions[-1]) for ns, versions in RELEASES.items()}
    routing = [
        {
            "operation": op["operation"],
            "namespace": ns,
            "api": op["api"],
            "method": op["method"],
            "path": op["path"],
            "responseType": op["responseType"],
            "query": sorted(op["query"]),
        }
        for ns, release in newest.items()
        for op in release["operations"]
    ]
    # One SDK call can appear twice (sync and async branches); keep one.
    unique = {(o["namespace"], o["operation"]): o for o in routing}
    (SIM / "sdk_operations.json").write_text(
        json.dumps(
            {
                "sdkVersions": {ns: versions[-1] for ns, versions in RELEASES.items()},
                "operations": sorted(unique.values(), key=lambda o: (o["namespace"], o["path"], o["method"])),
            },
            indent=1,
        )
        + "\n"
    )
    out_dir = SIM / "sdk_versions"
    out_dir.mkdir(exist_ok=True)
    for stale in out_dir.glob("*.json"):
        stale.unlink()
    for ns, versions in RELEASES.items():
        wanted = {(o["method"], o["path"]) for o in unique.values() if (ns, o["operation"]) in handlers}
        older = None
        for version in versions:
            release = newest[ns] if version == versions[-1] else dump(ns, version)
            segments = {op["segment"] for op in release["operations"]}
            segment = "v4." + version.split(".")[1]
            assert segments == {segment}, f"{ns} {version} calls {segments}, expected {segment}"
            table = older = version_table(ns, version, release, wanted, older)
            (out_dir / f"{ns}-{segment}.json").write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
            counts = f"{len(table['operations'])} operations, {len(table['models'])} models"
            print(f"{ns} {segment}: {counts} ({version})")


if __name__ == "__main__":
    main()

"""Regenerate extensions/day2ops_sim/sdk_operations.json from the installed official SDKs.

The simulator anchors every route to an operation of the official `ntnx-*-py-client` SDKs:
path, method and response `$objectType` come from here, never typed by hand. Operations the
simulator does not implement answer 501 naming the SDK call. Run after bumping an SDK:
    .venv/bin/python scripts/gen_sdk_operations.py
"""

import importlib.metadata
import json
import pathlib
import re

SDKS = {
    "vmm": "ntnx_vmm_py_client",
    "prism": "ntnx_prism_py_client",
    "clustermgmt": "ntnx_clustermgmt_py_client",
    "dataprotection": "ntnx_dataprotection_py_client",
}
# One public method's body: never let a match run on into the next `def` (or start at __init__).
CALL = re.compile(
    r"def (?P<op>[a-z][a-z_0-9]*)\(self(?:(?!\n    def ).)*?_call_api\(\s*'(?P<path>/api/[^']+)', "
    r"'(?P<method>[A-Z]+)'(?:(?!\n    def ).)*?response_type='(?P<rtype>[^']+)'",
    re.S,
)
QUERY = re.compile(r"query_params\.append\(\('([^']+)'")


def main() -> None:
    root = pathlib.Path(__file__).resolve().parent.parent
    ops = []
    versions = {}
    for ns, pkg in SDKS.items():
        spec = importlib.util.find_spec(pkg)
        api_dir = pathlib.Path(spec.origin).parent / "api"
        versions[ns] = importlib.metadata.version(pkg.replace("_", "-"))
        for src in sorted(api_dir.glob("*_api.py")):
            for m in CALL.finditer(src.read_text()):
                path = re.sub(r"^/api/([a-z]+)/v4\.\d+/", r"/api/\1/{version}/", m["path"])
                ops.append(
                    {
                        "operation": m["op"],
                        "namespace": ns,
                        "api": src.stem,
                        "method": m["method"],
                        "path": path,
                        "responseType": m["rtype"],
                        "query": sorted(set(QUERY.findall(m.group(0)))),
                    }
                )
    # One SDK call can appear twice (sync and async branches); keep one.
    unique = {(o["namespace"], o["operation"]): o for o in ops}
    out = {
        "sdkVersions": versions,
        "operations": sorted(unique.values(), key=lambda o: (o["namespace"], o["path"], o["method"])),
    }
    target = root / "extensions/day2ops_sim/sdk_operations.json"
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(unique)} operations from {versions} -> {target.relative_to(root)}")


if __name__ == "__main__":
    main()

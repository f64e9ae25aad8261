"""The architecture's rules, checked over the source with `ast`: `python scripts/architecture.py`.

1. Imports: the app and CLI reach the collection only through the facade `day2ops_app/collection.py`;
   the collection reaches the app only from the audit callback, and only the audit store; the
   simulator imports neither (only the CLI, which starts it for the demo, imports the simulator).
2. Prism paths: no v4 path or `$actions` verb outside the namespace helpers (and the simulator).
3. Size: the largest functions (lines) and everything over the limits, outside migrations.

Exits 1 when a rule of 1 or 2, or a limit of 3, is broken.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = "ansible_collections.day2ops.ahv"
FACADE = "extensions/day2ops_app/collection.py"
CALLBACK = "plugins/callback/audit.py"
STORE_PACKAGES = ("day2ops_app.audit", "day2ops_app.db")
NAMESPACE_HELPERS = {
    "plugins/module_utils/_vmm.py",
    "plugins/module_utils/_dataprotection.py",
    "plugins/module_utils/_clustermgmt.py",
    "plugins/module_utils/_prism_config.py",
}
# A v4 resource path ("ahv/config/vms", "config/recovery-points/{0}", "content/templates") or an action verb.
PRISM_PATH = re.compile(r"^(ahv|content|config|management|operations)/[a-z-]|\$actions")
MAX_LINES = 60
MAX_COMPLEXITY = 15
DOC_CONSTANTS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}


def sources():
    for top in ("plugins", "extensions", "scripts"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "__pycache__" in parts or "migrations" in parts:
                continue
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def layer(rel: str) -> str:
    if rel.startswith("plugins/"):
        return "collection"
    for name in ("day2ops_app", "day2ops_cli", "day2ops_sim", "eda"):
        if rel.startswith(f"extensions/{name}/"):
            return name
    return "scripts"


def imported(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "spec_from_file_location":
            where = ast.unparse(node.args[1]) if len(node.args) > 1 else "?"
            yield node.lineno, "importlib:" + where


def target(module: str) -> str | None:
    if module.startswith(COLLECTION) or (module.startswith("importlib:") and "plugins" in module):
        return "collection"
    for name in ("day2ops_app", "day2ops_cli", "day2ops_sim"):
        if module == name or module.startswith(name + "."):
            return name
    return None


def allowed(rel: str, source: str, dest: str, module: str) -> bool:
    if source == dest or dest is None:
        return True
    if source == "day2ops_sim":
        return False
    if dest == "day2ops_sim":  # the CLI starts the simulator for the demo; nothing else runs it in-process
        return source in ("day2ops_cli", "scripts")
    if dest == "collection":
        return rel == FACADE or source in ("eda", "scripts")
    if source == "collection":
        return rel == CALLBACK and module.startswith(STORE_PACKAGES)
    return True


def import_graph(trees):
    edges, broken = defaultdict(set), []
    for rel, tree in trees:
        source = layer(rel)
        for line, module in imported(tree):
            dest = target(module)
            if dest and dest != source:
                edges[(source, dest)].add(rel)
                if not allowed(rel, source, dest, module):
                    broken.append(f"{rel}:{line} imports {module}")
    return edges, broken


def docstring_nodes(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                yield first.value
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in DOC_CONSTANTS for t in node.targets):
            yield node.value


def prism_paths(trees):
    found = []
    for rel, tree in trees:
        if layer(rel) in ("day2ops_sim", "scripts") or rel in NAMESPACE_HELPERS:
            continue
        docs = {id(node) for node in docstring_nodes(tree)}
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and id(node) not in docs else None
            if isinstance(text, str) and PRISM_PATH.search(text):
                found.append(f"{rel}:{node.lineno} {text!r}")
    return found


def complexities():
    """McCabe's number of every function, as ruff's C901 (the linter the project already runs) counts it."""
    command = [
        sys.executable,
        "-m",
        "ruff",
        "check",
        "--select",
        "C901",
        "--config",
        "lint.mccabe.max-complexity=0",
    ]
    command += ["--output-format", "json", "--no-cache", "plugins", "extensions", "scripts"]
    found = json.loads(subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout or "[]")
    return {
        (Path(item["filename"]).relative_to(ROOT).as_posix(), item["location"]["row"]): int(
            re.search(r"\((\d+) > 0\)", item["message"]).group(1)
        )
        for item in found
    }


def functions(trees):
    mccabe, rows = complexities(), []
    for rel, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                rows.append((size, mccabe.get((rel, node.lineno), 1), f"{rel}:{node.lineno} {node.name}"))
    return sorted(rows, reverse=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="how many of the largest functions to list")
    args = parser.parse_args(argv)
    trees = list(sources())

    edges, broken = import_graph(trees)
    print("## Imports between layers (importer -> imported: files)")
    for (source, dest), files in sorted(edges.items()):
        print(f"{source:<12} -> {dest:<12} {', '.join(sorted(files))}")
    paths = prism_paths(trees)
    print(f"\n## Prism v4 paths outside the namespace helpers: {len(paths)}")
    print("\n".join(paths))
    rows = functions(trees)
    over = [r for r in rows if r[0] > MAX_LINES or r[1] > MAX_COMPLEXITY]
    print("\n## Largest functions (lines, complexity)")
    for size, mccabe, name in rows[: args.top]:
        print(f"{size:4d} {mccabe:3d}  {name}")
    print(f"\n## Over {MAX_LINES} lines or complexity {MAX_COMPLEXITY}: {len(over)}")
    print("\n".join(f"{size:4d} {mccabe:3d}  {name}" for size, mccabe, name in over))
    for line in broken:
        print("BROKEN import rule: " + line, file=sys.stderr)
    return 1 if broken or paths or over else 0


if __name__ == "__main__":
    sys.exit(main())

"""Every Prism path and OData expression lives in the collection's module_utils: the app and the EDA source
ask Prism through its named helpers, never with paths and queries of their own."""

import ast
import re
from pathlib import Path

import pytest
from collection_path import REPO

NAMESPACES = ("vmm", "prism", "clustermgmt", "dataprotection")
OUTSIDE = ("extensions/day2ops_app", "extensions/eda")
# A link for people, not a call: the operator may point it at Prism's UI instead.
LINKS = {
    ("extensions/day2ops_app/settings.py", "https://{host}:{port}/api/prism/v4.0/config/tasks/{task_ext_id}")
}

PRISM_URL = re.compile(r"/api/({})/".format("|".join(NAMESPACES)))
NAMESPACE_PATH = re.compile(r"(ahv/config|config|content)/[A-Za-z{}-]+(/.*)?")
QUERY_OPTION = re.compile(r"\$(filter|orderby|select|expand|limit|page)")
ODATA_COMPARISON = re.compile(r"\w+(/\w+)* (eq|ne|gt|ge|lt|le) ")


def docstrings(tree) -> set[int]:
    """ids of the string nodes that are docstrings: prose, not queries."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def offences(text: str, relative: str) -> list[str]:
    """Prism paths and OData in string literals (f-string pieces too, docstrings not), and calls whose first
    argument names a Prism namespace: a raw client call such as client.list("vmm", ...)."""
    tree = ast.parse(text)
    prose = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and first.value in NAMESPACES:
                found.append(f"{relative}:{node.lineno}: a raw client call on namespace {first.value}")
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in prose:
            continue
        value = node.value
        if (relative, value) in LINKS:
            continue
        if PRISM_URL.search(value) or NAMESPACE_PATH.fullmatch(value):
            found.append(f"{relative}:{node.lineno}: Prism path {value!r}")
        elif QUERY_OPTION.fullmatch(value.strip()) or ODATA_COMPARISON.search(value):
            found.append(f"{relative}:{node.lineno}: OData {value!r}")
    return found


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('client.list("vmm", "ahv/config/vms", action="x")', 2),
        ('params = {"$filter": f"key eq {key}"}', 2),
        ('URL = "/api/prism/v4.0/config/tasks"', 1),
        ('def f():\n    """Lists GET /api/prism/v4.0/config/tasks with $filter."""', 0),
        ('Field(None, description="an OData $filter narrowing the list")', 0),
    ],
)
def test_the_scan_catches_paths_queries_and_raw_calls_not_prose(source, caught):
    assert len(offences(source, "x.py")) == caught


def test_the_app_and_the_eda_source_build_no_prism_query_of_their_own():
    found = []
    for top in OUTSIDE:
        for path in sorted((REPO / top).rglob("*.py")):
            found += offences(path.read_text(), str(path.relative_to(REPO)))
    assert not found, "move these into plugins/module_utils helpers:\n" + "\n".join(found)


def test_the_link_allowed_is_still_there():
    """An allowance for a line that went away would hide the next one."""
    for relative, value in LINKS:
        assert value in Path(REPO, relative).read_text()

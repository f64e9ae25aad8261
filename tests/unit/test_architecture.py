"""The layout explains itself only while its rules hold: scripts/architecture.py checks them."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("architecture", ROOT / "scripts" / "architecture.py")
architecture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(architecture)
TREES = list(architecture.sources())


def test_app_reaches_the_collection_through_its_facade_and_only_the_callback_reaches_back():
    edges, broken = architecture.import_graph(TREES)
    assert broken == []
    assert edges[("day2ops_app", "collection")] == {architecture.FACADE}
    assert edges[("collection", "day2ops_app")] == {architecture.CALLBACK}
    assert not [pair for pair in edges if pair[0] == "day2ops_sim"]


def test_no_prism_path_outside_the_namespace_helpers():
    assert architecture.prism_paths(TREES) == []


def test_the_rules_see_a_broken_import_and_a_stray_path():
    stray = architecture.ast.parse(
        "from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient\n"
        "PATH = 'ahv/config/vms/{0}/$actions/power-on'\n"
    )
    _edges, broken = architecture.import_graph([("extensions/day2ops_app/routers/x.py", stray)])
    assert broken == [
        "extensions/day2ops_app/routers/x.py:1 imports "
        + architecture.COLLECTION
        + ".plugins.module_utils._prism"
    ]
    assert architecture.prism_paths([("plugins/modules/x.py", stray)]) == [
        "plugins/modules/x.py:2 'ahv/config/vms/{0}/$actions/power-on'"
    ]


def test_no_function_over_the_limits():
    over = [
        row
        for row in architecture.functions(TREES)
        if row[0] > architecture.MAX_LINES or row[1] > architecture.MAX_COMPLEXITY
    ]
    assert over == []

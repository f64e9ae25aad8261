"""The app's and the CLI's one door into the collection (day2ops.ahv): every name they use from it.

The app reads Prism through the collection's own client, so every HTTP detail of Prism has one place.
Nothing else in day2ops_app or day2ops_cli imports `ansible_collections`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys

from day2ops_app.settings import REPO

COLLECTION = "ansible_collections.day2ops.ahv"


def _register_repository() -> None:
    """An installed collection, or one already on sys.path (the tests put build/test-collections there),
    is imported as it is: one copy of each module, so one ApiError class. Else the package names point
    at this repository, the collection's root: what a collections path would hold, with no link on disk."""
    try:
        if importlib.util.find_spec(COLLECTION) is not None:
            return
    except ModuleNotFoundError:
        pass
    parent = None
    for name, path in (
        ("ansible_collections", []),
        ("ansible_collections.day2ops", []),
        (COLLECTION, [str(REPO)]),
    ):
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = path
            module = sys.modules[name] = importlib.util.module_from_spec(spec)
            if parent is not None:
                setattr(parent, name.rpartition(".")[2], module)
        parent = module


_register_repository()

# ruff: noqa: E402 - the names below resolve only once the collection is registered above.
from ansible_collections.day2ops.ahv.plugins.filter.chargeback import (
    chargeback_csv,
    chargeback_rows,
    trend_svg,
)
from ansible_collections.day2ops.ahv.plugins.filter.placeholders import PLACEHOLDER
from ansible_collections.day2ops.ahv.plugins.module_utils._clustermgmt import is_prism_central, list_clusters
from ansible_collections.day2ops.ahv.plugins.module_utils._doctor import examine
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError, BearerAuth, Transport
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import CategoryIndex, unless_gone
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    of_vm as recovery_points_of_vm,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import (
    list_templates,
    smoke_failed_ext_ids,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import read as read_template
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import versions as template_versions
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import read_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import list_vm_names, list_vms

__all__ = [
    "PLACEHOLDER",
    "ApiError",
    "BearerAuth",
    "CategoryIndex",
    "PrismClient",
    "Transport",
    "chargeback_csv",
    "chargeback_rows",
    "examine",
    "is_prism_central",
    "list_clusters",
    "list_templates",
    "list_vm_names",
    "list_vms",
    "read_template",
    "read_vm",
    "recovery_points_of_vm",
    "smoke_failed_ext_ids",
    "template_versions",
    "trend_svg",
    "unless_gone",
]

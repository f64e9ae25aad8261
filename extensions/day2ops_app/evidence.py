"""The collection's evidence extraction (plugins/module_utils/_evidence.py), shared with the audit
callback so both record the same shape. Loaded from the repository the app runs from."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location(
    "day2ops_app._collection_evidence", REPO / "plugins" / "module_utils" / "_evidence.py"
)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

evidence_from_result = _module.evidence_from_result
task_status = _module.task_status

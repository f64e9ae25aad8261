"""The app's one door into the collection: with no collections path set up, it imports the repository."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
from day2ops_app import collection
from ansible_collections.day2ops.ahv.plugins.module_utils import _http
print(_http.__file__, _http.ApiError is collection.ApiError)
"""


def test_the_facade_imports_the_collection_from_the_repository_it_came_with(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "extensions")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [str(REPO / "plugins" / "module_utils" / "_http.py"), "True"]

"""Official SDK releases other than the venv's, each installed once under build/sdk-matrix/.

Releases share module names, so a set of them is used by putting its directories first on the path
of a separate process: test_sdk_releases.py's probes, and the whole contract suite run with
DAY2OPS_SDK_RELEASES=v4.0 (`make contract` runs it both ways).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from gen_sdk_operations import release_dir as sdk_dir  # noqa: E402  (one installer for both)

RELEASES = {
    # The releases that define the v4.0 segment the collection calls by default.
    "v4.0": {"vmm": "4.0.1", "prism": "4.0.1", "clustermgmt": "4.0.2", "dataprotection": "4.0.1"},
    "v4.1": {"vmm": "4.1.1", "prism": "4.1.1", "clustermgmt": "4.1.1"},
    # What the official Nutanix Ansible collection (nutanix.ncp) pins.
    "nutanix.ncp pins": {"vmm": "4.2.2", "prism": "4.3.1", "clustermgmt": "4.2.2"},
}


def paths(era: str) -> list[str]:
    return [str(sdk_dir(ns, version)) for ns, version in RELEASES[era].items()]

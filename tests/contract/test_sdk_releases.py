"""Older official SDK releases against the simulator: a v4.0-era client, and the releases the
official Nutanix Ansible collection pins (vmm 4.2.x, prism 4.3.x), must all work unchanged."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "sdk-matrix"
RELEASES = {
    "v4.0 era": {"vmm": "4.0.1", "prism": "4.0.1", "clustermgmt": "4.0.2"},
    "v4.1 era": {"vmm": "4.1.1", "prism": "4.1.1", "clustermgmt": "4.1.1"},
    "nutanix.ncp pins": {"vmm": "4.2.2", "prism": "4.3.1", "clustermgmt": "4.2.2"},
}


def sdk_dir(namespace: str, version: str) -> Path:
    """One directory per SDK release, installed once and reused: releases share module names."""
    target = CACHE / f"{namespace}-{version}"
    if not (target / f"ntnx_{namespace}_py_client").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(target),
                f"ntnx-{namespace}-py-client=={version}",
            ],
            check=True,
        )
    return target


@pytest.mark.parametrize("era", list(RELEASES))
def test_older_sdk_releases_parse_everything(sim, era):
    paths = [str(sdk_dir(ns, version)) for ns, version in RELEASES[era].items()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(Path(__file__).parent)])}
    probe = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("sdk_release_probe.py")), str(sim.port)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["vm"].startswith("it-") and result["task"].startswith("ZXJnb24=:")
    assert result["categories"] == 4 and result["cluster"] == "prod-ahv-01"
    assert result["vmm"] == "v4." + RELEASES[era]["vmm"].split(".")[1]  # the old client really ran

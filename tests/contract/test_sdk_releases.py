"""Older official SDK releases against the simulator: a v4.0-era client, and the releases the
official Nutanix Ansible collection pins (vmm 4.2.x, prism 4.3.x), must all work unchanged."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_releases import RELEASES, paths

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("era", list(RELEASES))
def test_older_sdk_releases_parse_everything(sim, era):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths(era), str(Path(__file__).parent)])}
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

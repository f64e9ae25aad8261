"""Harmless stand-ins for a guest's package manager, reboot and application check, run over real SSH.

Every simulated VM is reached through one loopback sshd (the demo's guest gateway, the tests' lab); the
stand-ins tell the simulator which VM they run "inside" (DAY2OPS_SIM_VM, or an argument), and it changes
that VM's guest state exactly as the real command would change the machine.
"""

import stat
import sys
from pathlib import Path

PRELUDE = """#!{python}
import json, os, ssl, sys, urllib.request
SIM = {sim!r}
CONTEXT = ssl.create_default_context(cafile={ca!r})


def guest(vm, action="", method="GET"):
    url = "%s/_sim/guests/%s%s" % (SIM, vm, "/" + action if action else "")
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, context=CONTEXT, timeout=30) as answer:
        return json.load(answer)
"""

SCRIPTS = {
    # apt-get update: nothing; apt-get ... dist-upgrade: one patch level up inside the VM.
    "apt-get": """
args = sys.argv[1:]
hold = os.environ.get("DAY2OPS_STANDIN_HANG")
if hold:
    import time
    while os.path.exists(hold):
        time.sleep(0.2)
    sys.exit("stand-in: the hold was released; giving up without patching")
if "dist-upgrade" in args or "upgrade" in args:
    state = guest(os.environ["DAY2OPS_SIM_VM"], "patch", "POST")
    print("1 upgraded, 0 newly installed, 0 to remove; patch level %d" % state["patch_level"])
else:
    print("Reading package lists... Done")
""",
    # Exit 0 when the last update asked for a reboot, like `test -f /var/run/reboot-required`.
    "reboot-required": """
sys.exit(0 if guest(os.environ["DAY2OPS_SIM_VM"])["reboot_required"] else 1)
""",
    "reboot": """
guest(sys.argv[1], "reboot", "POST")
""",
    "boot-id": """
print(guest(sys.argv[1])["boot_id"])
""",
    # A smoke test from inside the guest: exit 0 when its application answers healthy.
    "app-health": """
try:
    state = guest(sys.argv[1], "health")
except urllib.error.HTTPError as err:
    sys.exit("application unhealthy: %s" % json.loads(err.read()).get("reason", err.reason))
print("application healthy at patch level %d" % state["patch_level"])
""",
}


def write_standins(directory: Path, sim_url: str, ca_path: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    prelude = PRELUDE.format(python=sys.executable, sim=sim_url, ca=str(ca_path))
    for name, body in SCRIPTS.items():
        path = directory / name
        path.write_text(prelude + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory

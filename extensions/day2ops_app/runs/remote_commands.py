"""What the app runs on an execution node over SSH: the run itself, and the kill that cancels it.

Secrets do not ride in runner's stream. ansible-runner writes the whole environment of the playbook into
`artifacts/<id>/command` and hands it back in its `starting` status, and a worker streams its artifacts
back to the app: secrets among runner's envvars would land on the node's disk and again in the app's.
So the first line on the session's stdin carries them, before runner's stream; the node's shell keeps
them in a file of a private temporary directory, and runner's `ansible-playbook` there is a wrapper that
reads them into its environment, deletes the file and execs the real one, as `day2ops-ansible-playbook`
does for a local run. Everything the node needs is POSIX sh, coreutils and ansible-runner.
"""

from __future__ import annotations

import base64
import re
import shlex

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

RUN = r"""set -eu
umask 077
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/day2ops-run.XXXXXXXX")
trap 'rm -rf "$run_dir"' EXIT
trap 'exit 129' HUP
trap 'exit 143' TERM
mkdir "$run_dir/bin" "$run_dir/data"
IFS= read -r secrets
printf '%s' "$secrets" | base64 -d > "$run_dir/secrets"
cat > "$run_dir/bin/ansible-playbook" <<'WRAPPER'
#!/bin/sh
. "$DAY2OPS_SECRETS_FILE"
rm -f "$DAY2OPS_SECRETS_FILE"
unset DAY2OPS_SECRETS_FILE
PATH=${PATH#"${0%/*}:"}
exec ansible-playbook "$@"
WRAPPER
chmod 700 "$run_dir/bin/ansible-playbook"
PATH="$run_dir/bin:$PATH" DAY2OPS_SECRETS_FILE="$run_dir/secrets" \
  "$@" worker --private-data-dir "$run_dir/data"
"""

# Every process of the run carries DAY2OPS_RUN_ID (see processes.py): ansible-core's workers leave
# ansible-playbook's process group, so a group kill would leave a module running on. A worker may fork a
# module while the scan goes on, so it goes again until a scan finds nothing.
KILL = r"""for pass in 1 2 3 4 5 6 7 8 9 10; do
  found=
  for environ in /proc/[0-9]*/environ; do
    if tr '\0' '\n' < "$environ" 2>/dev/null | grep -qxF "DAY2OPS_RUN_ID=$1"; then
      pid=${environ#/proc/}
      kill -KILL "${pid%/environ}" 2>/dev/null && found=1
    fi
  done
  [ -n "$found" ] || exit 0
  sleep 1
done
"""


def run_command(runner: str) -> str:
    """The remote command line: the run script, with `runner` (DAY2OPS_REMOTE_RUNNER) as its "$@"."""
    return " ".join(["sh", "-c", shlex.quote(RUN), "day2ops-run", *map(shlex.quote, shlex.split(runner))])


def kill_command(execution_id: str) -> str:
    return " ".join(["sh", "-c", shlex.quote(KILL), "day2ops-kill", shlex.quote(execution_id)])


def secrets_line(secret_env: dict[str, str]) -> bytes:
    """The run's secrets as the one line the run script reads first: sh `export`s, base64-encoded so a
    value may hold any character, a newline too."""
    for name in secret_env:
        if not ENV_NAME.fullmatch(name):
            raise ValueError(
                f"secret environment variable {name!r} is not a valid name: use [A-Za-z_][A-Za-z0-9_]*"
            )
    script = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in secret_env.items())
    return base64.b64encode(script.encode()) + b"\n"

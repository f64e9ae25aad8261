#!/usr/bin/env bash
# ansible-test sanity on exactly what ships: the built collection artifact, installed under
# <tmp>/ansible_collections/day2ops/ahv. Offline-safe (see get_pip_standin.py).
# Usage: scripts/sanity.sh [VENV_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(cd "${1:-$root/.venv}" && pwd)"
bin="$venv/bin"
py_version="$("$bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
pip_version="$("$bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)"

cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp "$root/scripts/get_pip_standin.py" "$cache/get_pip_${pip_version//./_}.py"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin/ansible-galaxy" collection build --force --output-path "$work/dist" "$root" >/dev/null
"$bin/ansible-galaxy" collection install --force -p "$work" "$work"/dist/day2ops-ahv-*.tar.gz >/dev/null
cd "$work/ansible_collections/day2ops/ahv"
# No git tree here on purpose: ansible-test then checks every file of the artifact.
export PATH="$bin:$PATH"
ANSIBLE_FORCE_COLOR=0 "$bin/ansible-test" sanity --local --requirements --python "$py_version" --color no

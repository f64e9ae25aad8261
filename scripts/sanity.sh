#!/usr/bin/env bash
# ansible-test sanity on exactly what ships, offline and from a clean slate on every run.
#
# Usage: scripts/sanity.sh [VENV_DIR]     VENV_DIR defaults to the repository's .venv; a relative
#                                         path is taken from the current directory.
#   SANITY_RESULTS_DIR=DIR   optional: copy ansible-test's results (JUnit XML...) there.
#
# 1. `ansible-galaxy collection build` the repository, so galaxy.yml's build_ignore applies (the
#    simulator, the app and the pytest suites stay out), and install the artifact into a fresh
#    <tmp>/ansible_collections/<namespace>/<name>: the layout ansible-test requires.
# 2. Put the offline get-pip stand-in (scripts/get_pip_standin.py) where ansible-test looks for
#    its pip bootstrap script, creating ~/.ansible/test/cache if needed.
# 3. Run `ansible-test sanity --local --requirements` with the venv's Python there, then print
#    which tests ran, which failed, which were skipped and why. Exit status: ansible-test's.
set -euo pipefail

me=sanity.sh
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
use_venv "${1:-}" python ansible-galaxy ansible-test
results_dir=${SANITY_RESULTS_DIR:+$(mkdir -p "$SANITY_RESULTS_DIR" && cd "$SANITY_RESULTS_DIR" && pwd)}

# Tests deliberately not run, with the reason (printed in the summary).
# pslint: needs PowerShell (pwsh, not packaged by Debian) and installs PSScriptAnalyzer from the
#   PowerShell Gallery, neither reachable from here; without pwsh ansible-test would skip it anyway,
#   with no more than a warning. The collection drives Prism Central over REST from Linux: it has
#   no PowerShell content. Should a .ps1/.psm1/.psd1 file ever ship, the summary says so loudly.
skip_tests=(pslint)
skip_reasons=("pslint=needs pwsh and the PowerShell Gallery, not reachable offline")

# ansible-test needs X.Y; it runs the tests with this interpreter and builds its sanity venvs from it.
py_version=$("$bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# The pip version ansible-test bootstraps its sanity venvs with, and so the name of the cached
# bootstrap script it looks for (ansible_test/_util/target/setup/requirements.py, bootstrap():
# ~/.ansible/test/cache/get_pip_<version with dots as underscores>.py). Asked from ansible-test
# itself so that an ansible-core upgrade that moves to another pip keeps working.
get_pip_name=$(PY_VERSION=$py_version "$bin/python" - <<'PY'
import os
import pathlib
import types

import ansible_test
from ansible_test._internal.python_requirements import get_venv_packages

setup = pathlib.Path(ansible_test.__file__).parent / "_util" / "target" / "setup" / "requirements.py"
if "~/.ansible/test/cache/get_pip_%s.py" not in setup.read_text():
    raise SystemExit(f"ansible-test no longer caches get-pip where sanity.sh expects: see {setup}")
pip_version = get_venv_packages(types.SimpleNamespace(version=os.environ["PY_VERSION"]))["pip"]
print("get_pip_%s.py" % pip_version.replace(".", "_"))
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
if ! cmp -s "$root/scripts/get_pip_standin.py" "$cache/$get_pip_name"; then
  # Atomic: a concurrent sanity run never sees half a file.
  cp "$root/scripts/get_pip_standin.py" "$cache/$get_pip_name.$$"
  mv -f "$cache/$get_pip_name.$$" "$cache/$get_pip_name"
fi
# ansible-test keys its cached sanity venvs (~/.ansible/test/venv) by their requirements only, so it
# would reuse venvs bootstrapped by any earlier script (an earlier stand-in left setuptools in each,
# which can hide a missing import from the import test). A stamp names the stand-in that built them;
# without the current one they are rebuilt: about a minute, once per change of the stand-in.
venvs=$HOME/.ansible/test/venv
stamp=$venvs/.bootstrapped-by-get-pip-standin-$(sha256sum <"$root/scripts/get_pip_standin.py" | cut -c1-16)
if [[ ! -e $stamp ]]; then
  rm -rf "$venvs"
  mkdir -p "$venvs"
  touch "$stamp"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sanity.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# galaxy.yml has no dependencies today; once it has, sanity needs them beside the collection in
# $work/ansible_collections (installed from local tarballs), or import/validate-modules fail.
install_collection "$work" "$work"

# ansible-test's shellcheck test needs the shellcheck binary and, without it, skips silently.
if [[ -n $(find "$collection" -name '*.sh' -print -quit) ]] && ! command -v shellcheck >/dev/null; then
  die "the collection ships shell scripts but shellcheck is not installed: make system"
fi
powershell=$(find "$collection" \( -name '*.ps1' -o -name '*.psm1' -o -name '*.psd1' \) -printf '%P\n')

# No git repository here, on purpose. ansible-test lists the content to test with `git ls-files`
# when the collection root (or, walking up, any parent) holds .git, and with a plain directory walk
# otherwise. Sanity needs no history (--changed is not used), the artifact is already exactly the
# shipped file set, and a directory walk has no dependence on git: no commit identity to configure,
# no global gitignore (core.excludesFile) that could hide files. ANSIBLE_TEST_CONTENT_ROOT pins the
# content root so that a .git above $work (TMPDIR inside a checkout) cannot be picked up: through it
# git lists a gitignored $work as empty, and ansible-test then says "All targets skipped" and passes.
# ansible-test runs from the venv (PATH) so the sanity venvs are built from its interpreter.
cd "$collection"
status=0
PATH="$bin:$PATH" ANSIBLE_TEST_CONTENT_ROOT=$collection \
  "$bin/ansible-test" sanity --local --requirements --python "$py_version" --color no --junit \
  "${skip_tests[@]/#/--skip-test=}" || status=$?

echo
"$bin/python" "$root/scripts/sanity_report.py" "$collection/tests/output/junit" "${skip_reasons[@]}"
[[ $status -eq 0 ]] || echo "sanity.sh: ansible-test sanity exited with status $status" >&2
if [[ -n $powershell ]]; then
  echo "sanity.sh: WARNING: PowerShell files ship but pslint cannot run here:" >&2
  echo "$powershell" >&2
fi
if [[ -n $results_dir ]]; then
  cp -r "$collection/tests/output/." "$results_dir/"
  rm -rf "$results_dir/.tmp"
fi
exit "$status"

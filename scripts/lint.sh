#!/usr/bin/env bash
# ansible-lint on the collection's roles/ and playbooks/, offline: nothing is fetched from Galaxy.
#
# Usage: scripts/lint.sh [VENV_DIR]     VENV_DIR defaults to the repository's .venv; a relative
#                                       path is taken from the current directory.
#
# The collection is built (`ansible-galaxy collection build`, so build_ignore applies) and installed
# into a temporary ANSIBLE_HOME, which is the only collections path: day2ops.ahv.* modules, plugins
# and roles used by the playbooks resolve to the current working tree without `make collection`, and
# nothing stale from ~/.ansible/collections or ./collections can shadow them. Collections the playbooks
# may need from elsewhere cannot be installed offline: mock them in scripts/ansible-lint.yml.
# Exit status: ansible-lint's (0 clean, 2 violations), or 2 if the setup fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(cd "${1:-$root/.venv}" 2>/dev/null && pwd) || {
  echo "lint.sh: no venv at ${1:-$root/.venv} (make venv)" >&2
  exit 2
}
bin=$venv/bin

die() {
  echo "lint.sh: $*" >&2
  exit 2
}

for tool in ansible-galaxy ansible-lint; do
  [[ -x $bin/$tool ]] || die "$bin/$tool not found: is $venv the project's venv (make venv)?"
done

targets=()
for dir in roles playbooks; do
  [[ -d $root/$dir ]] && targets+=("$dir")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "lint.sh: neither roles/ nor playbooks/ exists: nothing to lint"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/lint.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export ANSIBLE_HOME=$work/home
export ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_HOME/collections
export PATH=$bin:$PATH
export NO_COLOR=1

# From inside $work, so the repository's ansible.cfg does not apply to the build.
(
  cd "$work"
  "$bin/ansible-galaxy" collection build --output-path "$work/dist" "$root" >/dev/null
  "$bin/ansible-galaxy" collection install --offline --no-deps -p "$ANSIBLE_COLLECTIONS_PATH" \
    "$work"/dist/*.tar.gz >/dev/null
) || die "could not build and install the collection from $root"

cd "$root"
"$bin/ansible-lint" --offline --nocolor -c scripts/ansible-lint.yml --project-dir "$root" "${targets[@]}"

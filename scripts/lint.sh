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

me=lint.sh
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
use_venv "${1:-}" python ansible-galaxy ansible-lint

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

mkdir -p "$ANSIBLE_COLLECTIONS_PATH"
install_collection "$ANSIBLE_COLLECTIONS_PATH" "$work"

cd "$root"
"$bin/ansible-lint" --offline --nocolor -c scripts/ansible-lint.yml --project-dir "$root" "${targets[@]}"

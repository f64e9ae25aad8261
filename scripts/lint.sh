#!/usr/bin/env bash
# ansible-lint on the collection's roles and playbooks, offline: nothing is fetched from Galaxy.
# Usage: scripts/lint.sh [VENV_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(cd "${1:-$root/.venv}" && pwd)"
cd "$root"
targets=()
for dir in roles playbooks; do
  if find "$dir" -name '*.yml' -o -name '*.yaml' | grep -q .; then targets+=("$dir"); fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "ansible-lint: no roles or playbooks yet, nothing to lint"
  exit 0
fi
# The collection is linted as installed by `make collection`, so FQCNs resolve offline.
ANSIBLE_COLLECTIONS_PATH="$root/collections" "$venv/bin/ansible-lint" --offline -c scripts/ansible-lint.yml "${targets[@]}"

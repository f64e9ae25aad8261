# shellcheck shell=bash
# Shared by the scripts in this folder (sourced, never run): the venv, errors, and the one way the
# collection is built and installed, so sanity, lint and `make collection` all test what ships.
# The sourcing script sets `me` (its name, for messages) before sourcing.

: "${me:?set me to the script name before sourcing _lib.sh}"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
  echo "$me: $*" >&2
  exit 2
}

# use_venv VENV_ARG TOOL...: set `venv` and `bin`, and check the tools are there.
use_venv() {
  venv=$(cd "${1:-$root/.venv}" 2>/dev/null && pwd) || die "no venv at ${1:-$root/.venv} (make venv)"
  bin=$venv/bin
  shift
  local tool
  for tool in "$@"; do
    [[ -x $bin/$tool ]] || die "$bin/$tool not found: is $venv the project's venv (make venv)?"
  done
}

# install_collection DEST SCRATCH: build the artifact (build_ignore applies) in SCRATCH, a temporary
# directory the caller cleans up, refuse it if it carries files git ignores, and install it into
# the collections path DEST. Sets `collection` to where it landed.
install_collection() {
  local dest=$1 work=$2/build namespace name artifact files leaked
  mkdir -p "$work"
  read -r namespace name < <("$bin/python" - "$root/galaxy.yml" <<'PY'
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    meta = yaml.safe_load(f)
print(meta["namespace"], meta["name"])
PY
)
  [[ -n ${name:-} ]] || die "could not read namespace and name from $root/galaxy.yml"
  # From inside $work, so the repository's ansible.cfg (collections_path=./collections) does not
  # apply; --offline --no-deps: never ask Galaxy for anything.
  (cd "$work" && ANSIBLE_COLLECTIONS_PATH=$work "$bin/ansible-galaxy" collection build \
    --output-path "$work" "$root" >/dev/null) || die "could not build the collection from $root"
  artifact=$(echo "$work/$namespace-$name"-*.tar.gz)
  [[ -f $artifact ]] || die "ansible-galaxy built no $namespace-$name-*.tar.gz"
  files=$(tar -tzf "$artifact" | grep -v '/$' || true)
  echo "$me: artifact $(basename "$artifact"): $(wc -l <<<"$files") files"
  # Files git ignores are local output (./collections from `make collection`, caches...), absent
  # from a clean clone: shipping them makes the artifact, and any test of it, differ from CI's.
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    leaked=$(git -C "$root" check-ignore --stdin <<<"$files" || true)
    if [[ -n $leaked ]]; then
      echo "$leaked" | head -20 >&2
      die "the artifact contains the $(wc -l <<<"$leaked") gitignored file(s) above: add them to galaxy.yml build_ignore"
    fi
  fi
  (cd "$work" && ANSIBLE_COLLECTIONS_PATH=$dest "$bin/ansible-galaxy" collection install --offline --no-deps \
    --force -p "$dest" "$artifact" >/dev/null) || die "could not install $(basename "$artifact") into $dest"
  collection=$dest/ansible_collections/$namespace/$name
  [[ -f $collection/MANIFEST.json ]] || die "the artifact did not install into $collection"
}

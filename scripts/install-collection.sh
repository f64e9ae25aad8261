#!/usr/bin/env bash
# Build the collection as it ships and install it into a collections path (default ./collections).
# Usage: scripts/install-collection.sh [DEST] [VENV_DIR]
set -euo pipefail
me=install-collection.sh
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
use_venv "${2:-}" python ansible-galaxy
dest=${1:-$root/collections}
mkdir -p "$dest"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/collection.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
install_collection "$(cd "$dest" && pwd)" "$scratch"
echo "$me: day2ops.ahv installed in $collection"

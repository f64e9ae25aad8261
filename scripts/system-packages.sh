#!/usr/bin/env bash
# Debian 12 packages the test suite needs on a fresh machine (`make test` runs this first: `make system`).
# Installs only what is missing, with one `apt-get update` first; when everything is already
# installed it is a single dpkg-query and no apt at all. Python comes from pyenv, not from here.
set -euo pipefail

packages=(
  ca-certificates # the system CA bundle pip and the get-pip stand-in use for the package index
  git             # the checkout, changelog tooling
  make            # `make test` is the entry point
  shellcheck      # ansible-test's shellcheck sanity test, and lint of scripts/*.sh
  openssh-client  # the SSH step of safe patching, over real SSH
  openssh-server  # the loopback sshd the tests start themselves
  postgresql      # the audit store tests start a real PostgreSQL server
  chromium        # headless browser tests of the UI (Playwright with executable_path)
  openjdk-17-jre-headless # ansible-rulebook's rule engine (drools_jpy) runs in a Java 17 JVM
  nodejs          # runs the UI's DOM-free modules (ui/static/words.js) in unit tests
  strace          # records every connect() of a `day2ops demo` run: the test that the demo stays on loopback
)

# ${db:Status-Status} is "installed" only for a fully installed package (not for config-files,
# half-installed...). Unknown packages make dpkg-query complain on stderr and exit 1: ignored, they
# are simply missing.
declare -A state=()
while read -r pkg status; do
  state[${pkg%%:*}]=$status
done < <(dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for pkg in "${packages[@]}"; do
  [[ ${state[$pkg]:-} == installed ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "system-packages: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "system-packages: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  }
  sudo=(sudo)
fi

echo "system-packages: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"

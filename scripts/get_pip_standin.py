"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test sanity --requirements bootstraps pip in its virtual environments by downloading
get-pip from a host outside the package registries this project may reach. This script is
placed in ansible-test's cache under the name it looks for, and does the same job: ensurepip,
then pip installs what ansible-test asked for, from the configured package index.
"""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# get-pip's own flags; pip install does not know them.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
extra = ["--cert", cert] if os.path.exists(cert) else []
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *extra, *args])

"""Offline stand-in for the get-pip script that ansible-test bootstraps pip with.

ansible-test (`sanity --requirements`) creates each sanity virtual environment with
`python -m venv --without-pip`, then bootstraps pip in it by running
~/.ansible/test/cache/get_pip_<X_Y_Z>.py (see ansible_test/_util/target/setup/requirements.py,
bootstrap()). When that file is missing it downloads it from a host outside the package
registries this project can reach, and the sanity run fails. scripts/sanity.sh copies this file
there under that name.

Interface, as ansible-test calls it (through its quiet_pip.py wrapper, with runpy, so
sys.executable is the new environment's python):

    python get_pip_X_Y_Z.py --disable-pip-version-check pip==X.Y.Z [pkg==ver ...] --no-setuptools --no-wheel

Like the real get-pip, it leaves pip at the requested version in the environment and installs
setuptools and wheel only when their --no-* flag is absent. The difference is where the first pip
comes from: the interpreter's own ensurepip wheel instead of a copy embedded in the script. The
requested pip then comes from the package index pip is configured with (pip.conf), as every other
package ansible-test installs does.
"""

import importlib.util
import os
import subprocess
import sys

SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def run(args: list[str], capture: bool = False) -> str:
    result = subprocess.run(args, capture_output=capture, text=True, check=False)
    if result.returncode:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"get-pip stand-in: command failed ({result.returncode}): {' '.join(args)}")
    return result.stdout if capture else ""


def main() -> None:
    args = sys.argv[1:]
    no_setuptools = "--no-setuptools" in args or bool(os.environ.get("PIP_NO_SETUPTOOLS"))
    no_wheel = "--no-wheel" in args or bool(os.environ.get("PIP_NO_WHEEL"))
    pip_args = [a for a in args if a not in ("--no-setuptools", "--no-wheel")]
    had = {name: importlib.util.find_spec(name) is not None for name in ("setuptools", "wheel")}

    # A first pip, from the wheel the interpreter ships (no network).
    run([sys.executable, "-m", "ensurepip", "--upgrade"], capture=True)
    pip = [sys.executable, "-m", "pip"]

    # ansible-test runs this with a filtered environment (no PIP_CERT, SSL_CERT_FILE...), and the
    # ensurepip pip trusts only its bundled certifi: give it the system CA bundle unless pip's own
    # configuration already names a certificate bundle.
    cert: list[str] = []
    configured = run([*pip, "config", "list"], capture=True)
    if not any(line.split("=", 1)[0].endswith(".cert") for line in configured.splitlines()):
        bundle = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or SYSTEM_CA_BUNDLE
        if os.path.isfile(bundle):
            cert = ["--cert", bundle]

    extra = [name for name, skip in (("setuptools", no_setuptools), ("wheel", no_wheel)) if not skip]
    run([*pip, "install", "--quiet", "--upgrade", *cert, *pip_args, *extra])

    # ensurepip brings setuptools along on Python < 3.12; get-pip --no-setuptools would not have.
    unwanted = [name for name, skip in (("setuptools", no_setuptools), ("wheel", no_wheel)) if skip]
    unwanted = [name for name in unwanted if not had[name]]
    if unwanted:
        run([*pip, "uninstall", "--quiet", "--yes", *unwanted], capture=True)


if __name__ == "__main__":
    main()

"""Wait until a process the tests started answers over HTTP."""

import subprocess
import time

import requests


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, failure: str) -> None:
    """Return once `url` answers 2xx; fail with `failure` when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, failure
        time.sleep(0.1)

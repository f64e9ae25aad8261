"""A free loopback port for a server about to start, outside the kernel's ephemeral range.

A port from bind(0) comes from the ephemeral range, the same one every outgoing connection takes its
source port from: between picking it and the server binding it, another process's client can take it
(parallel test workers make thousands of connections). Picking at random below that range leaves only
a race with another server picking the same port at the same moment."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10000
RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_start() -> int:
    try:
        return int(RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    below = range(LOWEST, max(LOWEST, _ephemeral_start()))
    for port in random.sample(below, min(200, len(below))):
        if _bindable(host, port):
            return port
    with socket.socket() as s:  # no room below the ephemeral range: whatever the kernel gives
        s.bind((host, 0))
        return s.getsockname()[1]

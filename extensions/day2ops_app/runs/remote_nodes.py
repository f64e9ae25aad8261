"""The execution nodes of run_backend `remote`: which ones there are, which one takes the next run, and the
`ssh` command line that reaches one."""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from pathlib import Path

NODE = re.compile(
    r"(?P<user>[^@\s]+)@(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\s\[\]]+))(?::(?P<port>\d+))?"
)


@dataclass(frozen=True)
class Node:
    user: str
    host: str
    port: int = 22

    @classmethod
    def parse(cls, spec: str) -> Node:
        found = NODE.fullmatch(spec.strip())
        if not found or not 0 < int(found["port"] or 22) < 65536:
            raise ValueError(
                f"DAY2OPS_REMOTE_WORKERS: {spec.strip()!r} is not a node: write user@host:port "
                "(user@[2001:db8::5]:22 for IPv6), several separated by commas"
            )
        return cls(found["user"], found["ipv6"] or found["host"], int(found["port"] or 22))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}:{self.port}"

    def ssh(self, key: Path, known_hosts: Path, command: str) -> list[str]:
        """`ssh` running `command` on this node: our key only, its host key checked against our known_hosts
        only, never a prompt, and a dead connection noticed within a minute."""
        return [
            "ssh",
            *("-p", str(self.port), "-l", self.user, "-i", str(key)),
            *("-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"),
            *("-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"),
            *("-o", "GlobalKnownHostsFile=/dev/null"),
            *("-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"),
            *("-o", "LogLevel=ERROR", "--", self.host, command),
        ]


def nodes_from(workers: str, ssh_key: Path | None, known_hosts: Path | None) -> tuple[Node, ...]:
    """The configured nodes; a ValueError naming the setting to fix when the configuration cannot work."""
    nodes = tuple(Node.parse(spec) for spec in workers.split(",") if spec.strip())
    if not nodes:
        raise ValueError("DAY2OPS_REMOTE_WORKERS is empty: name the execution nodes as user@host:port,...")
    for name, path, what in (
        ("DAY2OPS_REMOTE_SSH_KEY", ssh_key, "the private key the nodes authorize"),
        ("DAY2OPS_REMOTE_KNOWN_HOSTS", known_hosts, "a known_hosts file with every node's host key"),
    ):
        if path is None or not Path(path).is_file():
            raise ValueError(f"{name}={path or ''} is not a file: set it to {what}")
    return nodes


class NodePool:
    """The least busy node of this app instance takes the next run; among equals, the one that waited
    longest, so runs go round the nodes when they are short."""

    def __init__(self, nodes: tuple[Node, ...]):
        self._busy = dict.fromkeys(nodes, 0)
        self._last_used = dict.fromkeys(nodes, 0)
        self._turn = itertools.count(1)
        self._lock = threading.Lock()

    def acquire(self) -> Node:
        with self._lock:
            node = min(self._busy, key=lambda n: (self._busy[n], self._last_used[n]))
            self._busy[node] += 1
            self._last_used[node] = next(self._turn)
            return node

    def release(self, node: Node) -> None:
        with self._lock:
            self._busy[node] -= 1

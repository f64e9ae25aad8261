"""The official SDKs' operations (sdk_operations.json), compiled for matching request paths."""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TABLE = Path(__file__).with_name("sdk_operations.json")


@dataclass(frozen=True)
class Operation:
    name: str
    namespace: str
    method: str
    template: str
    response_type: str
    query: frozenset[str]
    segments: tuple[str, ...]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters when `segments` (already percent-decoded) fit this operation's path."""
        if len(segments) != len(self.segments):
            return None
        params = {}
        for pattern, actual in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                if not actual:
                    return None
                params[pattern[1:-1]] = actual
            elif pattern != actual:
                return None
        return params


@cache
def table() -> dict[tuple[str, str], list[Operation]]:
    """Operations by (method, namespace), literal paths before templated ones."""
    raw = json.loads(_TABLE.read_text())
    out: dict[tuple[str, str], list[Operation]] = {}
    for op in raw["operations"]:
        segments = tuple(op["path"].strip("/").split("/"))
        out.setdefault((op["method"], op["namespace"]), []).append(
            Operation(
                op["operation"],
                op["namespace"],
                op["method"],
                op["path"],
                op["responseType"],
                frozenset(op.get("query", ())),
                segments,
            )
        )
    for ops in out.values():
        # `/vms/{extId}` must not swallow `/vms/$actions/...`-like literal paths of equal length.
        ops.sort(key=lambda o: sum(s.startswith("{") for s in o.segments))
    return out


def find(method: str, namespace: str, segments: list[str]) -> tuple[Operation, dict[str, str]] | None:
    for op in table().get((method, namespace), ()):
        params = op.match(segments)
        if params is not None:
            return op, params
    return None


def sdk_versions() -> dict[str, str]:
    return json.loads(_TABLE.read_text())["sdkVersions"]


def all_operations() -> list[Operation]:
    return [op for ops in table().values() for op in ops]


_VERSION = re.compile(r"^v4\.\d+$")


def is_version(segment: str) -> bool:
    return bool(_VERSION.match(segment))

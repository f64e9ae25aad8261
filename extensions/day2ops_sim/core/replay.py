"""NTNX-Request-Id replay: a repeated mutating call returns the first answer and changes nothing twice.

The SDKs retry POSTs on 408/429/503/504 with the same request id, so without this a retry after
a lost answer would create a second VM. Only successful answers are remembered: a refused call
changed nothing, so repeating it must be evaluated again.
"""

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Recorded:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class ReplayCache:
    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self._seen: OrderedDict[str, Recorded] = OrderedDict()
        self.replayed = 0

    def reset(self) -> None:
        self._seen.clear()
        self.replayed = 0

    def get(self, request_id: str) -> Recorded | None:
        hit = self._seen.get(request_id)
        if hit is not None:
            self._seen.move_to_end(request_id)
            self.replayed += 1
        return hit

    def put(self, request_id: str, recorded: Recorded) -> None:
        self._seen[request_id] = recorded
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)

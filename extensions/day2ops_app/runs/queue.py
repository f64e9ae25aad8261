"""At most N runs at once on one app instance: the others wait as `queued` and start in the order they
came, each when a running one finishes. Without it, every submission starts ansible-playbook at once."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger("day2ops.runs")


class RunQueue:
    def __init__(self, slots: int, start: Callable[[str], bool]):
        """`start(execution_id)` starts a run and says whether it did; a run it started must be reported
        back through `finished`, or its slot stays taken."""
        self.slots = slots
        self._start = start
        self._waiting: deque[str] = deque()
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def offer(self, execution_id: str) -> None:
        with self._lock:
            self._waiting.append(execution_id)
        self._fill()

    def finished(self, execution_id: str) -> None:
        with self._lock:
            self._running.discard(execution_id)
        self._fill()

    def withdraw(self, execution_id: str) -> bool:
        """Take a waiting run out (canceled before it started); False if it is not waiting here."""
        with self._lock:
            if execution_id not in self._waiting:
                return False
            self._waiting.remove(execution_id)
            return True

    def _fill(self) -> None:
        while True:
            with self._lock:
                if not self._waiting or len(self._running) >= self.slots:
                    return
                execution_id = self._waiting.popleft()
                self._running.add(execution_id)
            # Outside the lock: starting touches the store and spawns processes, and a run that ends at
            # once reports `finished` from within.
            try:
                started = self._start(execution_id)
            except Exception:
                log.exception("run %s could not start", execution_id)
                started = False
            if not started:
                with self._lock:
                    self._running.discard(execution_id)

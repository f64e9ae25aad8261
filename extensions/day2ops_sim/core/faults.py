"""Injected trouble: per-route latency and the next N calls to a route failing on purpose.

A rule matches on the SDK operation name (`list_vms`) or on a path glob
(`/api/vmm/*/ahv/config/vms*`), optionally narrowed to one HTTP method.
"""

import asyncio
import fnmatch
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar


@dataclass
class Rule:
    operation: str | None = None
    path: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str, operation: str | None) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.operation and self.operation != operation:
            return False
        return not (self.path and not fnmatch.fnmatchcase(path, self.path))


@dataclass
class Fault(Rule):
    count: int = 1
    status: int = 503
    retry_after: float | None = None
    message: str = "Injected fault"
    # Run the call, then answer with the fault: a lost response, the case request ids exist for.
    after_handler: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}


@dataclass
class Latency(Rule):
    seconds: float = 0.0


# How Prism Central answers a call the account has no permission for: HTTP 403 (HTTP's meaning and
# every v4 client's handling agree), in the v4 error envelope with an AppMessage. How sure: the status
# from one source (HTTP semantics, which the SDKs and our hints follow); the body's code and wording
# from none, so clients must read only the status and the message.
DENIED_MESSAGE = "Access denied: the user is not authorized to perform %s."


def denial(operation: str) -> Fault:
    """A permission the account lacks: every call to the SDK operation answers 403 until lifted."""
    return Fault(operation=operation, count=1, status=403, message=DENIED_MESSAGE % operation)


class FaultPlan:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.faults: list[Fault] = []
        self.latencies: list[Latency] = []
        # Denied operations never run out, unlike `faults`: a missing permission stays missing.
        self.denied: dict[str, Fault] = {}
        self.injected = 0

    def latency(self, method: str, path: str, operation: str | None) -> float:
        return sum(rule.seconds for rule in self.latencies if rule.matches(method, path, operation))

    def take_fault(self, method: str, path: str, operation: str | None) -> Fault | None:
        if operation in self.denied:
            self.injected += 1
            return self.denied[operation]
        for fault in self.faults:
            if fault.count > 0 and fault.matches(method, path, operation):
                fault.count -= 1
                self.injected += 1
                return fault
        return None

    def describe(self) -> dict:
        return {
            "faults": [vars(f) for f in self.faults if f.count > 0],
            "latencies": [vars(rule) for rule in self.latencies],
            "denied": sorted(self.denied),
            "injected": self.injected,
        }


Answer = TypeVar("Answer")


async def inject(
    plan: FaultPlan,
    method: str,
    path: str,
    operation: str | None,
    run: Callable[[], Awaitable[tuple[Answer, bool]]],
    refuse: Callable[[Fault], Answer],
) -> Answer:
    """The one place injected trouble applies, to Prism's calls (matched on operation and path) and to
    vCenter's and Move's (on path): the rules' latency, then a matching fault answers `refuse(fault)`
    instead of the call, or in place of its answer. `run()` makes the call and says whether it took
    effect; only the answer of a call that took effect can be lost."""
    delay = plan.latency(method, path, operation)
    if delay:
        await asyncio.sleep(delay)
    fault = plan.take_fault(method, path, operation)
    if fault is not None and not fault.after_handler:
        return refuse(fault)
    answer, took_effect = await run()
    if fault is not None and took_effect:
        # The call took effect but its answer is "lost": only request-id replay saves a retry.
        return refuse(fault)
    return answer

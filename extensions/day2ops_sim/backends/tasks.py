"""Prism tasks: every asynchronous operation is a task that moves QUEUED -> RUNNING -> a terminal state.

A task's side effect runs when the simulator's clock passes its completion time, so a client
that polls sees the entity change exactly when the task turns SUCCEEDED, as on Prism Central.
Time advances lazily: `tick()` runs at the start of every request and every control call.
"""

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.clock import Clock, rfc3339
from ..core.errors import ApiError
from ..core.ids import IdFactory

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED")
ADMIN = {"extId": "00000000-0000-0000-0000-000000000000", "name": "admin"}


@dataclass
class EntityRef:
    ext_id: str
    rel: str
    name: str | None = None

    def wire(self) -> dict:
        out = {"extId": self.ext_id, "rel": self.rel, "$objectType": "prism.v4.config.EntityReference"}
        if self.name is not None:
            out["name"] = self.name
        return out


# What a task's effect returns: completion details as name -> value (Prism's KVPair list).
Effect = Callable[[], dict[str, str] | None]


@dataclass
class Task:
    ext_id: str
    operation: str
    description: str
    entities: list[EntityRef]
    cluster_ext_ids: list[str]
    created: float
    started: float
    completes: float
    effect: Effect | None
    injected_failure: ApiError | None = None
    status: str = "QUEUED"
    completed: float | None = None
    completion_details: dict[str, str] = field(default_factory=dict)
    errors: list[ApiError] = field(default_factory=list)
    parent: str | None = None
    subtasks: list[str] = field(default_factory=list)

    def progress(self, now: float) -> int:
        if self.status in TERMINAL:
            return 100
        if now < self.started or self.completes <= self.started:
            return 0
        return min(99, int(100 * (now - self.started) / (self.completes - self.started)))

    def live_status(self, now: float) -> str:
        if self.status in TERMINAL:
            return self.status
        return "RUNNING" if now >= self.started else "QUEUED"

    def wire(self, now: float) -> dict:
        status = self.live_status(now)
        last = self.completed if self.completed is not None else max(min(now, self.completes), self.created)
        out = {
            "extId": self.ext_id,
            "operation": self.operation,
            "operationDescription": self.description,
            "createdTime": rfc3339(self.created),
            "lastUpdatedTime": rfc3339(last),
            "status": status,
            "progressPercentage": self.progress(now),
            "entitiesAffected": [e.wire() for e in self.entities],
            "numberOfEntitiesAffected": len(self.entities),
            "subTasks": [
                {"extId": sub, "rel": "subtask", "$objectType": "prism.v4.config.TaskReferenceInternal"}
                for sub in self.subtasks
            ],
            "numberOfSubtasks": len(self.subtasks),
            "isCancelable": False,
            "isBackgroundTask": False,
            "ownedBy": {**ADMIN, "$objectType": "prism.v4.config.OwnerReference"},
            "clusterExtIds": list(self.cluster_ext_ids),
        }
        if self.parent is not None:
            out["parentTask"] = {
                "extId": self.parent,
                "rel": "parent",
                "$objectType": "prism.v4.config.TaskReferenceInternal",
            }
        if status != "QUEUED":
            out["startedTime"] = rfc3339(self.started)
        if self.completed is not None:
            out["completedTime"] = rfc3339(self.completed)
        if self.completion_details:
            out["completionDetails"] = [
                {"name": k, "value": v, "$objectType": "common.v1.config.KVPair"}
                for k, v in self.completion_details.items()
            ]
        if self.errors:
            out["errorMessages"] = [
                {
                    "message": e.message,
                    "code": e.code,
                    "severity": "ERROR",
                    "locale": "en_US",
                    "$objectType": "prism.v4.error.AppMessage",
                }
                for e in self.errors
            ]
            out["legacyErrorMessage"] = "; ".join(e.message for e in self.errors)
        return out


@dataclass
class TaskTiming:
    """How long tasks take: a default, per-operation overrides, and the share spent QUEUED."""

    default_seconds: float = 1.5
    per_operation: dict[str, float] = field(default_factory=dict)
    queued_share: float = 0.1

    def seconds(self, operation: str) -> float:
        return self.per_operation.get(operation, self.default_seconds)


class TaskBackend:
    """Owns every task; other backends submit work here and get a task extId back."""

    def __init__(self, clock: Clock, ids: IdFactory) -> None:
        self.clock = clock
        self.ids = ids
        self.timing = TaskTiming()
        # Other backends' clock-driven housekeeping (expiry), called with the time it must reach:
        # before each task finishes, at its completion time, so a task never acts on what expired first.
        self.sweepers: list[Callable[[float], None]] = []
        self.reset()

    def reset(self) -> None:
        self.tasks: dict[str, Task] = {}
        self._due: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        # operation -> list of pending injected failures (consumed one per task)
        self.fail_next: dict[str, list[ApiError]] = {}
        # operation -> how many of its next tasks name no entity (consumed one per task)
        self.no_entities_next: dict[str, int] = {}

    def submit(
        self,
        operation: str,
        description: str,
        entities: list[EntityRef],
        effect: Effect | None,
        cluster_ext_ids: list[str] | None = None,
        *,
        ext_id: str | None = None,
        parent: str | None = None,
        seconds: float | None = None,
        failure: ApiError | None = None,
    ) -> Task:
        now = self.clock.now()
        duration = max(self.timing.seconds(operation) if seconds is None else seconds, 0.0)
        task = Task(
            ext_id=ext_id or self.ids.task_id(),
            operation=operation,
            description=description,
            entities=entities,
            cluster_ext_ids=cluster_ext_ids or [],
            created=now,
            started=now + duration * self.timing.queued_share,
            completes=now + duration,
            effect=effect,
            injected_failure=failure,
            parent=parent,
        )
        pending = self.fail_next.get(operation)
        if pending and failure is None:
            task.injected_failure = pending.pop(0)
        if self.no_entities_next.get(operation):
            # Injected: a task that succeeds without listing what it made (the entity itself is made).
            self.no_entities_next[operation] -= 1
            task.entities = []
        self.tasks[task.ext_id] = task
        heapq.heappush(self._due, (task.completes, next(self._seq), task.ext_id))
        if duration == 0:
            self.tick()
        return task

    def submit_with_subtasks(
        self,
        operation: str,
        description: str,
        entities: list[EntityRef],
        subtasks: list[tuple[str, str, list[EntityRef], Effect]],
        cluster_ext_ids: list[str] | None = None,
    ) -> Task:
        """A task that runs as subtasks (`(operation, description, entities, effect)` each), as Prism's
        template deploy does: one subtask per VM, the VMs named only in the subtasks' entities.

        The subtasks end with their parent, just before it, and the parent fails when any of them did.
        A failure injected into the parent's operation fails every subtask too, so nothing is half made.
        """
        pending = self.fail_next.get(operation)
        failure = pending.pop(0) if pending else None
        seconds = self.timing.seconds(operation)
        # Reserved first so that each subtask can name its parent; submitted last, so that at the same
        # completion time the subtasks (pushed first) finish first.
        parent_id = self.ids.task_id()
        children = [
            self.submit(
                op, desc, ents, effect, cluster_ext_ids, parent=parent_id, seconds=seconds, failure=failure
            )
            for op, desc, ents, effect in subtasks
        ]

        def effect():
            failed = [c for c in children if c.status != "SUCCEEDED"]
            if failed:
                reasons = "; ".join(e.message for c in failed for e in c.errors)
                raise ApiError(
                    500, f"{len(failed)} of {len(children)} subtask(s) failed: {reasons}", "SIM-50201"
                )
            return None

        task = self.submit(
            operation,
            description,
            entities,
            effect,
            cluster_ext_ids,
            ext_id=parent_id,
            seconds=seconds,
            failure=failure,
        )
        task.subtasks = [c.ext_id for c in children]
        return task

    def tick(self) -> None:
        now = self.clock.now()
        while self._due and self._due[0][0] <= now:
            _, _, ext_id = heapq.heappop(self._due)
            task = self.tasks[ext_id]
            for sweep in self.sweepers:
                sweep(task.completes)
            self._finish(task)
        for sweep in self.sweepers:
            sweep(now)

    def _finish(self, task: Task) -> None:
        task.completed = task.completes
        if task.injected_failure is not None:
            task.status = "FAILED"
            task.errors = [task.injected_failure]
            return
        try:
            details = task.effect() if task.effect else None
        except ApiError as err:
            task.status = "FAILED"
            task.errors = [err]
            return
        task.status = "SUCCEEDED"
        task.completion_details = details or {}

    def get(self, ext_id: str) -> Task | None:
        return self.tasks.get(ext_id)

    def wire_all(self, which: Callable[[Task], bool] | None = None) -> list[dict]:
        """The wire form of every task (or of those `which` picks), in creation order."""
        now = self.clock.now()
        return [t.wire(now) for t in self.tasks.values() if which is None or which(t)]

"""The audit store's tables (SQLAlchemy 2). Request and response schemas live in `schemas.py`.

Rows that are evidence are append-only and hash-chained (see `audit/chain.py`): each such table
names the columns the chain covers in `__chained__`. Mutable conveniences (an execution's current
status, a gate's outcome) are derived from chained rows and checked against them by `verify`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A time read back from the store as UTC: SQLite returns it naive, PostgreSQL aware."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict: JSON, list: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list] = mapped_column(default=list)
    groups: Mapped[list] = mapped_column(default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """Tokens for automation; only their SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # "full", or "read": only GET, HEAD and OPTIONS (a dashboard, a report).
    scope: Mapped[str] = mapped_column(String(16), default="full", server_default="full")


class WebSession(Base):
    """A browser login: the cookie holds a random token, the table its SHA-256 and the CSRF token."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class LoginFailure(Base):
    """One wrong login, counted per user name and per client address (`key`: user:<name>, address:<ip>)."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LoginLockout(Base):
    """Too many wrong logins for a key: every login of it is refused until `locked_until` or an admin lifts
    it. Rows, not a counter column, so concurrent app instances only ever insert."""

    __tablename__ = "login_lockouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    locked_until: Mapped[datetime]


class Execution(Base):
    __tablename__ = "executions"
    __chained__ = ("id", "source", "item_id", "playbook", "operator", "inputs", "schedule_id", "created_at")
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "app" (catalog run), "schedule", or "ansible-playbook" (recorded by the audit callback).
    source: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    playbook: Mapped[str] = mapped_column(String(512))
    operator: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict] = mapped_column(default=dict)  # secrets already redacted
    schedule_id: Mapped[int | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Derived from the chained ExecutionTransitions (status, times, rc); kept here to list and filter
    # cheaply, checked against them by `verify`, and never trusted to start a run.
    status: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rc: Mapped[int | None] = mapped_column(nullable=True)
    # Which app instance drives the run; a restart of that instance marks it interrupted.
    instance_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The run's own token (SHA-256): lets its playbook open approval gates for this execution only.
    run_token_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The run history's order and page cursor (routers/runs.py): newest first, a page at a time.
    __table_args__ = (Index("ix_executions_created_at_id", "created_at", "id"),)


class ExecutionTransition(Base):
    __tablename__ = "execution_transitions"
    __chained__ = ("id", "execution_id", "from_status", "to_status", "actor", "reason", "at")
    # Chained when set: rows written before the column existed keep their hash.
    __chained_if_set__ = ("rc",)
    id: Mapped[int] = mapped_column(primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The exit code, on the transition that ends the run: the execution's rc is derived from it.
    rc: Mapped[int | None] = mapped_column(nullable=True)


class Gate(Base):
    """An approval request: before a run starts (kind "run") or from the approval module in a playbook."""

    __tablename__ = "gates"
    __chained__ = (
        "id",
        "execution_id",
        "kind",
        "name",
        "message",
        "details",
        "reviewers",
        "reviewer_group",
        "required",
        "requested_by",
        "created_at",
        "expires_at",
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(default=dict)
    reviewers: Mapped[list] = mapped_column(default=list)
    reviewer_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    required: Mapped[int] = mapped_column(Integer, default=1)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # pending, approved, rejected, timed_out, canceled: derived from the chained decisions
    # (services/approvals.py); this copy serves listing only and is checked by `verify`.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    __table_args__ = (UniqueConstraint("execution_id", "name", name="uq_gate_execution_name"),)


class Decision(Base):
    __tablename__ = "decisions"
    __chained__ = ("id", "gate_id", "reviewer", "decision", "comment", "decided_at")
    id: Mapped[int] = mapped_column(primary_key=True)
    gate_id: Mapped[str] = mapped_column(ForeignKey("gates.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))  # approve, reject, or "timeout" by the app
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("gate_id", "reviewer", name="uq_decision_gate_reviewer"),)


class Event(Base):
    """One ansible-runner event, redacted; (execution_id, uuid) makes storing it idempotent."""

    __tablename__ = "events"
    __chained__ = ("id", "execution_id", "uuid", "counter", "event", "host", "task", "stdout", "created")
    id: Mapped[int] = mapped_column(primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), index=True)
    uuid: Mapped[str] = mapped_column(String(64))
    counter: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    task: Mapped[str | None] = mapped_column(Text, nullable=True)
    stdout: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[str] = mapped_column(String(40))
    __table_args__ = (
        UniqueConstraint("execution_id", "uuid", name="uq_event_execution_uuid"),
        # A run's events after a counter, in order: what the run page and its stream poll.
        Index("ix_events_execution_id_counter", "execution_id", "counter"),
    )


class Evidence(Base):
    """Per host and task: what Prism (or Move) did, as the module reported it."""

    __tablename__ = "evidence"
    __chained__ = (
        "id",
        "execution_id",
        "host",
        "task",
        "action",
        "status",
        "started_at",
        "ended_at",
        "task_ext_ids",
        "ext_ids",
        "vm_ext_ids",
        "recovery_point_ext_ids",
        "migration",
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), index=True)
    event_uuid: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    task: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # ok, changed, failed, skipped
    started_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ended_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    task_ext_ids: Mapped[list] = mapped_column(default=list)
    ext_ids: Mapped[list] = mapped_column(default=list)
    vm_ext_ids: Mapped[list] = mapped_column(default=list)
    recovery_point_ext_ids: Mapped[list] = mapped_column(default=list)
    migration: Mapped[dict] = mapped_column(default=dict)  # source and target VM ids, plan and workload
    __table_args__ = (UniqueConstraint("execution_id", "event_uuid", name="uq_evidence_execution_event"),)


class Schedule(Base):
    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    item_id: Mapped[str] = mapped_column(String(128))
    inputs: Mapped[dict] = mapped_column(default=dict)
    cron: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    missed: Mapped[str] = mapped_column(String(16), default="skip")  # skip | run_once
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    owner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_fire_at: Mapped[datetime]
    last_fire_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_execution_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class ScheduleFire(Base):
    """The lease on one fire time: the instance whose insert wins starts the run, the others skip."""

    __tablename__ = "schedule_fires"
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    instance_id: Mapped[str] = mapped_column(String(64))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    execution_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    __table_args__ = (UniqueConstraint("schedule_id", "due_at", name="uq_fire_schedule_due"),)


class ScheduleChange(Base):
    """Who edited, deleted or ran a schedule now, and what it became: evidence, so chained."""

    __tablename__ = "schedule_changes"
    __chained__ = ("id", "schedule_id", "schedule_name", "action", "actor", "detail", "execution_id", "at")
    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the record of a deletion outlives the schedule.
    schedule_id: Mapped[int] = mapped_column(Integer, index=True)
    schedule_name: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # edit | delete | run_now
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(default=dict)  # the changed fields, before and after
    execution_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditSeal(Base):
    """`day2ops audit seal` (audit/seal.py): entries written before the chain was keyed, checked by the old
    unkeyed rules and signed with the audit key; who sealed, the legacy head, and what was filled in."""

    __tablename__ = "audit_seals"
    __chained__ = (
        "id",
        "sealed_by",
        "sealed_at",
        "legacy_entries",
        "legacy_head_seq",
        "legacy_head_hash",
        "filled",
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_by: Mapped[str] = mapped_column(String(255))
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)
    legacy_entries: Mapped[int] = mapped_column(Integer)
    # The last legacy entry and its unkeyed hash, as they were before sealing.
    legacy_head_seq: Mapped[int] = mapped_column(Integer)
    legacy_head_hash: Mapped[str] = mapped_column(String(64))
    filled: Mapped[dict] = mapped_column(default=dict)


class ChainEntry(Base):
    """The hash chain over every evidence row, in the order they were written."""

    __tablename__ = "audit_chain"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    # The audit key (audit/keys.py) the entry's HMAC was made with.
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    __table_args__ = (UniqueConstraint("table_name", "row_id", name="uq_chain_row"),)


class ChainHead(Base):
    """One row, locked by each writer, so two app instances never fork the chain."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64))


CHAINED = {
    cls.__tablename__: cls
    for cls in (Execution, ExecutionTransition, Gate, Decision, Event, Evidence, AuditSeal, ScheduleChange)
}

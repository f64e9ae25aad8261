"""Request and response bodies of the API (the tables are in db/tables.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The largest id or counter a BIGINT column (and SQLite's INTEGER) holds: larger ones are not found,
# not a crash.
MAX_ID = 2**63 - 1


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(Out):
    username: str
    roles: list[str]
    groups: list[str]
    csrf_token: str | None = None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    days: int | None = Field(None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    token: str
    expires_at: datetime | None


class UserCreate(BaseModel):
    username: str = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    password: str = Field(min_length=12, max_length=1024)
    roles: list[Literal["operator", "approver", "admin"]] = Field(min_length=1)
    groups: list[str] = []


class UserOut(Out):
    id: int
    username: str
    roles: list[str]
    groups: list[str]
    disabled: bool


class PreviewRequest(BaseModel):
    inputs: dict[str, Any] = {}


class RunCreate(BaseModel):
    item_id: str = Field(max_length=128)
    inputs: dict[str, Any] = {}


class ExecutionOut(Out):
    id: str
    source: str
    item_id: str | None
    playbook: str
    operator: str
    inputs: dict
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rc: int | None
    schedule_id: int | None


class DecisionOut(Out):
    reviewer: str
    decision: str
    comment: str
    decided_at: datetime


class GateOut(Out):
    id: str
    execution_id: str
    kind: str
    name: str
    message: str
    details: dict
    reviewers: list[str]
    reviewer_group: str | None
    required: int
    requested_by: str
    status: str
    created_at: datetime
    expires_at: datetime | None
    decisions: list[DecisionOut] = []


class GateCreate(BaseModel):
    """What the approval module asks for."""

    name: str = Field(min_length=1, max_length=256)
    message: str = Field("", max_length=4000)
    details: dict[str, Any] = {}
    reviewers: list[str] = []
    reviewer_group: str | None = None
    required: int = Field(1, ge=1, le=5)
    timeout_seconds: int = Field(3600, ge=1, le=30 * 86400)


class DecisionCreate(BaseModel):
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=4000)


class EventOut(Out):
    counter: int
    uuid: str
    event: str
    host: str | None
    task: str | None
    stdout: str
    created: str


class EvidenceOut(Out):
    host: str
    task: str
    action: str
    status: str
    started_at: str | None
    ended_at: str | None
    task_ext_ids: list[str]
    ext_ids: list[str]
    vm_ext_ids: list[str]
    recovery_point_ext_ids: list[str]
    migration: dict


class ScheduleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    item_id: str = Field(max_length=128)
    inputs: dict[str, Any] = {}
    cron: str = Field(min_length=1, max_length=128)
    timezone: str = Field("UTC", max_length=64)
    missed: Literal["skip", "run_once"] = "skip"
    enabled: bool = True


class ScheduleUpdate(BaseModel):
    enabled: bool


class ScheduleOut(Out):
    id: int
    name: str
    item_id: str
    inputs: dict
    cron: str
    timezone: str
    missed: str
    enabled: bool
    owner: str
    next_fire_at: datetime
    last_fire_at: datetime | None
    last_execution_id: str | None


class Verification(BaseModel):
    ok: bool
    entries: int
    problems: list[str]

"""Request and response bodies of the API (the tables are in db/tables.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from day2ops_app.services.schedules import local_time
from day2ops_app.storable import WHY, unstorable

# The largest id or counter the store's INTEGER columns hold on PostgreSQL (SQLite's hold more): larger
# ones are not found, not a crash (PostgreSQL refused to compare them: "integer out of range").
MAX_ID = 2**31 - 1


# A name, group or reviewer as the users table spells one (String(64)).
Name = Annotated[str, Field(min_length=1, max_length=64)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Body(BaseModel):
    """A request body. Every one derives from this: no text in it, at any depth, that the store cannot
    hold (a 422 naming the field instead of PostgreSQL's 500)."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value):
        if unstorable(value):
            raise ValueError(WHY)
        return value


class Login(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(Out):
    username: str
    roles: list[str]
    groups: list[str]
    csrf_token: str | None = None


class TokenCreate(Body):
    name: str = Field(min_length=1, max_length=128)
    # Unset: DAY2OPS_TOKEN_DAYS; at most DAY2OPS_TOKEN_MAX_DAYS (checked where the settings are known).
    days: int | None = Field(None, ge=1)
    scope: Literal["full", "read"] = "full"


class TokenInfo(Out):
    """A token as listed: never its secret, which is shown once, when it is created."""

    id: int
    name: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class TokenOut(BaseModel):
    id: int
    name: str
    scope: str
    token: str
    expires_at: datetime | None


class UserCreate(Body):
    username: str = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    password: str = Field(min_length=12, max_length=1024)
    roles: list[Literal["operator", "approver", "admin"]] = Field(min_length=1)
    groups: list[Name] = Field([], max_length=100)


class UserOut(Out):
    id: int
    username: str
    roles: list[str]
    groups: list[str]
    disabled: bool


class UserUpdate(Body):
    disabled: bool


class LockoutOut(BaseModel):
    """A lockout in force: of a user name or of a client address."""

    user: str | None = None
    address: str | None = None
    locked_until: datetime


class PreviewRequest(Body):
    inputs: dict[str, Any] = {}


class RunCreate(Body):
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


class GateCreate(Body):
    """What the approval module asks for."""

    name: str = Field(min_length=1, max_length=256)
    message: str = Field("", max_length=4000)
    details: dict[str, Any] = {}
    reviewers: list[Name] = Field([], max_length=100)
    reviewer_group: Name | None = None
    required: int = Field(1, ge=1, le=5)
    timeout_seconds: int = Field(3600, ge=1, le=30 * 86400)


class DecisionCreate(Body):
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


class ScheduleCreate(Body):
    name: str = Field(min_length=1, max_length=128)
    item_id: str = Field(max_length=128)
    inputs: dict[str, Any] = {}
    cron: str = Field(min_length=1, max_length=128)
    timezone: str = Field("UTC", max_length=64)
    missed: Literal["skip", "run_once"] = "skip"
    enabled: bool = True


class ScheduleUpdate(Body):
    enabled: bool


class ScheduleEdit(Body):
    """What an edit may change; the catalog item stays (a new item is a new schedule)."""

    name: str = Field(min_length=1, max_length=128)
    inputs: dict[str, Any] = {}
    cron: str = Field(min_length=1, max_length=128)
    timezone: str = Field("UTC", max_length=64)
    missed: Literal["skip", "run_once"] = "skip"


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

    @computed_field
    @property
    def next_fire_local(self) -> str:
        """The next fire in the schedule's own zone: "Mon 7 Dec 2026 07:00 CET (Europe/Berlin)"."""
        return local_time(self.next_fire_at, self.timezone)


class ScheduleChangeOut(Out):
    id: int
    schedule_id: int
    schedule_name: str
    action: str
    actor: str
    detail: dict
    execution_id: str | None
    at: datetime


class Verification(BaseModel):
    ok: bool
    entries: int
    problems: list[str]

"""Which engine executes a run. Every backend takes the same RunRequest and reports through the same
RunListener, so events, approvals and the audit store do not depend on where a playbook ran."""

from __future__ import annotations

from collections.abc import Callable

from day2ops_app.runs.adapter import RunHandle, RunListener, RunRequest, start_run
from day2ops_app.runs.awx_backend import awx_starter
from day2ops_app.runs.remote_backend import remote_starter
from day2ops_app.settings import Settings

Starter = Callable[[RunRequest, RunListener], RunHandle]


def starter_for(settings: Settings) -> Starter:
    if settings.run_backend == "local":
        return start_run
    if settings.run_backend == "awx":
        return awx_starter(settings)
    if settings.run_backend == "remote":
        return remote_starter(settings)
    raise ValueError(f"DAY2OPS_RUN_BACKEND={settings.run_backend!r} is not known: use local")

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The day2ops self-service app's gate API, as a playbook the app started calls it back (the
`approval` module). The run authenticates with its own token (DAY2OPS_RUN_TOKEN, a bearer token
valid for that execution only):

  POST /api/runs/{run_id}/gates            open a gate (schemas.GateCreate); the same name in the
                                           same run answers the gate opened first (200, not 201)
  GET  /api/runs/{run_id}/gates/{gate_id}  read it (schemas.GateOut: status and decisions)

Retries and TLS are the shared Transport's; every error is an ApiError.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    BearerAuth,
    Transport,
    connection_options,
)

# What a gate's status can be; only "pending" is still open.
GATE_STATUSES = ("pending", "approved", "rejected", "timed_out", "canceled")
APP_HINT = "check app_url (DAY2OPS_APP_URL) and that the day2ops app is up"


def _message(response):
    """FastAPI's `detail` (a string, or a list of validation errors), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "no body")[:300]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc") or () if p != "body")
                parts.append("%s: %s" % (where, item.get("msg")) if where else str(item.get("msg")))
            else:
                parts.append(str(item))
        return "; ".join(parts) or "no reason given"
    if detail:
        return str(detail)
    return str(body)[:300]


def _hint(status):
    if status == 401:
        return "the run token was refused: the gate API takes only the token the app gave this run"
    if status == 403:
        return "this run's token may not open gates for run_id; check DAY2OPS_RUN_ID"
    if status == 404:
        return "check app_url and run_id (DAY2OPS_RUN_ID): the app knows no such run or gate"
    if status == 409:
        return "the run is no longer running in the app (canceled or finished)"
    if status == 422:
        return "check the gate's options against the module documentation"
    return APP_HINT


class AppClient:
    """One run's view of the app: open and read the approval gates of run `run_id`."""

    def __init__(self, transport, run_id):
        self.transport = transport
        self.run_id = run_id

    @classmethod
    def from_options(cls, options):
        return cls(
            Transport(
                options["app_url"],
                BearerAuth(options["run_token"]),
                ("app_url (DAY2OPS_APP_URL)",),
                **connection_options(options),
            ),
            options["run_id"],
        )

    def _gates_path(self):
        return "/api/runs/%s/gates" % quote(str(self.run_id), safe="")

    def _call(self, method, path, action, body=None):
        response = self.transport.request(method, path, action, body=body)
        if response.status_code >= 300:
            raise ApiError(
                action,
                _message(response),
                response.status_code,
                hint=_hint(response.status_code),
            )
        try:
            gate = response.json()
        except ValueError:
            raise ApiError(
                action, "the app answered %s without JSON" % response.status_code, hint=APP_HINT
            ) from None
        if not isinstance(gate, dict) or not gate.get("id") or gate.get("status") not in GATE_STATUSES:
            raise ApiError(action, "the app's answer is not a gate: %s" % str(gate)[:200], hint=APP_HINT)
        return gate, response.status_code

    def open_gate(
        self, name, reviewers=None, reviewer_group=None, required=1, timeout=3600, message="", details=None
    ):
        """Open the gate `name` of this run, or get the one already open under that name.

        Returns (gate, created): created is False when the run had opened it before (a retried task).
        """
        body = {
            "name": name,
            "message": message or "",
            "details": details or {},
            "reviewers": list(reviewers or []),
            "reviewer_group": reviewer_group,
            "required": required,
            "timeout_seconds": timeout,
        }
        gate, status = self._call("POST", self._gates_path(), "open approval gate '%s'" % name, body=body)
        return gate, status == 201

    def gate(self, gate_id, name=None):
        """The gate as the app has it now: status, and decisions so far."""
        return self._call(
            "GET",
            "%s/%s" % (self._gates_path(), quote(str(gate_id), safe="")),
            "read approval gate '%s'" % (name or gate_id),
        )[0]


def decisions(gate):
    """The gate's decisions in the module's shape, oldest first."""
    return [
        dict(
            reviewer=d.get("reviewer"),
            decision=d.get("decision"),
            comment=d.get("comment") or "",
            decided_at=d.get("decided_at"),
        )
        for d in gate.get("decisions") or []
        if isinstance(d, dict)
    ]

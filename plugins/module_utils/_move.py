# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Every HTTP detail of Nutanix Move REST v2 lives here: the login and its JWT (about 15 minutes;
a 401 in the middle of a long poll logs in again and repeats the call once), the `{"Spec": ...}`
bodies and `MetaData`/`Status` answers, providers, plans, plan actions, readiness, per-VM
workloads and the cutover action. Progress is judged by each workload's `StateString` and the
`Actions` Move offers, never by a bare number: a plan's numeric state 5 means Paused.
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote

from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    TokenAuth,
    Transport,
    error_from,
)

BASE = "/move/v2"
# VmConsoleLink carries the AHV VM's UUID as `.../vm/<uuid>/proxy`.
_CONSOLE_UUID = re.compile(r"vm/([0-9a-fA-F-]{36})/proxy")
HINTS = {
    400: "fix the field named above",
    401: "check move_username and move_password",
    404: "it does not exist (any more) on this Move appliance",
    409: "the plan or VM is in a state that forbids this now",
}


def _path(template, *args):
    return BASE + template % tuple(quote(str(a), safe="") for a in args)


def _failure(action, response):
    """Move's `{"Message", "ErrorCode"}` (either key case) as an ApiError."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error_from(action, response, hints=HINTS)
    return error_from(
        action, response, body.get("Message") or body.get("message"), body.get("ErrorCode") or None, HINTS
    )


def target_ext_id(vm_status):
    """The AHV VM's extId from a workload's VmConsoleLink; None before the target VM exists."""
    match = _CONSOLE_UUID.search(vm_status.get("VmConsoleLink") or "")
    return match.group(1) if match else None


def can_cut_over(vm_status):
    return "CUTOVER" in (vm_status.get("Actions") or [])


class MoveClient(object):
    def __init__(self, transport, username, password, poll_interval=2.0):
        self.transport = transport
        self.username = username
        self.password = password
        self.poll_interval = poll_interval
        self.auth = TokenAuth(transport, self.login, "Authorization", "Bearer ")

    @classmethod
    def from_options(cls, options):
        """Build a client from the move doc fragment's option names."""
        return cls(
            Transport.from_options(options, "move", 443),
            options["move_username"],
            options["move_password"],
        )

    def login(self):
        """A new JWT from the classic login, which every Move 5.x serves."""
        action = "log in to Nutanix Move"
        response = self.transport.request(
            "POST",
            BASE + "/users/login",
            action,
            body={"Spec": {"UserName": self.username, "Password": self.password}},
        )
        if response.status_code >= 300:
            raise _failure(action, response)
        return response.json()["Status"]["Token"]

    def call(self, method, path, action, body=None, params=None):
        response = self.auth.request(method, path, action, params=params, body=body)
        if response.status_code >= 300:
            raise _failure(action, response)
        return response.json() if response.content else {}

    # -- providers --------------------------------------------------------------------------
    def providers(self):
        return (
            self.call("POST", BASE + "/providers/list", "list Move providers", body={}).get("Entities") or []
        )

    def provider_by_name(self, name):
        found = [p for p in self.providers() if p["Spec"]["Name"] == name]
        return found[0] if found else None

    def add_provider(self, spec):
        return self.call(
            "POST", BASE + "/providers", "add Move provider '%s'" % spec["Name"], body={"Spec": spec}
        )

    def delete_provider(self, uuid, name):
        self.call("DELETE", _path("/providers/%s", uuid), "remove Move provider '%s'" % name)

    def source_inventory(self, provider_uuid, query=None, refresh=False):
        body = {"RefreshInventory": refresh}
        if query:
            body["Query"] = query
        return (
            self.call(
                "POST",
                _path("/providers/%s/workloads/list", provider_uuid),
                "list the provider's VMs",
                body=body,
            ).get("Entities")
            or []
        )

    # -- plans ------------------------------------------------------------------------------
    def plans(self):
        return (
            self.call(
                "POST",
                BASE + "/plans/list",
                "list Move plans",
                body={},
                params={"IncludeEntityDetails": "true"},
            ).get("Entities")
            or []
        )

    def plan(self, uuid):
        return self.call("GET", _path("/plans/%s", uuid), "read Move plan '%s'" % uuid)

    def find_plan(self, name=None, uuid=None):
        """A plan by UUID or by exact name; None when there is none."""
        if uuid:
            try:
                return self.plan(uuid)
            except ApiError as err:
                if err.status == 404:
                    return None
                raise
        found = [p for p in self.plans() if p["MetaData"]["Name"] == name]
        return found[0] if found else None

    def require_plan(self, action, name=None, uuid=None, hint=None):
        """find_plan, failing as `action` when there is no such plan."""
        plan = self.find_plan(name=name, uuid=uuid)
        if plan is None:
            raise ApiError("%s Move plan '%s'" % (action, name or uuid), "there is no such plan", hint=hint)
        return plan

    def create_plan(self, spec):
        return self.call("POST", BASE + "/plans", "create Move plan '%s'" % spec["Name"], body={"Spec": spec})

    def delete_plan(self, uuid, name):
        self.call("DELETE", _path("/plans/%s", uuid), "delete Move plan '%s'" % name)

    def plan_action(self, uuid, name, verb):
        """start, suspend, resume or cancel a plan."""
        self.call("POST", _path("/plans/%s/%s", uuid, verb), "%s Move plan '%s'" % (verb, name), body={})

    def readiness(self, uuid, name):
        return (
            self.call(
                "POST",
                _path("/plans/%s/readiness", uuid),
                "check readiness of Move plan '%s'" % name,
                body={},
            ).get("Status")
            or {}
        )

    def workloads(self, uuid, name):
        """Each VM's status: StateString, Actions, progress, ErrorMessage, VmConsoleLink."""
        status = (
            self.call(
                "POST",
                _path("/plans/%s/workloads/list", uuid),
                "read the VMs of Move plan '%s'" % name,
                body={},
            ).get("Status")
            or {}
        )
        return status.get("VMStatus") or []

    def cutover(self, uuid, vm_uuid, vm_name):
        self.call(
            "POST",
            _path("/plans/%s/workloads/%s/action", uuid, vm_uuid),
            "cut over VM '%s'" % vm_name,
            body={"Spec": {"Action": "cutover"}},
        )

    def wait_workloads(self, uuid, name, vm_uuids, done, timeout, what):
        """Poll until `done(status)` holds for every VM in `vm_uuids`; their statuses by UUID.

        A VM that fails (StateString Failed or Cancelled) ends the wait for it; the caller reads
        its ErrorMessage. Polls may outlive a token: `call` logs in again on 401.
        """
        deadline = time.monotonic() + timeout
        wanted = set(vm_uuids)
        while True:
            statuses = self.workloads(uuid, name)
            by_uuid = dict((s["UUID"], s) for s in statuses if s["UUID"] in wanted)
            pending = [
                s
                for s in by_uuid.values()
                if not done(s) and s.get("StateString") not in ("Failed", "Cancelled")
            ]
            if not pending:
                return by_uuid
            if time.monotonic() >= deadline:
                raise ApiError(
                    "wait for %s in Move plan '%s'" % (what, name),
                    "timed out; still waiting: %s"
                    % ", ".join(
                        "%s (%s, %s%%)"
                        % (s.get("Name"), s.get("StateString"), s.get("ProgressPercentage", 0))
                        for s in pending
                    ),
                    hint="raise timeout, or look at the plan in Move: "
                    "a VM stuck in DataSeeding needs attention",
                )
            time.sleep(self.poll_interval)

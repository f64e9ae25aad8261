# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Every HTTP detail of Nutanix Move REST v2 lives here: the login and its JWT (about 15 minutes;
a 401 in the middle of a long poll logs in again and repeats the call once), the `{"Spec": ...}`
bodies and `MetaData`/`Status` answers, providers, the source inventory page by page, plans, guest
preparation, readiness, plan actions, per-VM workloads and the cutover action. Progress is judged
by each workload's `StateString` and the `Actions` Move offers, never by a bare number: a plan's
numeric state 5 means Paused.

Where the public evidence (docs/reference/move-vcenter-api.md) knows more than one answer shape,
every one is read, and an answer in none of them fails naming what came back. Move replays no
request ids, so a mutation whose answer was lost is read back before it is sent again.
"""

from __future__ import annotations

import re
import time
from collections import namedtuple
from functools import partial
from urllib.parse import quote

from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    LoginTokenAuth,
    Transport,
    error_from,
)

BASE = "/move/v2"
# The largest page of a provider's inventory, per one source [L]; how to ask for the next page
# (AfterOffset, a count of VMs to skip) is a reconstruction [R], so a server that ignores it is
# caught (the page repeats) and the VMs still missing are looked up by name.
PAGE = 100
# VmConsoleLink carries the AHV VM's UUID as `.../vm/<uuid>/proxy`.
_CONSOLE_UUID = re.compile(r"vm/([0-9a-fA-F-]{36})/proxy")
# No source names the StateString of a failed or cancelled VM [R]: any state that says so counts.
_FAILED = re.compile(r"fail|error", re.I)
_CANCELLED = re.compile(r"cancel|abort", re.I)
HINTS = {
    400: "fix the field named above",
    401: "check move_username and move_password",
    404: "it does not exist (any more) on this Move appliance",
    409: "the plan or VM is in a state that forbids this now",
}
PLAN_STATE_PREFIX = "MigrationPlanState"
SHAPE_HINT = (
    "day2ops reads the shapes public Move clients read; report this with GET /move/v2/appinfo's version"
)


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


def _first(data, *keys):
    """The first of `keys` that `data` holds (a dotted key reaches into nested objects)."""
    for key in keys:
        value = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, ""):
            return value
    return None


def _seen(answer):
    """What an answer held, for a message: its keys and those of its Status and MetaData."""
    if not isinstance(answer, dict):
        return "a %s" % type(answer).__name__
    parts = ["keys %s" % sorted(answer)]
    for key in ("Status", "MetaData"):
        if isinstance(answer.get(key), dict):
            parts.append("%s keys %s" % (key, sorted(answer[key])))
    return "; ".join(parts)


def plan_state(meta):
    """`InProgress`, `Paused`, `Completed`, ... from a plan's MetaData.StateString, never its number."""
    text = meta.get("StateString") or ""
    return text[len(PLAN_STATE_PREFIX) :] if text.startswith(PLAN_STATE_PREFIX) else text


def target_ext_id(vm_status):
    """The AHV VM's extId from a workload's VmConsoleLink; None before the target VM exists."""
    match = _CONSOLE_UUID.search(vm_status.get("VmConsoleLink") or "")
    return match.group(1) if match else None


def can_cut_over(vm_status):
    return "CUTOVER" in (vm_status.get("Actions") or [])


def vm_failure(vm_status):
    """'failed' or 'cancelled' when the VM's migration ended that way, else None."""
    state = vm_status.get("StateString") or ""
    if _CANCELLED.search(state):
        return "cancelled"
    if _FAILED.search(state):
        return "failed"
    return None


def workload_status(raw, action):
    """One VM of a plan, with the keys the modules read whatever the shape it came in.

    `Status.VMStatus[]` items are flat [C, S2 S3]; `Entities[]` items may carry them under
    `MetaData` [L, S5]. UUID is the workload id of the cutover URL and must be there.
    """
    if not isinstance(raw, dict):
        raise ApiError(action, "a VM of the plan came back as %s" % _seen(raw), hint=SHAPE_HINT)
    flat = dict(raw.get("Status") or {}) if isinstance(raw.get("Status"), dict) else {}
    flat.update(raw.get("MetaData") if isinstance(raw.get("MetaData"), dict) else raw)
    uuid = _first(flat, "UUID", "Uuid", "VMUuid", "VMReference.UUID")
    if not uuid:
        raise ApiError(
            action, "a VM of the plan came back without its UUID: %s" % _seen(raw), hint=SHAPE_HINT
        )
    flat.update(
        UUID=uuid,
        Name=_first(flat, "Name", "VMName", "VMReference.VMName"),
        VMId=_first(flat, "VMId", "VmID", "VMReference.VMID"),
        StateString=_first(flat, "StateString", "State.StateString"),
        Actions=[str(a).upper() for a in flat.get("Actions") or []],
    )
    return flat


def workload_shapes(answer):
    """The known shapes a `plans/{uuid}/workloads/list` answer holds, in the order they are read:
    `Status.VMStatus` [C: S3], `Entities` [L: S5]."""
    if not isinstance(answer, dict):
        return []
    status = answer.get("Status")
    found = ["Status.VMStatus"] if isinstance(status, dict) and "VMStatus" in status else []
    return found + (["Entities"] if "Entities" in answer else [])


def workload_statuses(answer, action):
    """Every VM of `plans/{uuid}/workloads/list`, from the first shape it holds that day2ops knows."""
    shapes = workload_shapes(answer)
    if not shapes:
        raise ApiError(
            action, "Move answered in a shape day2ops does not know (%s)" % _seen(answer), hint=SHAPE_HINT
        )
    items = answer["Status"]["VMStatus"] if shapes[0] == "Status.VMStatus" else answer["Entities"]
    return [workload_status(item, action) for item in items or []]


def plan_record(plan, action):
    """A plan with `MetaData.UUID` and `MetaData.Name`, which every known client reads [C]."""
    meta = plan.get("MetaData") if isinstance(plan, dict) else None
    if not isinstance(meta, dict) or not meta.get("UUID"):
        raise ApiError(action, "a plan came back without MetaData.UUID (%s)" % _seen(plan), hint=SHAPE_HINT)
    meta.setdefault("Name", _first(plan, "Spec.Name"))
    return plan


def provider_record(provider, action):
    """A provider with `Spec.Name` and `Spec.UUID` (its UUID may be only in MetaData)."""
    spec = provider.get("Spec") if isinstance(provider, dict) else None
    uuid = _first(provider, "MetaData.UUID", "Spec.UUID") if isinstance(provider, dict) else None
    if not isinstance(spec, dict) or not uuid:
        raise ApiError(action, "a provider came back as %s" % _seen(provider), hint=SHAPE_HINT)
    spec.setdefault("UUID", uuid)
    provider.setdefault("MetaData", {}).setdefault("UUID", uuid)
    return provider


def _workloads_action(plan_name):
    return "read the VMs of Move plan '%s'" % plan_name


def _guest_result(answer):
    return ((answer.get("Status") or {}).get("Result") or {}) if isinstance(answer, dict) else {}


def preparation_failures(result):
    """Each VM guest preparation failed for, as `{vm, check, message}` like readiness's."""
    return [
        dict(
            vm=_first(item, "VMName", "Name", "UUID", "VMUuid"),
            check="GuestPreparation",
            message=_first(item, "Message", "Status") or "failed",
        )
        for item in result.get("Failed") or []
    ]


class Inventory(namedtuple("Inventory", "vms count")):
    """A provider's VMs as paging read them, and how many Move counted (MetaData.Count; None if absent)."""

    @property
    def complete(self):
        return not isinstance(self.count, int) or len(self.vms) >= self.count


def login(username, password, transport):
    """A new JWT from the classic login, which every Move 5.x serves."""
    action = "log in to Nutanix Move"
    response = transport.request(
        "POST",
        BASE + "/users/login",
        action,
        body={"Spec": {"UserName": username, "Password": password}},
        safe=True,
        authenticate=False,
    )
    if response.status_code >= 300:
        raise _failure(action, response)
    token = _first(response.json(), "Status.Token")
    if not token:
        raise ApiError(action, "no Status.Token in the answer (%s)" % _seen(response.json()), hint=SHAPE_HINT)
    return token


class MoveClient:
    def __init__(self, transport, username, poll_interval=2.0):
        self.transport = transport
        self.username = username
        self.poll_interval = poll_interval

    @classmethod
    def from_options(cls, options):
        """Build a client from the move doc fragment's option names."""
        auth = LoginTokenAuth(
            partial(login, options["move_username"], options["move_password"]), "Authorization", "Bearer "
        )
        return cls(Transport.from_options(options, "move", 443, auth), options["move_username"])

    @property
    def auth(self):
        """The login token: how many logins it took so far."""
        return self.transport.auth

    def call(self, method, path, action, body=None, params=None, safe=False, took_effect=None):
        """One call; its JSON answer. A mutation is sent again only if `took_effect()` (a read-back
        returning what the call would have answered, or None) says the lost attempt did not act."""
        response, effect = self.transport.call(
            method, path, action, took_effect, params=params, body=body, safe=safe
        )
        if response is None:
            return effect
        if response.status_code >= 300:
            raise _failure(action, response)
        return response.json() if response.content else {}

    def _list(self, path, action, body, params=None):
        """A POST that only reads (Move lists by POST): safe to send again."""
        return self.call("POST", path, action, body=body, params=params, safe=True)

    # -- providers --------------------------------------------------------------------------
    def providers(self):
        action = "list Move providers"
        entities = self._list(BASE + "/providers/list", action, {}).get("Entities") or []
        return [provider_record(p, action) for p in entities]

    def provider(self, uuid):
        action = "read Move provider '%s'" % uuid
        return provider_record(self.call("GET", _path("/providers/%s", uuid), action), action)

    def provider_by_name(self, name):
        found = [p for p in self.providers() if p["Spec"].get("Name") == name]
        return found[0] if found else None

    def add_provider(self, spec):
        return self.call(
            "POST",
            BASE + "/providers",
            "add Move provider '%s'" % spec["Name"],
            body={"Spec": spec},
            took_effect=lambda: self.provider_by_name(spec["Name"]),
        )

    def delete_provider(self, uuid, name):
        self.call(
            "DELETE",
            _path("/providers/%s", uuid),
            "remove Move provider '%s'" % name,
            took_effect=lambda: None if self.provider_by_name(name) else {},
        )

    def inventory_page(self, provider_uuid, offset=0, query=None, refresh=False):
        """One page of a provider's VMs, eligible for migration or not [C: ShowVMs all]: Move's default
        leaves out the ineligible ones, which readiness would name with their reason."""
        body = {"ShowVMs": "all", "Limit": PAGE, "SortBy": "VMName", "SortOrderDesc": False}
        if offset:
            body["AfterOffset"] = offset
        if refresh:
            body["RefreshInventory"] = True
        if query:
            body["Query"] = query
        return self._list(
            _path("/providers/%s/workloads/list", provider_uuid), "list the provider's VMs", body
        )

    def source_inventory(self, provider_uuid, query=None, refresh=False):
        """Every VM of a provider, page by page, as an Inventory."""
        vms, seen = [], set()
        while True:
            answer = self.inventory_page(provider_uuid, len(vms), query, refresh and not vms)
            page = answer.get("Entities") or []
            new = [vm for vm in page if vm.get("VMUuid") not in seen]
            seen.update(vm.get("VMUuid") for vm in new)
            vms.extend(new)
            inventory = Inventory(vms, _first(answer, "MetaData.Count"))
            if len(page) < PAGE or not new or inventory.complete:
                return inventory

    # -- plans ------------------------------------------------------------------------------
    def plans(self):
        action = "list Move plans"
        entities = (
            self._list(BASE + "/plans/list", action, {}, params={"IncludeEntityDetails": "true"}).get(
                "Entities"
            )
            or []
        )
        return [plan_record(p, action) for p in entities]

    def plan(self, uuid):
        action = "read Move plan '%s'" % uuid
        return plan_record(self.call("GET", _path("/plans/%s", uuid), action), action)

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
        """The new plan's UUID."""
        action = "create Move plan '%s'" % spec["Name"]
        answer = self.call(
            "POST",
            BASE + "/plans",
            action,
            body={"Spec": spec},
            took_effect=lambda: self.find_plan(spec["Name"]),
        )
        return plan_record(answer, action)["MetaData"]["UUID"]

    def delete_plan(self, uuid, name):
        self.call(
            "DELETE",
            _path("/plans/%s", uuid),
            "delete Move plan '%s'" % name,
            took_effect=lambda: None if self.find_plan(uuid=uuid) else {},
        )

    def plan_action(self, uuid, name, verb, done_when):
        """start, suspend, resume or cancel a plan; a lost answer counts as done once the plan's
        StateString (without MigrationPlanState) is one of `done_when`."""

        def took_effect():
            return {} if plan_state(self.plan(uuid)["MetaData"]) in done_when else None

        self.call(
            "POST",
            _path("/plans/%s/%s", uuid, verb),
            "%s Move plan '%s'" % (verb, name),
            body={},
            took_effect=took_effect,
        )

    def prepare(self, uuid, name, credentials, vms, timeout):
        """Guest preparation with the guests' credentials; the VMs it failed for, as readiness failures.

        Move logs in to each guest to install its agent; the answer lists VMs `Passed` or `Failed`,
        and `InstallationInProgress` while it works, so it is sent again until the work is done, as
        Nutanix's own Calm tasks do [C: S2, S3]. `credentials` is CommonCredentials; `vms` the
        per-VM `{UUID, UserName, Password, GuestPrepMode}`.
        """
        action = "prepare the guests of Move plan '%s'" % name
        body = {"Spec": {"CommonCredentials": credentials, "Region": "", "VMs": vms}}
        deadline = time.monotonic() + timeout
        while True:
            result = _guest_result(
                self.call("POST", _path("/plans/%s/prepare", uuid), action, body=body, safe=True)
            )
            busy = result.get("InstallationInProgress")
            if not busy and (result.get("Passed") is not None or result.get("Failed") is not None):
                return preparation_failures(result)
            if time.monotonic() >= deadline:
                raise ApiError(
                    action,
                    "timed out while Move prepares %s" % (busy or "the guests"),
                    hint="raise prepare_timeout, or look at the guests in Move",
                )
            time.sleep(self.poll_interval)

    def readiness(self, uuid, name):
        return (
            self._list(
                _path("/plans/%s/readiness", uuid), "check readiness of Move plan '%s'" % name, {}
            ).get("Status")
            or {}
        )

    def workloads_answer(self, uuid, name):
        """`plans/{uuid}/workloads/list` as Move answered it, whatever its shape."""
        return self._list(_path("/plans/%s/workloads/list", uuid), _workloads_action(name), {})

    def workloads(self, uuid, name):
        """Each VM's status: UUID, Name, StateString, Actions, progress, ErrorMessage, VmConsoleLink."""
        return workload_statuses(self.workloads_answer(uuid, name), _workloads_action(name))

    def cutover(self, uuid, plan_name, vm_uuid, vm_name):
        """Cut one VM over; a lost answer counts once Move shows the VM's cutover under way."""

        def took_effect():
            now = [s for s in self.workloads(uuid, plan_name) if s["UUID"] == vm_uuid]
            return (
                {}
                if now and not can_cut_over(now[0]) and now[0].get("StateString") != "ReadyToCutover"
                else None
            )

        self.call(
            "POST",
            _path("/plans/%s/workloads/%s/action", uuid, vm_uuid),
            "cut over VM '%s'" % vm_name,
            body={"Spec": {"Action": "cutover"}},
            took_effect=took_effect,
        )

    def wait_workloads(self, uuid, name, vm_uuids, done, timeout, what):
        """Poll until `done(status)` holds for every VM in `vm_uuids`; their statuses by UUID.

        A VM whose migration failed or was cancelled ends the wait for it; the caller reads its
        ErrorMessage. Polls may outlive a token: `call` logs in again on 401.
        """
        deadline = time.monotonic() + timeout
        wanted = set(vm_uuids)
        while True:
            statuses = self.workloads(uuid, name)
            by_uuid = dict((s["UUID"], s) for s in statuses if s["UUID"] in wanted)
            missing = wanted - set(by_uuid)
            if missing:
                raise ApiError(
                    "wait for %s in Move plan '%s'" % (what, name),
                    "Move no longer lists VM(s) %s in the plan" % ", ".join(sorted(missing)),
                    hint="look at the plan in Move",
                )
            pending = [s for s in by_uuid.values() if not done(s) and not vm_failure(s)]
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

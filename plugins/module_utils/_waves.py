# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Migration wave files (schema version 1): every mistake found at once, each named by its path in the
file with the fix; dependency groups in the order they cut over; and where each VM of a wave stands
across the wave's Move plans (`<wave>-1`, `<wave>-2`, ... one per run that had VMs to plan).
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.day2ops.ahv.plugins.module_utils._move import plan_state, vm_failure

# Keys a wave takes, and which of them `defaults` may set for every wave.
SHARED_KEYS = (
    "source_provider",
    "target_provider",
    "target_cluster",
    "target_container",
    "network_mappings",
    "categories",
    "approvers",
    "approvals_required",
    "readiness_policy",
    "failure_policy",
    "readiness_timeout",
    "window",
    "guest_prep_mode",
    "guest_credentials",
)
REQUIRED = ("source_provider", "target_provider", "target_cluster", "network_mappings", "approvers")
POLICIES = {
    "readiness_policy": ("exclude", "stop"),
    "failure_policy": ("pause", "continue"),
    "guest_prep_mode": ("auto", "manual"),
}
DEFAULTS = dict(
    approvals_required=1,
    readiness_policy="exclude",
    failure_policy="pause",
    readiness_timeout=7200,
    guest_prep_mode="auto",
)
GROUP_KEYS = ("name", "vms", "tags", "depends_on", "categories", "guest_credentials")
# A guest password is read from the environment variable a wave file names, never from the file; the
# prefix keeps a wave file from sending the controller's other secrets to Move as a guest password.
PASSWORD_ENV = re.compile(r"^MIGRATION_GUEST_[A-Z0-9_]+$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

# Move's per-VM StateString -> the wave's word for it.
VM_STATE = {
    "Completed": "migrated",
    "ReadyToCutover": "ready",
    "CutoverInProgress": "cutting_over",
    "Failed": "failed",
    "Cancelled": "cancelled",
    "Paused": "paused",
}
# VMs in these states go into the next plan of the wave.
TO_PLAN = ("unplanned", "failed", "cancelled", "rolled_back")
# Plan states (StateString without its prefix) of a plan that holds its VMs no longer.
ENDED = ("Completed", "Failed", "Aborted", "ValidationFailed")


class WaveError(Exception):
    """Every mistake of a wave file, one line each."""

    def __init__(self, errors):
        self.errors = errors
        super(WaveError, self).__init__(
            "the wave file has %d mistake%s:\n- %s"
            % (len(errors), "" if len(errors) == 1 else "s", "\n- ".join(errors))
        )


def _unknown(where, data, allowed, errors):
    for key in sorted(set(data) - set(allowed)):
        errors.append("%s.%s: unknown key; use one of %s" % (where, key, ", ".join(allowed)))


def _names(where, value, errors, what="names"):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append("%s: must be a list of %s, for example [a, b]" % (where, what))
        return []
    seen = set()
    for v in value:
        if v in seen:
            errors.append("%s: '%s' is listed twice" % (where, v))
        seen.add(v)
    return value


def _pairs(where, value, errors, what):
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        errors.append("%s: must map each %s to one value, for example {Department: Finance}" % (where, what))
        return {}
    return value


def _instant(where, value, errors):
    text = str(value or "").strip()
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.append("%s: '%s' is not an ISO 8601 time; write 2026-12-05T22:00:00+01:00" % (where, text))
        return None
    if moment.tzinfo is None:
        errors.append("%s: '%s' has no UTC offset; add one, for example +01:00 or Z" % (where, text))
        return None
    return moment


def _window(where, value, errors):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != set(("start", "end")):
        errors.append("%s: must have exactly start and end, each an ISO 8601 time with an offset" % where)
        return None
    start = _instant(where + ".start", value["start"], errors)
    end = _instant(where + ".end", value["end"], errors)
    if start and end and end <= start:
        errors.append("%s: end %s is not after start %s" % (where, value["end"], value["start"]))
        return None
    return dict(start=start.isoformat(), end=end.isoformat()) if start and end else None


def _mappings(where, value, errors):
    if not isinstance(value, list) or not value:
        errors.append("%s: give at least one {source: <port group>, target: <AHV subnet>}" % where)
        return []
    for i, m in enumerate(value):
        here = "%s[%d]" % (where, i)
        if not isinstance(m, dict):
            errors.append("%s: must be {source: <port group>, target: <AHV subnet>}" % here)
            continue
        _unknown(here, m, ("source", "target", "test"), errors)
        for key in ("source", "target"):
            if not isinstance(m.get(key), str) or not m.get(key):
                what = "port group" if key == "source" else "AHV subnet"
                errors.append("%s.%s: missing; name the %s" % (here, key, what))
    return value


def _account(where, value, errors):
    if not isinstance(value, dict) or set(value) != set(("username", "password_env")):
        errors.append("%s: must be {username: <guest account>, password_env: MIGRATION_GUEST_<NAME>}" % where)
        return None
    if not isinstance(value["username"], str) or not value["username"]:
        errors.append("%s.username: must be the guest account's name" % where)
    if not isinstance(value["password_env"], str) or not PASSWORD_ENV.match(value["password_env"]):
        errors.append(
            "%s.password_env: '%s' is not a variable named MIGRATION_GUEST_<NAME> (capitals, digits, _) "
            "holding the password" % (where, value["password_env"])
        )
    return dict(value)


def _credentials(where, value, errors, per_vm=False):
    """`{linux: <account>, windows: <account>}`, and in a group `vms: {<vm name>: <account>}`."""
    keys = ("linux", "windows", "vms") if per_vm else ("linux", "windows")
    if not isinstance(value, dict) or not value:
        errors.append("%s: must be a mapping with %s" % (where, " and/or ".join(keys)))
        return {}
    _unknown(where, value, keys, errors)
    out = dict(
        (k, _account("%s.%s" % (where, k), value[k], errors)) for k in ("linux", "windows") if k in value
    )
    if "vms" in value:
        if not isinstance(value["vms"], dict):
            errors.append("%s.vms: must map each VM name to its account" % where)
        else:
            out["vms"] = dict(
                (name, _account("%s.vms.%s" % (where, name), account, errors))
                for name, account in value["vms"].items()
            )
    return out


def guest_account(credentials, name, guest_os):
    """The account Move prepares VM `name` with: its own, else its group's for its OS (`credentials`
    is the group's guest_credentials); None when the wave's CommonCredentials apply."""
    own = (credentials.get("vms") or {}).get(name)
    if own:
        return own
    return credentials.get("windows" if str(guest_os).upper().startswith("WINDOWS") else "linux")


def password_envs(wave):
    """Every environment variable the wave reads a guest password from."""
    accounts = list((wave.get("guest_credentials") or {}).values())
    for group in wave["groups"]:
        credentials = group.get("guest_credentials") or {}
        accounts += [credentials.get("linux"), credentials.get("windows")]
        accounts += list((credentials.get("vms") or {}).values())
    return sorted(set(a["password_env"] for a in accounts if a))


def _name(where, value, errors):
    if not isinstance(value, str) or not value:
        errors.append("%s: must be a name" % where)
    return value


def _approvers(where, value, errors):
    approvers = _names(where, value, errors, "app user names")
    if not approvers and isinstance(value, list):
        errors.append("%s: name at least one reviewer" % where)
    return approvers


def _count(where, value, errors):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.append("%s: must be a whole number of at least 1" % where)
    return value


def _choice(where, value, errors, choices):
    if value not in choices:
        errors.append("%s: '%s' is not one of %s" % (where, value, ", ".join(choices)))
    return value


def _settings(where, data, errors):
    """The shared keys of a wave or of `defaults`, checked and normalized; absent keys left out."""
    out = {}
    for key in ("source_provider", "target_provider", "target_cluster", "target_container"):
        if key in data:
            out[key] = _name("%s.%s" % (where, key), data[key], errors)
    if "network_mappings" in data:
        out["network_mappings"] = _mappings(where + ".network_mappings", data["network_mappings"], errors)
    if "categories" in data:
        out["categories"] = _pairs(where + ".categories", data["categories"], errors, "Category key")
    if "approvers" in data:
        out["approvers"] = _approvers(where + ".approvers", data["approvers"], errors)
    for key in ("approvals_required", "readiness_timeout"):
        if key in data:
            out[key] = _count("%s.%s" % (where, key), data[key], errors)
    for key, choices in POLICIES.items():
        if key in data:
            out[key] = _choice("%s.%s" % (where, key), data[key], errors, choices)
    if "window" in data:
        out["window"] = _window(where + ".window", data["window"], errors)
    if "guest_credentials" in data:
        out["guest_credentials"] = _credentials(
            where + ".guest_credentials", data["guest_credentials"], errors
        )
    return out


def _groups(where, value, errors):
    if not isinstance(value, list) or not value:
        errors.append("%s: give at least one group, for example [{name: all, vms: [web-01]}]" % where)
        return []
    groups, names = [], []
    for i, g in enumerate(value):
        here = "%s[%d]" % (where, i)
        if not isinstance(g, dict):
            errors.append("%s: must be a mapping with name and vms or tags" % here)
            continue
        _unknown(here, g, GROUP_KEYS, errors)
        name = g.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            errors.append("%s.name: missing or not a name (letters, digits, . _ -)" % here)
        elif name in names:
            errors.append("%s.name: group '%s' is defined twice" % (here, name))
        names.append(name)
        vms = _names(here + ".vms", g.get("vms"), errors, "VM names")
        tags = _pairs(here + ".tags", g.get("tags"), errors, "vCenter tag category")
        if not vms and not tags and "vms" not in g and "tags" not in g:
            errors.append("%s: select its VMs with vms (names) or tags (vCenter category: tag)" % here)
        groups.append(
            dict(
                name=name,
                vms=vms,
                tags=tags,
                depends_on=_names(here + ".depends_on", g.get("depends_on"), errors, "group names"),
                categories=_pairs(here + ".categories", g.get("categories"), errors, "Category key"),
                guest_credentials=_credentials(
                    here + ".guest_credentials", g["guest_credentials"], errors, per_vm=True
                )
                if "guest_credentials" in g
                else {},
                where=here,
            )
        )
    for g in groups:
        for dep in g["depends_on"]:
            if dep == g["name"]:
                errors.append("%s.depends_on: a group cannot depend on itself" % g["where"])
            elif dep not in names:
                errors.append(
                    "%s.depends_on: '%s' is not a group of this wave (groups: %s)"
                    % (g["where"], dep, ", ".join(str(n) for n in names))
                )
    return groups


def dependency_order(groups, where="groups"):
    """Groups in cut-over order: each after every group it depends on, otherwise in file order."""
    done, ordered, pending = set(), [], list(groups)
    while pending:
        ready = [g for g in pending if all(d in done for d in g["depends_on"])]
        if not ready:
            raise WaveError(
                [
                    "%s: the dependencies of %s form a cycle; remove one depends_on"
                    % (where, ", ".join(sorted(g["name"] for g in pending)))
                ]
            )
        nxt = ready[0]
        ordered.append(nxt)
        done.add(nxt["name"])
        pending.remove(nxt)
    return ordered


def parse(document, wave_name):
    """The wave `wave_name` of a loaded wave file, defaults applied and groups in cut-over order."""
    errors = []
    if not isinstance(document, dict):
        raise WaveError(["the file must be a mapping with version, defaults and waves"])
    _unknown("(top)", document, ("version", "defaults", "waves"), errors)
    if document.get("version", 1) != 1:
        errors.append("version: %s is not supported; this collection reads version 1" % document["version"])
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        errors.append("defaults: must be a mapping of wave settings")
        defaults = {}
    _unknown("defaults", defaults, SHARED_KEYS, errors)
    base = _settings("defaults", defaults, errors)
    waves = document.get("waves")
    if not isinstance(waves, list) or not waves:
        raise WaveError([*errors, "waves: give at least one wave, each with a name and groups"])
    names = [w.get("name") if isinstance(w, dict) else None for w in waves]
    for i, name in enumerate(names):
        if names.index(name) != i and name is not None:
            errors.append("waves[%d].name: wave '%s' is defined twice" % (i, name))
    if wave_name not in names:
        known = ", ".join(str(n) for n in names if n)
        raise WaveError([*errors, "wave '%s' is not in the file; its waves are %s" % (wave_name, known)])
    index = names.index(wave_name)
    where = "waves[%d]" % index
    data = waves[index]
    _unknown(where, data, ("name", *SHARED_KEYS, "groups"), errors)
    if not NAME.match(wave_name):
        errors.append("%s.name: '%s' is not a name (letters, digits, . _ -)" % (where, wave_name))
    wave = dict(DEFAULTS)
    wave.update(base)
    wave.update(_settings(where, data, errors))
    wave["name"] = wave_name
    for key in REQUIRED:
        if key not in wave:
            errors.append("%s.%s: missing; set it on the wave or in defaults" % (where, key))
    approvers = wave.get("approvers") or []
    required = wave.get("approvals_required")
    if approvers and isinstance(required, int) and required > len(approvers):
        errors.append(
            "%s.approvals_required: %d approvals asked of %d approvers; name more approvers or ask fewer"
            % (where, required, len(approvers))
        )
    groups = _groups(where + ".groups", data.get("groups"), errors)
    if wave["guest_prep_mode"] == "auto" and not wave.get("guest_credentials"):
        bare = [g["name"] for g in groups if not g["guest_credentials"]]
        if bare:
            errors.append(
                "%s.guest_credentials: missing, and groups %s set none; Move logs in to the guests to "
                "prepare them (guest_prep_mode auto): set guest_credentials on the wave or in defaults, "
                "or guest_prep_mode: manual" % (where, ", ".join(str(b) for b in bare))
            )
    if errors:
        raise WaveError(errors)
    ordered = dependency_order(groups, where + ".groups")
    wave["groups"] = [dict((k, v) for k, v in g.items() if k != "where") for g in ordered]
    return wave


def in_window(wave, now):
    """True when `now` (aware) falls in the wave's window, or the wave has none."""
    window = wave.get("window")
    if not window:
        return True
    start = datetime.datetime.fromisoformat(window["start"])
    end = datetime.datetime.fromisoformat(window["end"])
    return start <= now <= end


# -- progress across the wave's Move plans ------------------------------------------------------


def plan_index(wave_name, plan_name):
    match = re.match(r"^%s-(\d+)$" % re.escape(wave_name), plan_name or "")
    return int(match.group(1)) if match else None


def _reason(entry):
    """Why a VM is where it is, in a sentence for the audit trail; empty when it is on its way."""
    state = entry["state"]
    if state in ("ready", "migrated"):
        return ""
    if state == "unplanned":
        return "no Move plan of the wave holds it"
    if state == "rolled_back":
        return "an earlier run rolled it back to vCenter"
    if entry["message"]:
        return entry["message"]
    if entry["move_state"] == "ReadyToCutover":
        where = (entry["plan_name"], entry["plan_state"])
        return "ReadyToCutover, but Move offers no CUTOVER (plan %s is %s)" % where
    if entry["progress"] is not None:
        return "still %s at %s%% in plan %s" % (entry["move_state"], entry["progress"], entry["plan_name"])
    return "%s in plan %s" % (entry["move_state"], entry["plan_name"])


def _workload_state(workload, undone):
    """The wave's word for a Move workload's state."""
    state = VM_STATE.get(workload.get("StateString")) or vm_failure(workload) or "seeding"
    if state == "ready" and "CUTOVER" not in (workload.get("Actions") or []):
        # Ready by its state, but Move does not offer the cutover (its plan is paused, say).
        state = "seeding"
    if state == "migrated" and workload.get("target_vm_ext_id") in undone:
        state = "rolled_back"
    return state


def _vm_progress(vm, wave_plans, undone):
    """One VM of the wave with its state in the newest of `wave_plans` (oldest first) holding it."""
    entry = dict(vm, state="unplanned", plan_name=None, plan_uuid=None, workload_uuid=None)
    entry.update(target_vm_ext_id=None, message=None, progress=None, actions=[])
    for plan in wave_plans:
        for w in plan.get("workloads") or []:
            if w.get("VMId") != vm["vm"] and w.get("UUID") != vm["instance_uuid"]:
                continue
            entry.update(
                state=_workload_state(w, undone),
                plan_name=plan["Name"],
                plan_uuid=plan["UUID"],
                plan_state=plan_state(plan),
                workload_uuid=w.get("UUID"),
                move_state=w.get("StateString"),
                target_vm_ext_id=w.get("target_vm_ext_id"),
                message=w.get("ErrorMessage"),
                progress=w.get("ProgressPercentage", w.get("Progress")),
                actions=w.get("Actions") or [],
            )
    entry["reason"] = _reason(entry)
    return entry


def _to_plan(vms):
    """The VMs that go into the next plan, and the live plans to cancel for them.

    Move keeps a VM in one live plan: to try a VM again, the live plan holding it is cancelled, and its
    VMs still waiting for cutover go into the next plan with it.
    """
    retry = set(v["name"] for v in vms if v["state"] in TO_PLAN)
    stale = set(
        v["plan_name"]
        for v in vms
        if v["name"] in retry and v["plan_name"] and v.get("plan_state") not in ENDED
    )
    retry.update(
        v["name"] for v in vms if v["plan_name"] in stale and v["state"] not in ("migrated", "cutting_over")
    )
    return [v["name"] for v in vms if v["name"] in retry], stale


def progress(plans, wave, rolled_back=()):
    """Each VM of the wave with its state in the newest wave plan holding it.

    `plans` are move_plan_info's plans, `wave` is migration_wave_info's result (with resolved VMs),
    `rolled_back` the AHV ext_ids of migrations the wave undid: Move still calls them Completed.
    """
    wave_plans = sorted(
        (p for p in plans if plan_index(wave["name"], p.get("Name")) is not None),
        key=lambda p: plan_index(wave["name"], p["Name"]),
    )
    undone = set(rolled_back or ())
    vms = [_vm_progress(vm, wave_plans, undone) for vm in wave["vms"]]
    by_state = {}
    for entry in vms:
        by_state.setdefault(entry["state"], []).append(entry["name"])
    last = plan_index(wave["name"], wave_plans[-1]["Name"]) if wave_plans else 0
    to_plan, stale = _to_plan(vms)
    waiting = [v for v in vms if v["state"] != "migrated"]
    return dict(
        vms=vms,
        by_state=by_state,
        to_plan=to_plan,
        next_plan_name="%s-%d" % (wave["name"], last + 1),
        stale_plans=sorted(stale),
        paused_plans=sorted(set(v["plan_name"] for v in waiting if v.get("plan_state") == "Paused") - stale),
        running_plans=sorted(set(v["plan_name"] for v in waiting if v.get("plan_state") == "InProgress")),
    )

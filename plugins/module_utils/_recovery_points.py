# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Recovery points (dataprotection v4): expiry from a retention, lookups by name or VM, the
VM recovery point a revert needs, and the summary every recovery point module returns.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from ansible_collections.day2ops.ahv.plugins.module_utils import _dataprotection
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import pick_one, unless_gone
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import parse_time
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote

CONSISTENCY = {"crash_consistent": "CRASH_CONSISTENT", "application_consistent": "APPLICATION_CONSISTENT"}
VSS_TYPE = "dataprotection.v4.common.VssProperties"
IDS_PER_FILTER = 40  # `locationAgnosticId eq ... or ...` clauses per list call, to keep URLs short
AHV_OVERRIDE_TYPE = "dataprotection.v4.config.AhvVmOverrideSpec"
_RETENTION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def wire_time(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def retention_delta(retention):
    """A retention such as 90m, 36h, 14d or 2w as a timedelta; None when it is not one."""
    match = _RETENTION.match(str(retention))
    return timedelta(**{_UNIT[match.group(2)]: int(match.group(1))}) if match else None


def expiration_time(absolute=None, retention=None, now=None, since=None):
    """The expirationTime to send: an RFC 3339 time as given, or `since` (now) + a retention like 14d.

    None when neither is given. A retention counts from the point's creation (`since`), so asking
    again for the same retention of an existing point is no change.
    """
    now = now or datetime.now(timezone.utc)
    if absolute:
        try:
            moment = parse_time(absolute)
        except ValueError:
            raise ApiError(
                "read expiration_time",
                "%r is not an RFC 3339 time" % absolute,
                hint="write it like 2026-12-31T00:00:00Z, or use retention: 14d",
            ) from None
    elif retention:
        delta = retention_delta(retention)
        if delta is None or delta <= timedelta(0):
            raise ApiError(
                "read retention",
                "%r is not a retention" % retention,
                hint="write a whole number and a unit: 90m, 36h, 14d or 2w",
            )
        moment = (since or now) + delta
    else:
        return None
    if moment <= now:
        raise ApiError(
            "set the expiration time",
            "%s is in the past" % wire_time(moment),
            hint="give a future expiration_time, or a retention",
        )
    return wire_time(moment)


def same_time(first, second):
    if not first or not second:
        return first == second
    return parse_time(first) == parse_time(second)


def for_vm_filter(vm_ext_id):
    return "vmRecoveryPoints/any(v:v/vmExtId eq %s)" % odata_quote(vm_ext_id)


def read(client, ext_id):
    """(recovery point, etag)."""
    return _dataprotection.read_recovery_point(client, ext_id)


def act(client, ext_id, label, verb=None, body=None, needed=None):
    """A recovery point action (DELETE when no verb) sent with the point's fresh ETag.

    Returns (the point as read for its ETag, the task ext_id). `needed(point)` may find, on a
    re-read after a 412, that the action is no longer needed: the task ext_id is None then.
    """

    def decide(point):
        if needed is not None and not needed(point):
            return None
        if verb:
            return _dataprotection.recovery_point_action(point["extId"], verb, body)
        return _dataprotection.delete_recovery_point(point["extId"])

    point, _change, task_ext_id = _dataprotection.change_recovery_point(client, ext_id, label, decide)
    return point, task_ext_id


def list_recovery_points(client, odata_filter=None, order_by=None, limit=None, cluster_ext_id=None):
    """Recovery points by OData; with `cluster_ext_id`, only those that live on that cluster.

    Where a point lives (locationReferences) is not filterable, and the X-Cluster-Id header is the
    cluster type (AOS or MST), not a cluster: so the location is checked here, after the list.
    """
    params = {}
    if odata_filter:
        params["$filter"] = odata_filter
    if order_by:
        params["$orderby"] = order_by
    points = _dataprotection.list_recovery_points(client, params, None if cluster_ext_id else limit)
    if cluster_ext_id:
        points = [p for p in points if cluster_ext_id in locations(p)]
    return points[:limit] if limit else points


def of_vm(client, vm_ext_id):
    """The recovery points that hold a VM, newest first."""
    return list_recovery_points(client, for_vm_filter(vm_ext_id), order_by="creationTime desc")


def locations(rp):
    return [loc.get("locationExtId") for loc in rp.get("locationReferences") or []]


def copies_on(client, location_agnostic_ids, cluster_ext_id):
    """{location-agnostic id: [the points with it that live on `cluster_ext_id`]}, 40 ids per list call."""
    ids = list(dict.fromkeys(location_agnostic_ids))
    chunks = [ids[i : i + IDS_PER_FILTER] for i in range(0, len(ids), IDS_PER_FILTER)]
    copies = {}
    for found in client.map(
        lambda chunk: list_recovery_points(
            client,
            " or ".join("locationAgnosticId eq %s" % odata_quote(i) for i in chunk),
            cluster_ext_id=cluster_ext_id,
        ),
        chunks,
    ):
        for rp in found:
            copies.setdefault(rp["locationAgnosticId"], []).append(rp)
    return copies


def replica_mismatch(replica, location_agnostic_id, cluster_ext_id=None):
    """Why `replica` is not the copy expected (on `cluster_ext_id`, when given), or None."""
    if replica.get("locationAgnosticId") != location_agnostic_id:
        return "replica %s is not a copy of the recovery point (locationAgnosticId %s, expected %s)" % (
            replica.get("extId"),
            replica.get("locationAgnosticId"),
            location_agnostic_id,
        )
    if cluster_ext_id and cluster_ext_id not in locations(replica):
        return "replica %s lives on %s, not on cluster %s" % (
            replica.get("extId"),
            ", ".join(locations(replica)) or "no cluster",
            cluster_ext_id,
        )
    return None


def find(client, ext_id=None, name=None, vm_ext_id=None, required=True):
    """The one recovery point an ext_id, or a name (optionally of a VM), designates; None if absent."""
    if ext_id:
        return unless_gone(lambda: read(client, ext_id)[0], required)
    clauses = ["name eq %s" % odata_quote(name)]
    if vm_ext_id:
        clauses.append(for_vm_filter(vm_ext_id))
    matches = list_recovery_points(client, " and ".join(clauses))
    if not matches and not required:
        return None
    return pick_one(
        "recovery point", name, matches, lambda rp: "%s (%s)" % (rp["extId"], rp.get("creationTime"))
    )


def vm_point(rp, vm_ext_id=None):
    """The VM recovery point of `vm_ext_id` in `rp` (or its only one when no VM is named)."""
    points = rp.get("vmRecoveryPoints") or []
    if vm_ext_id:
        points = [p for p in points if p.get("vmExtId") == vm_ext_id]
    if len(points) == 1:
        return points[0]
    label = "recovery point '%s' (%s)" % (rp.get("name"), rp.get("extId"))
    if not points:
        raise ApiError(
            "choose the VM recovery point",
            "%s holds no VM recovery point of VM %s" % (label, vm_ext_id),
            status=404,
            hint="take a recovery point of that VM first, or pick another recovery point",
        )
    raise ApiError(
        "choose the VM recovery point",
        "%s holds %d VMs: %s" % (label, len(points), ", ".join(p.get("vmExtId") for p in points)),
        hint="name the VM with vm_ext_id or vm_name",
    )


def summary(rp):
    """The same keys for every recovery point a module returns; the raw object under recovery_point."""
    points = rp.get("vmRecoveryPoints") or []
    return dict(
        ext_id=rp.get("extId"),
        name=rp.get("name"),
        location_agnostic_id=rp.get("locationAgnosticId"),
        recovery_point_type=rp.get("recoveryPointType"),
        status=rp.get("status"),
        creation_time=rp.get("creationTime"),
        expiration_time=rp.get("expirationTime"),
        location_ext_ids=locations(rp),
        vm_ext_ids=[p.get("vmExtId") for p in points],
        vm_recovery_points=[
            dict(
                ext_id=p.get("extId"),
                vm_ext_id=p.get("vmExtId"),
                name=p.get("name"),
                location_agnostic_id=p.get("locationAgnosticId"),
                vm_categories=p.get("vmCategories") or [],
            )
            for p in points
        ],
        recovery_point=rp,
    )

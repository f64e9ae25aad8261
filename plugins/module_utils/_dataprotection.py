# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The dataprotection namespace of Prism Central v4 (config/recovery-points): every path and $actions
verb of it, the reads and the changes. A function that takes a client makes the call; one that does
not returns the Change to send.
"""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import Change

NAMESPACE = "dataprotection"
RECOVERY_POINTS = "config/recovery-points"
RECOVERY_POINT = RECOVERY_POINTS + "/{0}"
# The verbs of recovery-points/{extId}/$actions/<verb> that day2ops sends.
RECOVERY_POINT_ACTIONS = ("replicate", "restore", "set-expiration-time")


def api_version(client):
    """The dataprotection version this client calls, e.g. v4.0."""
    return client.versions[NAMESPACE]


def read_recovery_point(client, ext_id, action=None):
    """(recovery point, etag)."""
    return client.get(NAMESPACE, RECOVERY_POINT, ext_id, action=action or "read recovery point %s" % ext_id)


def list_recovery_points(client, params=None, limit=None):
    return client.list(NAMESPACE, RECOVERY_POINTS, action="list recovery points", params=params, limit=limit)


def create_recovery_point(client, body, action):
    """The task ext_id."""
    return client.submit("POST", NAMESPACE, RECOVERY_POINTS, action=action, body=body)


def change_recovery_point(client, ext_id, action, decide):
    """`decide(point)` -> Change or None, sent with the point's fresh ETag: (point, change, result)."""
    return client.change_fresh(NAMESPACE, RECOVERY_POINT, ext_id, action=action, decide=decide)


def recovery_point_action(ext_id, verb, body):
    """One of RECOVERY_POINT_ACTIONS on a recovery point."""
    if verb not in RECOVERY_POINT_ACTIONS:
        raise ValueError("recovery points have no $actions verb %r" % verb)
    return Change("POST", NAMESPACE, RECOVERY_POINT + "/$actions/" + verb, (ext_id,), body)


def delete_recovery_point(ext_id):
    return Change("DELETE", NAMESPACE, RECOVERY_POINT, (ext_id,), None)

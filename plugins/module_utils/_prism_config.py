# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The prism namespace of Prism Central v4 (config/categories, config/tasks): every path of it, the
reads and the changes, for the modules, the app, the EDA source and the client's own task waiting.
A function that takes a client makes the call; one that does not returns the Change to send.
"""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import Change, odata_quote

NAMESPACE = "prism"
CATEGORIES = "config/categories"
CATEGORY = CATEGORIES + "/{0}"
TASKS = "config/tasks"
TASK = TASKS + "/{0}"
TASKS_PER_POLL = 40  # task ids per `extId eq ... or ...` filter, to keep URLs well under 4 KiB


# -- Categories ---------------------------------------------------------------------------------


def list_categories(client, params=None, action="list categories"):
    return client.list(NAMESPACE, CATEGORIES, action=action, params=params)


def page_categories(client, params, action="list categories"):
    """One page: (categories, totalAvailableResults)."""
    return client.page(NAMESPACE, CATEGORIES, action=action, params=params)


def read_category(client, ext_id, action=None, params=None):
    """(category, etag)."""
    action = action or "read Category %s" % ext_id
    return client.get(NAMESPACE, CATEGORY, ext_id, action=action, params=params)


def create_category(client, body, action):
    """The Category Prism made (it answers synchronously)."""
    return client.submit("POST", NAMESPACE, CATEGORIES, action=action, body=body)


def change_category(client, ext_id, action, decide):
    """`decide(category)` -> Change or None, sent with its fresh ETag: (category, change, result)."""
    return client.change_fresh(NAMESPACE, CATEGORY, ext_id, action=action, decide=decide)


def update_category(ext_id, body):
    return Change("PUT", NAMESPACE, CATEGORY, (ext_id,), body)


def delete_category(ext_id):
    return Change("DELETE", NAMESPACE, CATEGORY, (ext_id,), None)


# -- tasks --------------------------------------------------------------------------------------


def read_task(client, ext_id, action="read task"):
    data, _etag = client.get(NAMESPACE, TASK, ext_id, action=action)
    return data


def page_tasks(client, params, action="list tasks"):
    """One page: (tasks, totalAvailableResults)."""
    return client.page(NAMESPACE, TASKS, action=action, params=params)


def tasks_by_ext_id(client, ext_ids, action):
    """The current state of many tasks at once: `extId eq ... or ...` list filters, 40 ids per call,
    the calls concurrent. Tasks Prism no longer knows are absent from the answer."""
    ids = list(dict.fromkeys(ext_ids))
    chunks = [ids[i : i + TASKS_PER_POLL] for i in range(0, len(ids), TASKS_PER_POLL)]
    params = [{"$filter": " or ".join("extId eq %s" % odata_quote(i) for i in chunk)} for chunk in chunks]
    found = []
    for items, _total in client.map(
        lambda p: page_tasks(client, dict(p, **{"$limit": 100}), action),
        params,
    ):
        found.extend(items)
    return found


def ended_tasks(client, statuses, operations=(), completed_since=None, newest_first=False, limit=None):
    """Tasks that ended in one of `statuses`, of one of `operations` (any when empty), at or after
    `completed_since` (an RFC 3339 time as Prism wrote it), by completion time; every page, or `limit`."""
    clauses = ["(%s)" % " or ".join("status eq Prism.Config.TaskStatus'%s'" % s for s in statuses)]
    if operations:
        clauses.append("(%s)" % " or ".join("operation eq %s" % odata_quote(op) for op in operations))
    if completed_since:
        clauses.append("completedTime ge %s" % completed_since)
    params = {
        "$filter": " and ".join(clauses),
        "$orderby": "completedTime desc" if newest_first else "completedTime asc",
    }
    return client.list(NAMESPACE, TASKS, action="list the tasks that ended", params=params, limit=limit)


def tasks_url(client):
    """The URL of the task list, as an event names where it came from."""
    return client.transport.base_url + client.path(NAMESPACE, TASKS)

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Every HTTP detail of Prism Central v4 lives here: URL layout and API version per namespace,
the response envelope, error bodies, ETag and If-Match, pagination, and task waiting.
Modules, the inventory plugin and the roles' helpers call these verbs and nothing lower.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    BasicAuth,
    HeaderKeyAuth,
    Transport,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_config import read_task, tasks_by_ext_id

# v4.0 is what every GA Prism Central serves (pc.2024.3 serves nothing newer); newer
# segments are opt-in per namespace through `api_versions`.
DEFAULT_API_VERSIONS = {"vmm": "v4.0", "prism": "v4.0", "clustermgmt": "v4.0", "dataprotection": "v4.0"}
NAMESPACES = tuple(sorted(DEFAULT_API_VERSIONS))
TASK_DONE = frozenset(("SUCCEEDED", "FAILED", "CANCELED"))
PAGE_LIMIT = 100  # the largest $limit Prism accepts

HINTS = {
    400: "fix the field or query option named above",
    401: "check nutanix_username and nutanix_password, or nutanix_api_key",
    403: "the account lacks the Prism Central permission for this operation",
    409: "the entity is in a state that forbids this operation now",
    412: "the entity changed while we were updating it; run the task again",
    428: "the request lacked If-Match; please report this as a day2ops bug",
    429: "Prism Central is throttling requests; lower the concurrency or retry later",
}


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def parse_time(text):
    """An RFC 3339 time as Prism writes it (any fraction, Z or an offset) as an aware datetime."""
    match = _RFC3339.match(text or "")
    if not match:
        raise ValueError("not an RFC 3339 time: %r" % text)
    moment = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    if match.group(2):
        moment += timedelta(seconds=float(match.group(2)))
    zone = match.group(3) or "Z"
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment


def version_minor(version):
    """4 for `v4.4`: segments compare by their minor number."""
    return int(version.split(".")[1])


def _is_version(value):
    parts = value.split(".") if isinstance(value, str) else []
    return len(parts) >= 2 and parts[0] == "v4" and parts[1].isdigit()


class PrismClient:
    """Prism Central v4 over one Transport; every call names its `action` for error messages."""

    def __init__(self, transport, api_versions=None, concurrency=8):
        self.transport = transport
        self.concurrency = max(1, int(concurrency))
        self.versions = dict(DEFAULT_API_VERSIONS)
        for namespace, version in (api_versions or {}).items():
            if namespace not in DEFAULT_API_VERSIONS:
                raise ApiError(
                    "configure the Prism client",
                    "api_versions names an unknown namespace '%s'" % namespace,
                    hint="use one of %s" % ", ".join(NAMESPACES),
                )
            if not _is_version(version):
                raise ApiError(
                    "configure the Prism client",
                    "api_versions.%s is '%s', not a v4 version segment" % (namespace, version),
                    hint="write it as Prism does in URLs, for example v4.0 or v4.1",
                )
            self.versions[namespace] = version

    @classmethod
    def from_options(cls, options):
        """Build a client from the shared connection options (the doc fragment's names)."""
        if not options.get("nutanix_api_key") and not options.get("nutanix_username"):
            raise ApiError(
                "connect to Prism Central",
                "no credentials were given",
                hint="set nutanix_username and nutanix_password (or NUTANIX_USERNAME/NUTANIX_PASSWORD), "
                "or nutanix_api_key",
            )
        if options.get("nutanix_api_key"):
            auth = HeaderKeyAuth("X-ntnx-api-key", options["nutanix_api_key"])
        else:
            auth = BasicAuth(options["nutanix_username"], options.get("nutanix_password"))
        transport = Transport.from_options(
            options,
            "nutanix",
            9440,
            auth,
            max_retries=options.get("max_retries", 5),
            pool_size=options.get("concurrency") or 8,
            replays_request_id=True,
        )
        return cls(transport, options.get("api_versions"), options.get("concurrency") or 8)

    # -- URLs and raw calls -------------------------------------------------------------

    def path(self, namespace, template, *args):
        """`/api/<ns>/<version>/<template>` with every argument quoted, never concatenated raw."""
        quoted = tuple(quote(str(arg), safe="") for arg in args)
        return "/api/%s/%s/%s" % (namespace, self.versions[namespace], template.format(*quoted))

    def call(self, method, namespace, template, *args, **kwargs):
        """One call; returns (envelope or None, response). Raises ApiError for any non-2xx."""
        action = kwargs.pop("action")
        if_match = kwargs.pop("if_match", None)
        headers = {"If-Match": if_match} if if_match else None
        response = self.transport.request(
            method,
            self.path(namespace, template, *args),
            action,
            params=kwargs.pop("params", None),
            body=kwargs.pop("body", None),
            headers=headers,
        )
        if response.status_code >= 300:
            raise self._error(response, namespace, action)
        if response.status_code == 204 or not response.content:
            return None, response
        try:
            return response.json(), response
        except ValueError:
            raise ApiError(
                action,
                "the answer was not JSON (%s)" % response.headers.get("Content-Type", "no content type"),
                status=response.status_code,
                hint="check that nutanix_host points at Prism Central",
            ) from None

    def _error(self, response, namespace, action):
        request_id = response.request.headers.get("NTNX-Request-Id") if response.request else None
        code, message, enveloped = _error_text(response)
        hint = HINTS.get(response.status_code)
        if response.status_code == 404:
            if enveloped:
                hint = "check the ext_id or name; the entity may have been deleted"
            else:
                hint = (
                    "this Prism Central does not serve the %s API %s; set api_versions: {%s: <a version it "
                    "serves>} (v4.0 is served by every GA release)"
                    % (namespace, self.versions[namespace], namespace)
                )
        elif response.status_code >= 500:
            hint = "Prism Central failed to answer; check its health and retry"
        return ApiError(action, message, response.status_code, code, request_id, hint)

    # -- reads ------------------------------------------------------------------------------

    def get(self, namespace, template, *args, **kwargs):
        """One entity: (data, etag)."""
        body, response = self.call("GET", namespace, template, *args, **kwargs)
        etag = response.headers.get("ETag") or response.headers.get("X-Ntnx-Etag")
        return (body or {}).get("data"), etag

    def page(self, namespace, template, *args, **kwargs):
        """One page of a list: (items, totalAvailableResults)."""
        body, _response = self.call("GET", namespace, template, *args, **kwargs)
        body = body or {}
        items = body.get("data") or []
        total = (body.get("metadata") or {}).get("totalAvailableResults")
        return items, len(items) if total is None else total

    def list(self, namespace, template, *args, **kwargs):
        """Every item (or the first `limit`): page 0, then the other pages concurrently.

        Items are deduplicated by extId, since a list can shift while it is being paged.
        """
        limit = kwargs.pop("limit", None)
        params = dict(kwargs.pop("params", None) or {})
        size = min(PAGE_LIMIT, limit) if limit else PAGE_LIMIT

        def fetch(number):
            page_params = dict(params, **{"$page": number, "$limit": size})
            return self.page(namespace, template, *args, params=page_params, **kwargs)

        items, total = fetch(0)
        wanted = min(total, limit) if limit else total
        pages = math.ceil(wanted / float(size)) if size else 1
        if pages > 1:
            for more, _total in self.map(fetch, range(1, pages)):
                items.extend(more)
        seen, unique = set(), []
        for item in items:
            key = item.get("extId") if isinstance(item, dict) else None
            if key is None or key not in seen:
                seen.add(key)
                unique.append(item)
        return unique[:limit] if limit else unique

    def map(self, fn, items):
        """fn over items, at most `concurrency` at a time, results in order."""
        items = list(items)
        if len(items) <= 1 or self.concurrency == 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    # -- writes -----------------------------------------------------------------------------

    def submit(self, method, namespace, template, *args, **kwargs):
        """A mutation. Returns the task ext_id of a 202, else the `data` of a synchronous answer."""
        body, response = self.call(method, namespace, template, *args, **kwargs)
        data = (body or {}).get("data")
        if response.status_code == 202:
            if not isinstance(data, dict) or not data.get("extId"):
                raise ApiError(kwargs.get("action", "submit"), "202 Accepted without a task reference")
            return data["extId"]
        return data

    def change_fresh(self, namespace, template, *args, **kwargs):
        """Read an entity, let `decide(entity)` pick the mutation, send it with the ETag just read.

        `decide` returns None when the entity needs no change, or the Change to send (_v4.Change, as a
        namespace helper builds it). On 412 (someone changed it in between) the entity is read again and
        asked again, once: the change may no longer be needed. Returns (entity, change, result).
        """
        decide = kwargs.pop("decide")
        action = kwargs["action"]
        for attempt in (1, 2):
            entity, etag = self.get(namespace, template, *args, action=action)
            change = decide(entity)
            if change is None:
                return entity, None, None
            method, ns, path, path_args, body = change  # a Change, or any 5-tuple in its order
            try:
                result = self.submit(method, ns, path, *path_args, action=action, body=body, if_match=etag)
            except ApiError as err:
                if err.status == 412 and attempt == 1:
                    continue
                raise
            return entity, change, result
        raise AssertionError("unreachable")  # pragma: no cover

    # -- tasks ------------------------------------------------------------------------------

    def task(self, ext_id, action="read task"):
        return read_task(self, ext_id, action)

    def wait_task(self, ext_id, timeout, action, raise_on_failure=True):
        """Poll one task with backoff until it ends or `timeout` seconds pass."""
        task = self._poll([ext_id], timeout, action, lambda ids: [self.task(ids[0], action)])[ext_id]
        if raise_on_failure:
            raise_for_task(task, action)
        return task

    def tasks(self, ext_ids, action):
        """The current state of many tasks at once, in a few list calls; unknown tasks are absent."""
        return tasks_by_ext_id(self, ext_ids, action)

    def ended_tasks(self, ext_ids, action):
        """{ext_id: task} of those of `ext_ids` that ended. A round Prism throttled or failed with a server
        error (the transport has retried already) ends none, so a pipeline polls again until its own
        deadline rather than abandoning every VM in flight."""
        try:
            polled = self.tasks(ext_ids, action)
        except ApiError as err:
            if err.status is not None and err.status < 429:
                raise
            return {}
        return dict((t["extId"], t) for t in polled if t.get("status") in TASK_DONE)

    def wait_tasks(self, ext_ids, timeout, action):
        """Poll many tasks together, a few list calls per round; returns {ext_id: task}, failed ones too."""
        return self._poll(list(dict.fromkeys(ext_ids)), timeout, action, lambda ids: self.tasks(ids, action))

    def _poll(self, ext_ids, timeout, action, fetch):
        deadline = time.monotonic() + timeout
        done, delay = {}, 0.2
        pending = list(ext_ids)
        while pending:
            for task in fetch(pending):
                if task.get("status") in TASK_DONE:
                    done[task["extId"]] = task
            pending = [i for i in pending if i not in done]
            if not pending:
                break
            if time.monotonic() + delay > deadline:
                raise ApiError(
                    action,
                    "%d of %d task(s) still running after %ss: %s"
                    % (len(pending), len(ext_ids), timeout, ", ".join(pending[:5])),
                    hint="raise timeout, or follow the task with day2ops.ahv.task_info",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
        return done


def task_error(task):
    """Prism's own words for why a task did not succeed."""
    messages = [m.get("message") for m in task.get("errorMessages") or [] if m.get("message")]
    if task.get("legacyErrorMessage"):
        messages.append(task["legacyErrorMessage"])
    codes = [m.get("code") for m in task.get("errorMessages") or [] if m.get("code")]
    return "; ".join(messages) or "no reason given", codes[0] if codes else None


def raise_for_task(task, action):
    if task.get("status") == "SUCCEEDED":
        return
    message, code = task_error(task)
    raise ApiError(
        action,
        "task %s %s: %s" % (task.get("extId"), task.get("status"), message),
        code=code,
        hint="see the task in Prism Central (day2ops.ahv.task_info ext_id=%s)" % task.get("extId"),
    )


def task_completion(task, name):
    """A value from a task's completionDetails (e.g. recoveryPointExtId), or None."""
    for pair in task.get("completionDetails") or []:
        if pair.get("name") == name:
            return pair.get("value")
    return None


def affected(task, rel):
    """ext_ids of the task's entitiesAffected with that rel (e.g. vmm:ahv:config:vm)."""
    return [e.get("extId") for e in task.get("entitiesAffected") or [] if e.get("rel") == rel]


def created(task, rel, action):
    """The ext_id of the entity a create task made: its first entitiesAffected of that rel.

    A task that names none (it succeeded, yet Prism listed no such entity) is an ApiError that names
    the task, not an IndexError."""
    found = affected(task, rel)
    if not found:
        raise ApiError(
            action,
            "task %s succeeded but names no affected entity of type %s, the one it should have made"
            % (task.get("extId"), rel),
            hint="see the task in Prism Central (day2ops.ahv.task_info ext_id=%s) and look the new entity "
            "up by name" % task.get("extId"),
        )
    return found[0]


def _error_text(response):
    """(code, message, enveloped) from any error body Prism sends: v4 envelope or flat gateway body."""
    try:
        body = response.json()
    except ValueError:
        return None, (response.text or response.reason or "no body").strip()[:300], False
    if not isinstance(body, dict):
        return None, str(body)[:300], False
    data = body.get("data")
    if isinstance(data, dict) and "error" in data:
        error = data["error"]
        if isinstance(error, list):
            messages = [e.get("message") for e in error if isinstance(e, dict) and e.get("message")]
            codes = [e.get("code") for e in error if isinstance(e, dict) and e.get("code")]
            return (codes[0] if codes else None), "; ".join(messages) or "no message", True
        if isinstance(error, dict):  # SchemaValidationError
            details = [
                "%s: %s" % (m.get("attributePath") or m.get("location") or "request", m.get("message"))
                for m in error.get("validationErrorMessages") or []
            ]
            return None, "; ".join(details) or error.get("error") or "invalid request", True
    message = body.get("message") or body.get("error") or str(body)[:300]
    return body.get("code"), message, False

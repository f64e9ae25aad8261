# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The ServiceNow Table API, read-only: every HTTP detail of ServiceNow is here. Pages follow
sysparm_offset until X-Total-Count is reached; retries and errors are the shared Transport's.
"""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    BasicAuth,
    Transport,
    connection_options,
)

PAGE = 1000


def _message(response):
    try:
        error = response.json().get("error") or {}
        return "%s (%s)" % (error.get("message"), error.get("detail")) if error else response.text[:300]
    except ValueError:
        return (response.text or response.reason or "no body")[:300]


class ServiceNowClient:
    def __init__(self, transport):
        self.transport = transport

    @classmethod
    def from_options(cls, options):
        return cls(
            Transport(
                options["instance_url"],
                BasicAuth(options["username"], options["password"]),
                ("instance_url",),
                **connection_options(options),
            )
        )

    def records(self, table, fields=None, query=None):
        """Every record of `table` matching the encoded `query`, with only `fields` when given."""
        action = "read ServiceNow table %s" % table
        out, offset = [], 0
        while True:
            params = {"sysparm_limit": PAGE, "sysparm_offset": offset}
            if fields:
                params["sysparm_fields"] = ",".join(fields)
            if query:
                params["sysparm_query"] = query
            response = self.transport.request("GET", "/api/now/table/%s" % table, action, params=params)
            if response.status_code >= 300:
                raise ApiError(
                    action,
                    _message(response),
                    response.status_code,
                    hint="check instance_url, the credentials and that the user may read %s" % table,
                )
            page = response.json().get("result") or []
            out.extend(page)
            offset += len(page)
            total = int(response.headers.get("X-Total-Count") or offset)
            if not page or offset >= total:
                return out

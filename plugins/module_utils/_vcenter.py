# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Every HTTP detail of vCenter Automation REST (/api, vSphere 7 and 8) lives here: the session
(basic auth once, then `vmware-api-session-id`, re-created when it expires), the VM list's
filters (repeated parameters, no `filter.` prefix), VM detail, power, guest identity, and the
tagging calls that select VMs by tag, which the VM list itself cannot do.
"""

from __future__ import annotations

import base64
from functools import partial
from urllib.parse import quote

from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    RETRY_STATUSES,
    ApiError,
    LoginTokenAuth,
    Transport,
    error_from,
)

SESSION_HEADER = "vmware-api-session-id"
HINTS = {
    400: "fix the filter or value named above",
    401: "check vcenter_username and vcenter_password",
    403: "the vCenter user lacks the privilege for this operation",
    404: "the object does not exist (any more) in this vCenter",
}


def _path(template, *args):
    return template % tuple(quote(str(a), safe="") for a in args)


def _failure(action, response):
    """vCenter's `{error_type, messages: [{default_message}]}` as an ApiError coded by error_type."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not (isinstance(body, dict) and body.get("error_type")):
        return error_from(action, response, hints=HINTS)
    messages = [m.get("default_message") for m in body.get("messages") or [] if isinstance(m, dict)]
    text = "; ".join(m for m in messages if m) or body["error_type"]
    return error_from(action, response, text, body["error_type"], HINTS)


def login(username, password, transport):
    """A new session: basic auth once; vCenter answers 201 with the token as a bare JSON string."""
    action = "log in to vCenter"
    basic = "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
    # A second session is harmless: safe to send again.
    response = transport.request(
        "POST", "/api/session", action, headers={"Authorization": basic}, safe=True, authenticate=False
    )
    if response.status_code not in (200, 201):
        raise _failure(action, response)
    return response.json()


class VCenterClient:
    def __init__(self, transport):
        self.transport = transport

    @classmethod
    def from_options(cls, options):
        """Build a client from the vcenter doc fragment's option names."""
        auth = LoginTokenAuth(
            partial(login, options["vcenter_username"], options["vcenter_password"]), SESSION_HEADER
        )
        return cls(Transport.from_options(options, "vcenter", 443, auth))

    @property
    def auth(self):
        """The session token: how many logins it took so far."""
        return self.transport.auth

    def call(self, method, path, action, params=None, body=None, took_effect=None, **kwargs):
        """One call; its JSON answer (None for 204). vCenter replays no request ids: a POST is sent
        again after a lost answer only if `took_effect()` (a read-back) returns None; otherwise
        the read-back's value is the answer. A POST without one only reads (tagging lists, the
        session), so it is safe to send again."""
        response, effect = self.transport.call(
            method, path, action, took_effect, params=params, body=body, safe=took_effect is None, **kwargs
        )
        if response is None:
            return effect
        if response.status_code >= 300:
            raise _failure(action, response)
        return response.json() if response.status_code != 204 and response.content else None

    # -- VMs --------------------------------------------------------------------------------
    def list_vms(self, **filters):
        """VM summaries matching every filter given (each a list: its values OR together)."""
        params = [(k, v) for k, values in sorted(filters.items()) for v in values or ()]
        return self.call("GET", "/api/vcenter/vm", "list vCenter VMs", params=params)

    def vm(self, moref):
        return self.call("GET", _path("/api/vcenter/vm/%s", moref), "read vCenter VM '%s'" % moref)

    def power(self, moref, action):
        """start, stop, suspend or reset; False when the VM already was where asked (not an error)."""
        settled = {"start": "POWERED_ON", "stop": "POWERED_OFF", "suspend": "SUSPENDED"}.get(action)

        def took_effect():
            # A reset leaves the state as it was, so a lost answer to one cannot be told from no
            # reset: it counts as done rather than resetting twice.
            if settled is None:
                return {}
            state = self.call(
                "GET", _path("/api/vcenter/vm/%s/power", moref), "read the power of '%s'" % moref
            )
            return {} if state.get("state") == settled else None

        try:
            self.call(
                "POST",
                _path("/api/vcenter/vm/%s/power", moref),
                "%s vCenter VM '%s'" % (action, moref),
                params={"action": action},
                took_effect=took_effect,
            )
        except ApiError as err:
            if err.code == "ALREADY_IN_DESIRED_STATE":
                return False
            raise
        return True

    def guest_identity(self, moref, power_state="POWERED_ON"):
        """The guest's identity; None while VMware Tools is not running (vCenter answers 503, which is
        its answer, not a passing state: not retried) or the VM is not on (not asked)."""
        if power_state != "POWERED_ON":
            return None
        try:
            return self.call(
                "GET",
                _path("/api/vcenter/vm/%s/guest/identity", moref),
                "read the guest identity of '%s'" % moref,
                retry_statuses=RETRY_STATUSES - frozenset((503,)),
            )
        except ApiError as err:
            if err.status == 503:
                return None
            raise

    def resolve(self, kind, names):
        """Names of clusters, folders or datacenters -> their ids; an unknown name fails, naming it."""
        if not names:
            return []
        params = [("names", n) for n in names]
        if kind == "folder":
            # Host, datastore and VM folders may share a name; only a VM folder holds VMs.
            params.append(("type", "VIRTUAL_MACHINE"))
        found = self.call("GET", "/api/vcenter/%s" % kind, "find vCenter %ss" % kind, params=params)
        ids = dict((item["name"], item[kind]) for item in found)
        missing = [n for n in names if n not in ids]
        if missing:
            raise ApiError(
                "find vCenter %ss" % kind,
                "no %s named %s" % (kind, ", ".join("'%s'" % n for n in missing)),
                hint="check the %s names in vCenter (they are exact and case-sensitive)" % kind,
            )
        return [ids[n] for n in names]

    # -- tags -------------------------------------------------------------------------------
    def vms_tagged(self, tags):
        """The VM ids carrying every `category: tag` pair of `tags` (names, as an operator writes them)."""
        categories = {}
        for category_id in self.call("GET", "/api/cis/tagging/category", "list tag categories"):
            category = self.call(
                "GET", _path("/api/cis/tagging/category/%s", category_id), "read a tag category"
            )
            categories[category["name"]] = category_id
        selected = None
        for category_name, tag_name in sorted(tags.items()):
            if category_name not in categories:
                raise ApiError(
                    "select VMs by tag",
                    "vCenter has no tag category '%s'" % category_name,
                    hint="use one of %s" % ", ".join(sorted(categories)),
                )
            tag_ids = self.call(
                "POST",
                "/api/cis/tagging/tag",
                "list the tags of category '%s'" % category_name,
                params={"action": "list-tags-for-category"},
                body={"category_id": categories[category_name]},
            )
            tag_id = None
            for candidate in tag_ids:
                if (
                    self.call("GET", _path("/api/cis/tagging/tag/%s", candidate), "read a tag")["name"]
                    == tag_name
                ):
                    tag_id = candidate
            if tag_id is None:
                raise ApiError(
                    "select VMs by tag",
                    "category '%s' has no tag '%s'" % (category_name, tag_name),
                    hint="check the tag name in vCenter",
                )
            objects = self.call(
                "POST",
                _path("/api/cis/tagging/tag-association/%s", tag_id),
                "list the VMs tagged %s:%s" % (category_name, tag_name),
                params={"action": "list-attached-objects"},
            )
            ids = set(o["id"] for o in objects if o.get("type") == "VirtualMachine")
            selected = ids if selected is None else selected & ids
        return selected or set()

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Names to ext_ids for clusters, Categories and VMs. A name that matches nothing, or more
than one object, is an error that says which objects matched and what to pass instead.
"""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._clustermgmt import list_clusters, read_cluster
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_config import list_categories
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import list_vms, read_vm


def pick_one(kind, name, matches, label=lambda m: m.get("extId")):
    """The single object a name designates, or an ApiError listing what it matched."""
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ApiError(
            "find %s '%s'" % (kind, name),
            "no %s has that name" % kind,
            status=404,
            hint="check the name, or pass ext_id",
        )
    raise ApiError(
        "find %s '%s'" % (kind, name),
        "the name matched %d %ss: %s" % (len(matches), kind, ", ".join(sorted(label(m) for m in matches))),
        hint="pass ext_id to choose one",
    )


def unless_gone(read, required=True):
    """`read()`'s answer, or None when the entity is gone (404) and not `required`."""
    try:
        return read()
    except ApiError as err:
        if err.status == 404 and not required:
            return None
        raise


def vms_named(client, name, action=None):
    """Every VM of that name: Prism lets VMs share one."""
    return list_vms(client, {"$filter": "name eq %s" % odata_quote(name)}, action or "find VM '%s'" % name)


def find_vm(client, ext_id=None, name=None):
    if ext_id:
        return read_vm(client, ext_id)[0]
    vms = vms_named(client, name)
    return pick_one(
        "VM", name, vms, lambda vm: "%s (cluster %s)" % (vm["extId"], (vm.get("cluster") or {}).get("extId"))
    )


def find_cluster(client, ext_id=None, name=None):
    if ext_id:
        return read_cluster(client, ext_id)
    return pick_one("cluster", name, list_clusters(client, "name eq %s" % odata_quote(name)))


def is_ext_id(value):
    """Whether a value given as "name or ext_id" is UUID-shaped, so taken as the ext_id."""
    return [len(p) for p in str(value).split("-")] == [8, 4, 4, 4, 12]


def cluster_ext_id(client, name_or_ext_id):
    """A cluster given either way, as its ext_id."""
    if is_ext_id(name_or_ext_id):
        return name_or_ext_id
    return find_cluster(client, name=name_or_ext_id)["extId"]


def cluster_names(client):
    """{cluster ext_id: name} for every cluster Prism Central manages."""
    return dict((c["extId"], c.get("name")) for c in list_clusters(client))


class CategoryIndex:
    """Category key:value pairs by ext_id and back, read in as few list calls as it can."""

    def __init__(self, categories):
        self.by_id = dict((c["extId"], c) for c in categories)
        self.by_pair = dict(((c["key"], c["value"]), c) for c in categories)

    @classmethod
    def load(cls, client, keys=None):
        """All Categories, or only those of `keys` (one filtered list call per key, concurrently)."""
        if keys is None:
            return cls(list_categories(client))
        found = []
        for chunk in client.map(
            lambda key: list_categories(
                client, {"$filter": "key eq %s" % odata_quote(key)}, "list categories of key '%s'" % key
            ),
            sorted(set(keys)),
        ):
            found.extend(chunk)
        return cls(found)

    def values(self, key):
        """The values of one key, sorted."""
        return sorted(value for (k, value) in self.by_pair if k == key)

    def ext_id(self, key, value):
        category = self.by_pair.get((key, value))
        if category is None:
            raise ApiError(
                "find Category %s:%s" % (key, value),
                "Prism Central has no such Category",
                status=404,
                hint="check the spelling (keys and values are case sensitive) or create it with "
                "day2ops.ahv.category",
            )
        return category["extId"]

    def ext_ids(self, wanted):
        """{key: [ext_id, ...]} for `{key: value or [values]}`."""
        return dict((key, [self.ext_id(key, v) for v in values]) for key, values in normalize(wanted).items())

    def as_map(self, refs):
        """A VM's `categories` ([{extId}]) as {key: [values]}; unknown ext_ids are left out."""
        out = {}
        for ref in refs or ():
            category = self.by_id.get(ref.get("extId"))
            if category is not None:
                out.setdefault(category["key"], []).append(category["value"])
        return out


def normalize(categories):
    """`{key: value or [values]}` as `{key: [values]}`, values as strings, order kept, no repeats."""
    out = {}
    for key, values in (categories or {}).items():
        if not isinstance(values, (list, tuple)):
            values = [values]
        out[str(key)] = list(dict.fromkeys(str(v) for v in values))
    return out

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CMDB drift: where a VM's Categories and its CMDB record disagree, and who is in only one of them."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def cmdb_drift(vms, records, fields):
    """One entry per difference. A record matches a VM by object_id (the VM's ext_id), else by name.

    `fields` maps a Category key to the CMDB field that should hold the same value, for example
    {Department: department}. Kinds: differs, missing in CMDB, not in Prism.
    """
    if not isinstance(fields, dict) or not fields:
        raise AnsibleFilterError(
            "cmdb_drift: fields must map Category keys to CMDB fields, e.g. {Department: department}"
        )
    by_id = dict((r.get("object_id"), r) for r in records or [] if r.get("object_id"))
    by_name = dict((r.get("name"), r) for r in records or [] if r.get("name"))
    seen, drift = set(), []
    for vm in sorted(vms or [], key=lambda v: (v.get("name") or "", v["ext_id"])):
        record = by_id.get(vm["ext_id"]) or by_name.get(vm.get("name"))
        base = dict(vm_name=vm.get("name"), vm_ext_id=vm["ext_id"])
        if record is None:
            drift.append(dict(base, kind="missing in CMDB", field=None, prism=None, cmdb=None))
            continue
        seen.add(id(record))
        for key, field in sorted(fields.items()):
            prism = ", ".join((vm.get("categories") or {}).get(key) or []) or None
            cmdb = record.get(field) or None
            if prism != cmdb:
                drift.append(dict(base, kind="differs", field=key, prism=prism, cmdb=cmdb))
    for record in records or []:
        if id(record) not in seen:
            drift.append(
                dict(
                    vm_name=record.get("name"),
                    vm_ext_id=record.get("object_id"),
                    kind="not in Prism",
                    field=None,
                    prism=None,
                    cmdb=None,
                )
            )
    return drift


class FilterModule:
    def filters(self):
        return {"cmdb_drift": cmdb_drift}

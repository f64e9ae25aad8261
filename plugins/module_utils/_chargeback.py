# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Chargeback: VMs grouped by one Category key, resources summed per group, a rate card applied,
and the VMs without the key set apart so their owners can claim them. Pure: VM summaries in,
plain data out.
"""

from __future__ import annotations

RATE_KEYS = ("vcpu", "memory_gib", "storage_gib")
# The row that charges the VMs without the key, so the rows add up to the totals.
UNTAGGED = "(untagged)"
SUMMED = ("vms", "powered_on", "vcpus", "memory_gib", "storage_gib")
# What Prism returns with $select for chargeback: nothing more is read at 20,000 VMs.
CHARGEBACK_FIELDS = (
    "extId",
    "name",
    "cluster/extId",  # selectable as a path at v4.0, not as `cluster`
    "powerState",
    "numSockets",
    "numCoresPerSocket",
    "numThreadsPerCore",
    "memorySizeBytes",
    "disks",
    "categories",
    "ownershipInfo",  # the VM's owner in Prism, for the untagged ones (selectable from v4.0 on)
)


def _empty(group):
    return dict(group=group, vms=0, powered_on=0, vcpus=0, memory_gib=0.0, storage_gib=0.0)


def _add(row, vm):
    row["vms"] += 1
    row["powered_on"] += 1 if vm.get("power_state") == "ON" else 0
    row["vcpus"] += vm.get("vcpus") or 0
    row["memory_gib"] += (vm.get("memory_mib") or 0) / 1024.0
    row["storage_gib"] += vm.get("storage_gib") or 0.0


def _priced(row, rate_card):
    row["memory_gib"] = round(row["memory_gib"], 2)
    row["storage_gib"] = round(row["storage_gib"], 2)
    parts = dict(
        vcpu=row["vcpus"] * float(rate_card.get("vcpu") or 0),
        memory=row["memory_gib"] * float(rate_card.get("memory_gib") or 0),
        storage=row["storage_gib"] * float(rate_card.get("storage_gib") or 0),
    )
    row["cost"] = dict((k, round(v, 2)) for k, v in parts.items())
    row["cost"]["total"] = round(sum(row["cost"].values()), 2)
    return row


def _sum_of(rows):
    """The column sums of priced rows: what the report's rows add up to, to the cent."""
    total = _empty("all")
    total["cost"] = dict(vcpu=0.0, memory=0.0, storage=0.0, total=0.0)
    for row in rows:
        for name in SUMMED:
            total[name] += row[name]
        for part in total["cost"]:
            total["cost"][part] += row["cost"][part]
    total["memory_gib"] = round(total["memory_gib"], 2)
    total["storage_gib"] = round(total["storage_gib"], 2)
    total["cost"] = dict((k, round(v, 2)) for k, v in total["cost"].items())
    return total


def _owner(vm):
    """The VM's owner: its Owner Category when it has one, and the owner Prism records (ownershipInfo)."""
    owner = (vm.get("categories") or {}).get("Owner") or []
    prism = (((vm.get("vm") or {}).get("ownershipInfo") or {}).get("owner") or {}).get("extId")
    return dict(owner=owner[0] if owner else None, owner_ext_id=prism)


def aggregate(vms, key, rate_card):
    """Groups by the values of Category `key` (a VM with two values counts in both), sorted by cost.

    Returns {key, currency, groups, untagged, untagged_row, totals, estate}. `untagged_row` charges the
    VMs without the key; `totals` is the sum of the groups and that row, so the report adds up; a VM in
    two groups is charged to both, as its owners asked for by tagging it twice. `estate` counts each VM
    once, untagged ones included.
    """
    rows, untagged, estate, untagged_row = {}, [], _empty("all"), _empty(UNTAGGED)
    for vm in vms:
        _add(estate, vm)
        values = (vm.get("categories") or {}).get(key) or []
        if not values:
            _add(untagged_row, vm)
            untagged.append(
                dict(
                    name=vm.get("name"),
                    ext_id=vm.get("ext_id"),
                    cluster=vm.get("cluster"),
                    power_state=vm.get("power_state"),
                    **_owner(vm),
                )
            )
            continue
        for value in values:
            _add(rows.setdefault(value, _empty(value)), vm)
    groups = sorted(
        (_priced(row, rate_card) for row in rows.values()), key=lambda r: (-r["cost"]["total"], r["group"])
    )
    untagged_row = _priced(untagged_row, rate_card)
    return dict(
        key=key,
        currency=rate_card.get("currency") or "USD",
        groups=groups,
        untagged=sorted(untagged, key=lambda u: (u["name"] or "", u["ext_id"])),
        untagged_row=untagged_row,
        totals=_sum_of([*groups, untagged_row]),
        estate=_priced(estate, rate_card),
    )

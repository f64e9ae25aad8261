# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: safe_patch_summary
type: aggregate
short_description: One line per VM at the end of a safe_patch run, even when every host failed
version_added: 0.1.0
description:
  - Prints what the C(day2ops.ahv.safe_patch) role recorded for each VM (patched, rolled back,
    rollback failed, not patched), with the reason, the recovery point, the Prism task ids, and the
    recovery points of earlier runs that never recorded an outcome.
  - It reads the role's run-wide stats (C(set_stats) key C(safe_patch)), which Ansible keeps even
    when a whole batch fails and the playbook stops, so a final play could not always print them.
  - Enable it with C(callbacks_enabled = day2ops.ahv.safe_patch_summary) in C(ansible.cfg) (this
    repository's does) or E(ANSIBLE_CALLBACKS_ENABLED=day2ops.ahv.safe_patch_summary).
author: day2ops team (@day2ops)
requirements:
  - enabled in callbacks_enabled
"""

from ansible.plugins.callback import CallbackBase

ORDER = ("rollback_failed", "failed", "rolled_back", "patched")
LABEL = {
    "rollback_failed": "ROLLBACK FAILED",
    "failed": "NOT PATCHED",
    "rolled_back": "ROLLED BACK",
    "patched": "PATCHED",
}


def _line(record):
    status = record.get("status")
    parts = [
        "%-15s %s (%s)"
        % (LABEL.get(status, str(status).upper()), record.get("vm_name"), record.get("vm_ext_id")),
        "recovery point %s (%s)"
        % (record.get("recovery_point_name") or "-", record.get("recovery_point_ext_id") or "none"),
    ]
    if record.get("reason"):
        parts.append(record["reason"])
    if status in ("rolled_back", "rollback_failed"):
        parts.append(
            "probe after revert %s, VM %s, notified %s"
            % (
                record.get("probe_after_revert"),
                record.get("power_state"),
                "yes" if record.get("notified") else "no",
            )
        )
    parts.append("tasks %s" % (", ".join(record.get("task_ext_ids") or []) or "none"))
    return " - ".join(parts)


def summary_lines(records):
    """The summary for the role's stats: a count line, one line per VM (worst first), orphans last."""
    rows = sorted(
        records.values(),
        key=lambda r: (
            ORDER.index(r.get("status")) if r.get("status") in ORDER else -1,
            r.get("vm_name") or "",
        ),
    )
    counts = dict((status, sum(1 for r in rows if r.get("status") == status)) for status in ORDER)
    lines = [
        "safe_patch: %d VM(s): %d patched, %d rolled back, %d ROLLBACK FAILED, %d not patched"
        % (len(rows), counts["patched"], counts["rolled_back"], counts["rollback_failed"], counts["failed"])
    ]
    lines.extend(_line(r) for r in rows)
    for record in rows:
        for earlier in record.get("unfinished_earlier") or []:
            lines.append(
                "UNFINISHED      %s: recovery point %s (%s) from run %s has no recorded outcome"
                % (
                    earlier.get("vm_name"),
                    earlier.get("recovery_point_name"),
                    earlier.get("recovery_point_ext_id"),
                    earlier.get("run_id"),
                )
            )
    return lines


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "day2ops.ahv.safe_patch_summary"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        records = (stats.custom.get("_run") or {}).get("safe_patch")
        if not records:
            return
        self._display.banner("SAFE PATCH SUMMARY")
        for line in summary_lines(records):
            self._display.display(line)

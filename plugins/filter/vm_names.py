# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM names that fit Prism Central: a DR drill VM's name from the run id and the recovery point's name.

Prism refuses a VM name over 80 characters (`vmOverrideSpec.name must be 1 to 80 characters`), and a run
id from the app alone is 36. The name stays readable (`drill-`, a short run id, the point's name); when it
would still be too long it is cut and ends with 8 hex characters of the SHA-256 of the full name it would
have had, so two long names stay distinct and the same inputs always give the same name.
"""

from __future__ import annotations

import hashlib
import re

VM_NAME_MAX = 80
HASH_CHARS = 8
# A run id longer than this keeps its head only once the name has to be cut (a timestamp id is 16).
RUN_ID_CHARS = 16
UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def short_run_id(run_id: str) -> str:
    """A UUID's first 8 hex characters (as the app shows a run); any other run id as it is."""
    return run_id[:8] if UUID.fullmatch(run_id) else run_id


def drill_vm_name(run_id, point_name, limit: int = VM_NAME_MAX) -> str:
    """`drill-<short run id>-<point name>`, at most `limit` characters, the same for the same inputs."""
    run_id = "" if run_id is None else str(run_id)
    point_name = "" if point_name is None else str(point_name)
    name = "drill-%s-%s" % (short_run_id(run_id), point_name)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(("drill-%s-%s" % (run_id, point_name)).encode("utf-8")).hexdigest()
    head = "drill-%s-%s" % (short_run_id(run_id)[:RUN_ID_CHARS], point_name)
    return "%s-%s" % (head[: limit - HASH_CHARS - 1].rstrip("- "), digest[:HASH_CHARS])


class FilterModule:
    def filters(self):
        return {"drill_vm_name": drill_vm_name}

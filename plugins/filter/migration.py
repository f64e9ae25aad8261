# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each VM of a migration wave stands across the wave's Move plans."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.day2ops.ahv.plugins.module_utils._waves import progress


def wave_progress(plans, wave, rolled_back=None):
    if not isinstance(wave, dict) or "vms" not in wave or "name" not in (wave.get("wave") or {}):
        raise AnsibleFilterError("wave_progress: wave must be the registered result of migration_wave_info")
    return progress(plans or [], dict(name=wave["wave"]["name"], vms=wave["vms"]), rolled_back or [])


class FilterModule:
    def filters(self):
        return {"wave_progress": wave_progress}

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A template's description that records one more version as failed in its smoke test (the template_release
role's record on Prism, since a version cannot be changed once made); read back by template_info."""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._templates import with_smoke_failed


def template_smoke_failed(description, version_ext_id, version_ext_ids=None):
    return with_smoke_failed(description, str(version_ext_id), version_ext_ids)


class FilterModule:
    def filters(self):
        return {"template_smoke_failed": template_smoke_failed}

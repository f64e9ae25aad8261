# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill {name} placeholders in a text given by a user (a probe URL per VM), with no Jinja at all.

A user's value reaches a playbook as unsafe text that Ansible never templates; where it must still vary per
VM, it names placeholders such as {ip} and this filter puts the values in. Nothing else in the text is read:
`{{ lookup(...) }}` stays those characters.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# A lone {name}: not part of {{ }}, so a Jinja-looking text is left as it is.
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z][a-z0-9_]*)\}(?!\})")


def placeholders(text, values):
    if not isinstance(values, dict):
        raise AnsibleFilterError("placeholders: values must map placeholder names to their values")
    unknown = sorted(set(PLACEHOLDER.findall(str(text))) - set(values))
    if unknown:
        named = ", ".join("{%s}" % k for k in sorted(values))
        given = ", ".join("{%s}" % u for u in unknown)
        raise AnsibleFilterError(
            "placeholders: %s in %r: not a placeholder; use %s" % (given, str(text), named)
        )
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), str(text))


class FilterModule:
    def filters(self):
        return {"placeholders": placeholders}

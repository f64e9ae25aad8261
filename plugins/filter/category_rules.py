# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Category rules: the first rule a VM matches, the longest retention among those it matches, and
the DR plan (one recovery point per VM with its retention) built from them."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import retention_delta


def _values(value):
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def matches(selector, categories):
    """Every key of the selector carries one of its values on the VM ({key: [values]})."""
    have = dict((str(k), _values(v)) for k, v in (categories or {}).items())
    return all(set(_values(wanted)) & set(have.get(str(key), [])) for key, wanted in selector.items())


def _matching(rules, categories, name):
    for index, rule in enumerate(rules or []):
        selector = rule.get("category") if isinstance(rule, dict) else None
        if not isinstance(selector, dict) or not selector:
            raise AnsibleFilterError(
                "%s: rule %d needs a non-empty 'category' mapping such as "
                "{category: {AppTier: Database}, ...}, got %r" % (name, index, rule)
            )
        if matches(selector, categories):
            yield rule


def category_rule(rules, categories, default=None):
    """The first rule in `rules` whose `category` selector `categories` satisfy, else `default`."""
    return next(_matching(rules, categories, "category_rule"), default)


def retention_length(retention):
    delta = retention_delta(retention)
    if delta is None:
        raise AnsibleFilterError("%r is not a retention; write 90m, 36h, 14d or 2w" % (retention,))
    return delta


def category_retention(rules, categories, default):
    """The longest `retention` of the rules the VM matches (the most protective wins), else `default`."""
    found = [rule.get("retention") for rule in _matching(rules, categories, "category_retention")]
    return max(found or [default], key=retention_length)


def retention_plan(vms, rules, default, name_prefix="dr", run_id=""):
    """One entry per VM (as vm_info returns them): ext_id, vm_name, retention, recovery_point_name."""
    suffix = "-%s" % run_id if run_id else ""
    return [
        {
            "ext_id": vm["ext_id"],
            "vm_name": vm.get("name"),
            "retention": category_retention(rules, vm.get("categories"), default),
            "recovery_point_name": "%s-%s%s" % (name_prefix, vm.get("name") or vm["ext_id"], suffix),
        }
        for vm in vms or []
    ]


class FilterModule:
    def filters(self):
        return {
            "category_rule": category_rule,
            "category_retention": category_retention,
            "retention_plan": retention_plan,
        }

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Category rules: the first rule whose Category selector a VM's Categories satisfy."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _values(value):
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def matches(selector, categories):
    """Every key of the selector carries one of its values on the VM ({key: [values]})."""
    have = dict((str(k), _values(v)) for k, v in (categories or {}).items())
    return all(set(_values(wanted)) & set(have.get(str(key), [])) for key, wanted in selector.items())


def category_rule(rules, categories, default=None):
    """The first rule in `rules` whose `category` selector `categories` satisfy, else `default`."""
    for index, rule in enumerate(rules or []):
        selector = rule.get("category") if isinstance(rule, dict) else None
        if not isinstance(selector, dict) or not selector:
            raise AnsibleFilterError(
                "category_rule: rule %d needs a non-empty 'category' mapping such as "
                "{category: {AppTier: Database}, ...}, got %r" % (index, rule)
            )
        if matches(selector, categories):
            return rule
    return default


class FilterModule(object):
    def filters(self):
        return {"category_rule": category_rule}

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: category
short_description: Create, describe or remove a Prism Central Category key:value pair
version_added: 0.1.0
description:
  - Ensures one Category (a key:value pair, for example V(Department:Finance)) exists or not.
  - Prism Central creates, updates and deletes Categories synchronously, so there is no task to wait for.
  - Updates and deletes send the ETag just read as C(If-Match); if the Category changed in between
    (HTTP 412) it is read again and the change made only if still needed.
author: day2ops team (@day2ops)
options:
  key:
    description: The Category key, for example V(Department).
    type: str
    required: true
  value:
    description: The value, for example V(Finance).
    type: str
    required: true
  description:
    description: A description of the pair; when given, an existing pair's description is updated to it.
    type: str
  state:
    description:
      - V(present) creates the pair when missing; V(absent) deletes it.
      - Prism refuses to delete a pair still associated with VMs or policies; remove it from them first
        (M(day2ops.ahv.vm_categories)).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: A cost centre for the new data team
  day2ops.ahv.category:
    key: Department
    value: DataScience
    description: Chargeback to cost centre 4711
  register: data_science

- name: Retire it again
  day2ops.ahv.category:
    key: Department
    value: DataScience
    state: absent
"""

RETURN = r"""
ext_id:
  description:
    - The ext_id of the pair.
    - Null when it does not exist (after V(absent), or in check mode before creation).
  returned: always
  type: str
category:
  description: The pair as Prism Central returns it (C(prism.v4.config.Category)); null when absent.
  returned: always
  type: dict
  sample:
    extId: 2f8c1e7a-5b3d-4c1f-9a6e-7d2b0c4e8f10
    key: Department
    value: DataScience
    description: Chargeback to cost centre 4711
    type: USER
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._prism_config import (
    change_category,
    create_category,
    delete_category,
    list_categories,
    read_category,
    update_category,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote

SHOWN = ("key", "value", "description")


def _view(category):
    return dict((k, category.get(k)) for k in SHOWN) if category else {}


def ensure(module):
    params, client = module.params, module.client
    pair = "%s:%s" % (params["key"], params["value"])
    flt = "key eq %s and value eq %s" % (odata_quote(params["key"]), odata_quote(params["value"]))
    found = list_categories(client, {"$filter": flt}, "find Category %s" % pair)
    current = found[0] if found else None
    wanted = dict(key=params["key"], value=params["value"])
    if params["description"] is not None:
        wanted["description"] = params["description"]

    if params["state"] == "absent":
        after, changed = None, current is not None
        if changed and not module.check_mode:
            change_category(
                client, current["extId"], "delete Category %s" % pair, lambda c: delete_category(c["extId"])
            )
    elif current is None:
        changed, after = True, dict(wanted)
        if not module.check_mode:
            after = create_category(client, wanted, "create Category %s" % pair)
    else:
        after = dict(current, **wanted)
        changed = _view(after) != _view(current)
        if changed and not module.check_mode:

            def decide(category):
                if category.get("description") == wanted.get("description", category.get("description")):
                    return None
                body = dict((k, v) for k, v in category.items() if not k.startswith("$") and k != "links")
                body.update(wanted)
                return update_category(category["extId"], body)

            change_category(client, current["extId"], "update Category %s" % pair, decide)
            after, _etag = read_category(client, current["extId"], "read Category %s" % pair)
    result = dict(ext_id=(after or {}).get("extId"), category=after)
    if module.diff:
        result["diff"] = dict(before=_view(current), after=_view(after))
    return changed, result


def main():
    PrismModule(
        dict(
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str", required=True),
            description=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: category_info
short_description: List Prism Central Categories, or read one
version_added: 0.1.0
description:
  - Reads Categories from Prism Central's prism v4 API (C(/api/prism/v4.x/config/categories)).
  - Each Category is one key:value pair with its own ext_id, as Prism models them.
author: day2ops team (@day2ops)
options:
  ext_id:
    description: The ext_id of one Category (one key:value pair).
    type: str
  key:
    description: Only the Categories of this key, for example V(Environment).
    type: str
  value:
    description: With O(key), only this value; the result then holds at most one Category.
    type: str
  filter:
    description: A raw OData C($filter), for example V(type eq Prism.Config.CategoryType'USER').
    type: str
  associations:
    description:
      - Also return how many entities of each type carry each Category (C($expand=associations)).
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Every value of the Environment key
  day2ops.ahv.category_info:
    key: Environment
  register: environments

- name: One key:value pair, with how many VMs carry it
  day2ops.ahv.category_info:
    key: Department
    value: Finance
    associations: true
  register: finance

- name: User-defined Categories only
  day2ops.ahv.category_info:
    filter: "type eq Prism.Config.CategoryType'USER'"
"""

RETURN = r"""
categories:
  description: The Categories, as Prism Central returns them (C(prism.v4.config.Category)).
  returned: always
  type: list
  elements: dict
  sample:
    - extId: 2f8c1e7a-5b3d-4c1f-9a6e-7d2b0c4e8f10
      key: Department
      value: Finance
      type: USER
      associations:
        - resourceType: VM
          resourceGroup: ENTITY
          count: 42
values_by_key:
  description: "The same Categories as C({key: [values]})."
  returned: always
  type: dict
  sample:
    Department: [Finance, HR]
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._prism_config import list_categories, read_category
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote


def ensure(module):
    params, client = module.params, module.client
    query = {"$expand": "associations"} if params["associations"] else {}
    if params["ext_id"]:
        category, _etag = read_category(client, params["ext_id"], params=query)
        categories = [category]
    else:
        clauses = [params["filter"]] if params["filter"] else []
        for field in ("key", "value"):
            if params[field] is not None:
                clauses.append("%s eq %s" % (field, odata_quote(params[field])))
        if clauses:
            query["$filter"] = " and ".join("(%s)" % c for c in clauses)
        categories = list_categories(client, query, "list Categories")
    values = {}
    for category in categories:
        values.setdefault(category["key"], []).append(category["value"])
    return False, dict(categories=categories, values_by_key=values)


def main():
    PrismModule(
        dict(
            ext_id=dict(type="str"),
            key=dict(type="str", no_log=False),
            value=dict(type="str"),
            filter=dict(type="str"),
            associations=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("ext_id", "key"), ("ext_id", "filter")],
        required_by={"value": "key"},
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()

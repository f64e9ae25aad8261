"""prism categories: key:value pairs with one extId each; synchronous on a local Prism Central."""

import re

from ..core.errors import bad_request, conflict, not_found
from ..core.ids import IdFactory
from ..core.store import Collection

NS = "prism"
# Prism forbids these characters first in a key or value, and all but `$` later on.
_FORBIDDEN = "/,!\"#%'()*+:;=?\\|[]^&"
_FIRST = re.compile("^[^" + re.escape(_FORBIDDEN + "$") + "]")
_REST = re.compile("^[^" + re.escape(_FORBIDDEN) + "]*$")
ADMIN_UUID = "00000000-0000-0000-0000-000000000000"


def _check_name(field: str, value, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request(NS, f"'{field}' is required and must be a non-empty string.", field)
    if len(value) > limit:
        raise bad_request(NS, f"'{field}' must be at most {limit} characters.", field)
    if not _FIRST.match(value) or not _REST.match(value[1:]):
        raise bad_request(
            NS, f"'{field}' value '{value}' contains a character Prism does not allow ({_FORBIDDEN}).", field
        )
    return value


class CategoryBackend:
    def __init__(self, ids: IdFactory) -> None:
        self.ids = ids
        self.categories = Collection("category")

    def reset(self) -> None:
        self.categories.clear()

    def get(self, ext_id: str) -> dict:
        category = self.categories.get(ext_id)
        if category is None:
            raise not_found(NS, "Category", ext_id)
        return category

    def find(self, key: str, value: str) -> dict | None:
        return next((c for c in self.categories if c["key"] == key and c["value"] == value), None)

    def create(self, spec: dict) -> dict:
        key = _check_name("key", spec.get("key"), 64)
        value = _check_name("value", spec.get("value"), 64)
        description = spec.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 512):
            raise bad_request(NS, "'description' must be a string of at most 512 characters.", "description")
        if self.find(key, value):
            raise conflict(NS, f"Category '{key}:{value}' already exists.")
        category = {
            "extId": self.ids.uuid(),
            "key": key,
            "value": value,
            "type": "USER",
            "ownerUuid": ADMIN_UUID,
        }
        if description is not None:
            category["description"] = description
        return self.categories.add(category)

    def update(self, ext_id: str, spec: dict, if_match: str | None) -> dict:
        category = self.get(ext_id)
        self.categories.check_if_match(ext_id, if_match)
        if category["type"] != "USER":
            raise bad_request(
                NS,
                f"Category '{category['key']}:{category['value']}' is {category['type']} and "
                "cannot be changed.",
                "type",
            )
        if spec.get("key", category["key"]) != category["key"]:
            raise bad_request(
                NS, "'key' of an existing category cannot be changed; create a new category.", "key"
            )
        value = _check_name("value", spec.get("value", category["value"]), 64)
        if value != category["value"] and self.find(category["key"], value):
            raise conflict(NS, f"Category '{category['key']}:{value}' already exists.")
        category["value"] = value
        if "description" in spec:
            category["description"] = spec["description"]
        self.categories.touch(ext_id)
        return category

    def delete(self, ext_id: str, if_match: str | None, in_use: int) -> None:
        category = self.get(ext_id)
        self.categories.check_if_match(ext_id, if_match)
        if category["type"] != "USER":
            raise bad_request(
                NS,
                f"Category '{category['key']}:{category['value']}' is {category['type']} and "
                "cannot be deleted.",
                "type",
            )
        if in_use:
            raise conflict(
                NS,
                f"Category '{category['key']}:{category['value']}' is associated with {in_use} "
                "entities; disassociate them first.",
            )
        self.categories.remove(ext_id)

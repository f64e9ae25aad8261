"""GET /api/catalog's listing, encoded once per set of roles and groups: the same items, in the same order,
as each item's own access says, whoever asks first."""

import json
from pathlib import Path

from day2ops_app.catalog.model import SUMMARY_FIELDS, Access, Catalog

ROOT = Path(__file__).resolve().parents[2]


def _catalog() -> Catalog:
    catalog = Catalog.load(ROOT / "catalog", ROOT / "playbooks")
    catalog.items["dr_drill"].access = Access(roles=["admin"], groups=["dr-team"])
    return catalog


def _ids(listing: bytes) -> list[str]:
    return [item["id"] for item in json.loads(listing)]


def test_each_caller_gets_the_items_their_roles_or_groups_may_run():
    catalog = _catalog()
    everything = list(catalog.items)
    assert _ids(catalog.listing(["operator"], [])) == [i for i in everything if i != "dr_drill"]
    assert _ids(catalog.listing(["operator"], ["dr-team"])) == everything
    assert _ids(catalog.listing(["admin"], [])) == everything
    assert _ids(catalog.listing(["approver"], [])) == []


def test_a_listing_is_the_items_summaries_and_is_encoded_once():
    catalog = _catalog()
    listing = catalog.listing(["operator"], ["dr-team"])
    assert json.loads(listing) == [
        item.model_dump(mode="json", include=SUMMARY_FIELDS) for item in catalog.items.values()
    ]
    assert set(json.loads(listing)[0]) == SUMMARY_FIELDS
    assert catalog.listing(["operator"], ["dr-team"]) is listing
    assert catalog.listing(["operator"], []) is not listing

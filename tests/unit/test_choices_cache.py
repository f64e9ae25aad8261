"""A run's VM created after the VM list was cached gets its name: the list is read again for it, and a
value that stays missing (a drill VM already deleted) does not cost a read on every page poll."""

import json

from day2ops_app.catalog.choices import PrismChoices
from day2ops_app.services.labels import vm_names
from day2ops_app.settings import Settings
from fastapi.responses import JSONResponse

OLD = "11111111-1111-1111-1111-111111111111"
NEW = "22222222-2222-2222-2222-222222222222"
GONE = "33333333-3333-3333-3333-333333333333"


def test_a_vm_the_cached_list_predates_is_named_and_a_missing_one_is_not_read_again(monkeypatch):
    choices = PrismChoices(Settings(prism_host="prism.invalid"))
    prism = [{"value": OLD, "label": "web-old"}]
    reads = []

    def read(source, key, parent, odata):
        reads.append(source)
        return list(prism)

    monkeypatch.setattr(choices, "_read", read)
    assert vm_names(choices) == {OLD: "web-old"}
    prism.append({"value": NEW, "label": "crm-migrated"})  # the migration landed a VM since
    assert vm_names(choices, [OLD]) == {OLD: "web-old"}
    assert len(reads) == 1
    assert vm_names(choices, [OLD, NEW]) == {OLD: "web-old", NEW: "crm-migrated"}
    assert len(reads) == 2
    for _ in range(5):
        assert GONE not in vm_names(choices, [NEW, GONE])
    assert len(reads) == 3


def test_the_cached_list_is_served_as_read_and_a_fresh_source_never_from_the_cache(monkeypatch):
    """What the route serves from the event loop (cached) is what choices() answered, encoded as FastAPI
    encodes; a source read on every ask has no cached list to serve."""
    choices = PrismChoices(Settings(prism_host="prism.invalid"))
    label = "crm — Zürich"
    monkeypatch.setattr(choices, "_read", lambda source, key, parent, odata: [{"value": OLD, "label": label}])
    assert choices.cached("vms") is None
    answered = choices.choices("vms")
    assert choices.cached("vms") is answered
    assert choices.cached("vms", odata="name eq 'x'") is None  # another filter is another list
    assert json.loads(answered.json) == [{"value": OLD, "label": label}]
    assert answered.json == JSONResponse(list(answered)).body
    choices.choices("recovery_points", parent=OLD)
    assert choices.cached("recovery_points") is None

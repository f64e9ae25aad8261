"""A run's VM created after the VM list was cached gets its name: the list is read again for it, and a
value that stays missing (a drill VM already deleted) does not cost a read on every page poll."""

from day2ops_app.catalog.choices import PrismChoices
from day2ops_app.services.labels import vm_names
from day2ops_app.settings import Settings

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

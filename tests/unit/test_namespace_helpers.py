"""The namespace helpers spell every v4 mutation as a Change; a verb Prism does not have is refused."""

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils import _dataprotection, _prism_config, _vmm
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import Change


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            _vmm.power_vm("vm-1", "guest-shutdown"),
            (
                "POST",
                "vmm",
                "ahv/config/vms/{0}/$actions/guest-shutdown",
                ("vm-1",),
                _vmm.GUEST_POWER_OPTIONS,
            ),
        ),
        (
            _vmm.power_vm("vm-1", "power-on"),
            ("POST", "vmm", "ahv/config/vms/{0}/$actions/power-on", ("vm-1",), None),
        ),
        (
            _vmm.associate_categories("vm-1", ["c-1", "c-2"]),
            (
                "POST",
                "vmm",
                "ahv/config/vms/{0}/$actions/associate-categories",
                ("vm-1",),
                {"categories": [{"extId": "c-1"}, {"extId": "c-2"}]},
            ),
        ),
        (
            _vmm.delete_template_version("t-1", "v-2"),
            ("DELETE", "vmm", "content/templates/{0}/versions/{1}", ("t-1", "v-2"), None),
        ),
        (
            _vmm.guest_update("t-1", "complete", {"versionName": "2025.03"}),
            (
                "POST",
                "vmm",
                "content/templates/{0}/$actions/complete-guest-update",
                ("t-1",),
                {"versionName": "2025.03"},
            ),
        ),
        (
            _dataprotection.recovery_point_action("rp-1", "replicate", {"clusterExtId": "c-9"}),
            (
                "POST",
                "dataprotection",
                "config/recovery-points/{0}/$actions/replicate",
                ("rp-1",),
                {"clusterExtId": "c-9"},
            ),
        ),
        (
            _prism_config.delete_category("cat-1"),
            ("DELETE", "prism", "config/categories/{0}", ("cat-1",), None),
        ),
    ],
)
def test_a_change_names_method_namespace_path_entity_and_body(change, expected):
    assert isinstance(change, Change)
    assert tuple(change) == expected
    assert change.args == expected[3]


@pytest.mark.parametrize(
    "build",
    [
        lambda: _vmm.power_vm("vm-1", "hibernate"),
        lambda: _vmm.guest_update("t-1", "pause", None),
        lambda: _dataprotection.recovery_point_action("rp-1", "revert", None),
    ],
)
def test_a_verb_prism_does_not_have_is_refused(build):
    with pytest.raises(ValueError):
        build()


class Listing:
    """A client that records the task list calls and answers each with the ids it filtered on."""

    def __init__(self):
        self.filters = []

    def map(self, fn, items):
        return [fn(item) for item in items]

    def page(self, namespace, path, action, params):
        self.filters.append((namespace, path, params["$filter"], params["$limit"]))
        ids = [clause.split("'")[1] for clause in params["$filter"].split(" or ")]
        return [{"extId": i} for i in ids], len(ids)


def test_many_tasks_are_read_40_ids_per_list_call_each_once():
    client = Listing()
    ids = [f"t-{i}" for i in range(85)] + ["t-0"]
    found = _prism_config.tasks_by_ext_id(client, ids, "poll")
    assert [t["extId"] for t in found] == [f"t-{i}" for i in range(85)]
    assert [len(f[2].split(" or ")) for f in client.filters] == [40, 40, 5]
    assert {(f[0], f[1], f[3]) for f in client.filters} == {("prism", "config/tasks", 100)}

"""Pure pieces of the template modules: the PUT body an update sends, and the VMs a deployment made."""

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import created
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import match_deployed, update_body

# A template as GET returns it: read-only fields beside the ones a client sets.
READ = {
    "extId": "t-1",
    "templateName": "rocky9-base",
    "templateDescription": "Rocky 9",
    "createTime": "2025-01-01T00:00:00Z",
    "createdBy": {"username": "admin"},
    "updatedBy": {"username": "admin"},
    "guestUpdateStatus": None,
    "templateVersionSpec": {"extId": "v-1", "versionName": "2025.02", "vmSpec": {"name": "gold"}},
    "$objectType": "vmm.v4.content.Template",
}
NEW_VERSION = {"versionName": "2025.03", "versionDescription": "d", "versionSource": {"extId": "vm-9"}}


@pytest.mark.parametrize(
    ("description", "spec", "expected"),
    [
        ("new words", None, {"templateName": "rocky9-base", "templateDescription": "new words"}),
        (
            "Rocky 9",
            NEW_VERSION,
            {
                "templateName": "rocky9-base",
                "templateDescription": "Rocky 9",
                "templateVersionSpec": NEW_VERSION,
            },
        ),
        (None, NEW_VERSION, {"templateName": "rocky9-base", "templateVersionSpec": NEW_VERSION}),
    ],
)
def test_an_update_sends_what_a_client_sets_never_the_template_as_read(description, spec, expected):
    assert update_body(READ, description, spec) == expected


def vm(ext_id, name):
    return {"extId": ext_id, "name": name}


def test_named_vms_come_back_in_the_order_of_the_names_whatever_the_task_order():
    named = [[vm("b", "web-b")], [vm("a", "web-a")]]
    assert match_deployed("task-1", ["web-b", "web-a"], named, ["a", "b"], "deploy") == [
        vm("b", "web-b"),
        vm("a", "web-a"),
    ]


def test_the_task_tells_the_new_vm_from_an_older_one_of_the_same_name():
    named = [[vm("old", "web-a"), vm("new", "web-a")]]
    assert match_deployed("task-1", ["web-a"], named, ["new"], "deploy") == [vm("new", "web-a")]


def test_a_task_that_names_no_vm_leaves_the_names_to_decide():
    assert match_deployed("task-1", ["web-a"], [[vm("a", "web-a")]], [], "deploy") == [vm("a", "web-a")]


@pytest.mark.parametrize(
    ("names", "named", "task_vms", "words"),
    [
        (["web-a", "web-b"], [[vm("a", "web-a")], []], ["a", "b"], ["no VM is named 'web-b'"]),
        (["web-a"], [[vm("x", "web-a")]], ["a"], ["named 'web-a' (x) are none of those the task names"]),
        (["web-a"], [[vm("x", "web-a"), vm("y", "web-a")]], [], ["2 VMs are named 'web-a' (x, y)"]),
        (["web-a"], [[vm("a", "web-a")]], ["a", "z"], ["also names VM(s) z"]),
    ],
)
def test_a_missing_vm_or_a_disagreement_fails_naming_the_deploy_task(names, named, task_vms, words):
    with pytest.raises(ApiError) as caught:
        match_deployed("task-1", names, named, task_vms, "deploy 1 VM(s) from template 'rocky9-base'")
    message = str(caught.value)
    assert message.startswith("Failed to deploy 1 VM(s) from template 'rocky9-base': deploy task task-1: ")
    assert "task_info ext_id=task-1" in message
    for word in words:
        assert word in message


def test_a_create_task_that_names_nothing_it_made_is_an_api_error_naming_the_task():
    task = {"extId": "task-7", "entitiesAffected": [{"extId": "vm-1", "rel": "vmm:ahv:config:vm"}]}
    template = {"extId": "t-1", "rel": "vmm:content:template"}
    made = dict(task, entitiesAffected=[*task["entitiesAffected"], template])
    assert created(made, "vmm:content:template", "create template 'web'") == "t-1"
    with pytest.raises(ApiError) as caught:
        created(task, "vmm:content:template", "create template 'web'")
    assert str(caught.value).startswith(
        "Failed to create template 'web': task task-7 succeeded but names no affected entity of type "
        "vmm:content:template"
    )


def test_the_versions_that_failed_their_smoke_test_are_recorded_on_the_description_line():
    from ansible_collections.day2ops.ahv.plugins.module_utils._templates import (
        smoke_failed_ext_ids,
        with_smoke_failed,
    )

    a, b, c = ("a" * 36, "b" * 36, "c" * 36)
    assert smoke_failed_ext_ids("Rocky 9") == [] and smoke_failed_ext_ids(None) == []
    text = with_smoke_failed("Rocky 9", a)
    assert text == f"Rocky 9\n[day2ops: failed smoke test: {a}]" and smoke_failed_ext_ids(text) == [a]
    assert smoke_failed_ext_ids(with_smoke_failed(text, b)) == [a, b]
    # Versions gone from the template are dropped; the user's words are kept; at most 1000 characters.
    assert with_smoke_failed(with_smoke_failed(text, b), c, [b, c]).startswith("Rocky 9\n[day2ops")
    assert smoke_failed_ext_ids(with_smoke_failed(with_smoke_failed(text, b), c, [b, c])) == [b, c]
    long = with_smoke_failed("x" * 990, a)
    assert len(long) <= 1000 and smoke_failed_ext_ids(long) == [a]

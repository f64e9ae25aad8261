"""ntnx-vmm-py-client's TemplatesApi against the simulator: every template call, as an SDK user makes it."""

import json

import pytest
from ntnx_vmm_py_client import AhvConfigVm as Vm
from ntnx_vmm_py_client import (
    CompleteGuestUpdateSpec,
    InitiateGuestUpdateSpec,
    Template,
    TemplateDeployment,
    TemplatePublishSpec,
    TemplatesApi,
    TemplateVersionReference,
    TemplateVersionSpec,
    TemplateVmReference,
    VmConfigOverride,
)
from ntnx_vmm_py_client.rest import ApiException
from sdk_checks import assert_parsed, wait_task

GIB = 1024**3


@pytest.fixture
def templates_api(vmm_client):
    return TemplatesApi(api_client=vmm_client)


def template_named(templates_api, name: str):
    (template,) = templates_api.list_templates(_filter=f"templateName eq '{name}'").data
    return templates_api.get_template_by_id(template.ext_id).data


def succeeded(tasks_api, ref):
    task = wait_task(tasks_api, ref.data.ext_id)
    assert str(task.status) == "SUCCEEDED", task.error_messages
    return task


def test_list_and_get_templates_deserialize_with_their_active_version(templates_api, vmm_client):
    listed = templates_api.list_templates(_orderby="templateName desc", _limit=10)
    assert_parsed(listed)
    assert [t.template_name for t in listed.data] == ["win2022-base", "rocky9-base"]
    assert listed.metadata.total_available_results == 2
    got = templates_api.get_template_by_id(listed.data[1].ext_id)
    assert_parsed(got)
    template = got.data
    assert vmm_client.get_etag(template) == template.get_reserved()["ETag"]
    active = template.template_version_spec
    assert active.version_name == "2025.02" and active.is_active_version
    assert isinstance(active.version_source, TemplateVmReference) and isinstance(active.vm_spec, Vm)
    selected = templates_api.list_templates(_filter="templateName eq 'rocky9-base'", _select="templateName")
    assert_parsed(selected)
    assert selected.data[0].template_name == "rocky9-base" and selected.data[0].template_version_spec is None


def test_versions_list_get_and_odata(templates_api):
    template = template_named(templates_api, "rocky9-base")
    versions = templates_api.list_template_versions(template.ext_id, _orderby="createTime desc")
    assert_parsed(versions)
    assert {v.version_name for v in versions.data} == {"2025.01", "2025.02"}
    assert [v.is_active_version for v in versions.data if v.version_name == "2025.01"] == [False]
    older = templates_api.list_template_versions(template.ext_id, _filter="versionName eq '2025.01'")
    (version,) = older.data
    got = templates_api.get_template_version_by_id(template.ext_id, version.ext_id)
    assert_parsed(got)
    assert got.data.ext_id == version.ext_id and got.data.vm_spec.name == "rocky9-base-gold"
    with pytest.raises(ApiException) as err:
        templates_api.list_template_versions(template.ext_id, _filter="isActiveVersion eq true")
    assert err.value.status == 400 and "isActiveVersion" in err.value.body


def test_create_from_a_vm_then_versions_from_a_vm_and_from_a_version(templates_api, vm_api, tasks_api):
    vm = vm_api.list_vms(_filter="startswith(name,'eng-')", _limit=1).data[0]
    body = Template(
        template_name="contract-golden",
        template_description="made by the contract test",
        template_version_spec=TemplateVersionSpec(version_source=TemplateVmReference(ext_id=vm.ext_id)),
    )
    task = succeeded(tasks_api, templates_api.create_template(body))
    (template_id,) = [e.ext_id for e in task.entities_affected if e.rel == "vmm:content:template"]
    template = templates_api.get_template_by_id(template_id).data
    first = template.template_version_spec
    assert (
        first.version_name == "Initial Version" and first.version_description == f"Created from VM: {vm.name}"
    )
    assert first.vm_spec.memory_size_bytes == vm.memory_size_bytes

    # A new version from the same VM, kept inactive: the SDK sends If-Match from the template read.
    template.template_version_spec = TemplateVersionSpec(
        version_name="v2",
        version_description="second",
        is_active_version=False,
        version_source=TemplateVmReference(ext_id=vm.ext_id),
    )
    succeeded(tasks_api, templates_api.update_template_by_id(template_id, template))
    # A third from the first with more memory, active by the SDK's default.
    template = templates_api.get_template_by_id(template_id).data
    assert template.template_version_spec.ext_id == first.ext_id
    template.template_version_spec = TemplateVersionSpec(
        version_name="v3",
        version_description="more memory",
        version_source=TemplateVersionReference(
            version_id=first.ext_id, override_vm_config=VmConfigOverride(memory_size_bytes=32 * GIB)
        ),
    )
    succeeded(tasks_api, templates_api.update_template_by_id(template_id, template))
    versions = {v.version_name: v for v in templates_api.list_template_versions(template_id).data}
    assert set(versions) == {"Initial Version", "v2", "v3"}
    assert [n for n, v in versions.items() if v.is_active_version] == ["v3"]
    assert versions["v3"].vm_spec.memory_size_bytes == 32 * GIB
    assert isinstance(versions["v3"].version_source, TemplateVersionReference)


def test_publish_needs_the_fresh_template_etag(templates_api, tasks_api):
    template = template_named(templates_api, "rocky9-base")
    old = next(
        v for v in templates_api.list_template_versions(template.ext_id).data if not v.is_active_version
    )
    etag = template.get_reserved()["ETag"]
    spec = TemplatePublishSpec(version_id=old.ext_id)
    succeeded(tasks_api, templates_api.publish_template(template.ext_id, spec, if_match=etag))
    assert template_named(templates_api, "rocky9-base").template_version_spec.ext_id == old.ext_id
    with pytest.raises(ApiException) as err:
        templates_api.publish_template(template.ext_id, spec, if_match=etag)
    assert err.value.status == 412
    assert json.loads(err.value.body) == {"code": "PLAT-10005", "message": "Invalid eTag header"}


def test_deploy_two_vms_from_an_old_version_names_them_in_subtasks(
    templates_api, vm_api, tasks_api, clusters_api
):
    template = template_named(templates_api, "rocky9-base")
    old = templates_api.list_template_versions(template.ext_id, _filter="versionName eq '2025.01'").data[0]
    dr = clusters_api.list_clusters(_filter="name eq 'dr-ahv-01'").data[0]
    body = TemplateDeployment(
        version_id=old.ext_id,
        number_of_vms=2,
        cluster_reference=dr.ext_id,
        override_vm_config_map={"0": VmConfigOverride(name="from-template-a", num_sockets=4)},
    )
    ref = templates_api.deploy_template(template.ext_id, body, if_match=template.get_reserved()["ETag"])
    task = succeeded(tasks_api, ref)
    assert [(e.ext_id, e.rel) for e in task.entities_affected] == [(template.ext_id, "vmm:content:templates")]
    assert task.number_of_subtasks == 2 and len(task.sub_tasks) == 2
    vms = []
    for sub in task.sub_tasks:
        subtask = tasks_api.get_task_by_id(sub.ext_id).data
        assert_parsed(subtask)
        assert str(subtask.status) == "SUCCEEDED" and subtask.parent_task.ext_id == task.ext_id
        (vm_id,) = [e.ext_id for e in subtask.entities_affected if e.rel == "vmm:ahv:config:vm"]
        vms.append(vm_api.get_vm_by_id(vm_id).data)
    assert [vm.name for vm in vms] == ["from-template-a", "rocky9-base-2"]
    assert [vm.num_sockets for vm in vms] == [4, old.vm_spec.num_sockets]
    assert {vm.cluster.ext_id for vm in vms} == {dr.ext_id}
    assert {str(vm.power_state) for vm in vms} == {"OFF"}


def test_a_version_can_be_deleted_unless_it_is_active(templates_api, tasks_api):
    template = template_named(templates_api, "rocky9-base")
    versions = templates_api.list_template_versions(template.ext_id).data
    active = next(v for v in versions if v.is_active_version)
    old = next(v for v in versions if not v.is_active_version)
    etag = template.get_reserved()["ETag"]
    with pytest.raises(ApiException) as err:
        templates_api.delete_template_version_by_id(template.ext_id, active.ext_id, if_match=etag)
    assert err.value.status == 409 and "publish another version first" in err.value.body
    ref = templates_api.delete_template_version_by_id(template.ext_id, old.ext_id, if_match=etag)
    succeeded(tasks_api, ref)
    assert [v.ext_id for v in templates_api.list_template_versions(template.ext_id).data] == [active.ext_id]


def test_guest_update_initiate_complete_and_cancel(templates_api, vm_api, tasks_api):
    template = template_named(templates_api, "win2022-base")
    ref = templates_api.initiate_guest_update(
        template.ext_id, InitiateGuestUpdateSpec(), if_match=template.get_reserved()["ETag"]
    )
    succeeded(tasks_api, ref)
    template = template_named(templates_api, "win2022-base")
    vm_id = template.guest_update_status.deployed_vm_reference
    assert vm_api.get_vm_by_id(vm_id).data.name == "win2022-base-guest-update"
    with pytest.raises(ApiException) as err:
        templates_api.initiate_guest_update(
            template.ext_id, InitiateGuestUpdateSpec(), if_match=template.get_reserved()["ETag"]
        )
    assert err.value.status == 409 and vm_id in err.value.body
    done = CompleteGuestUpdateSpec(
        version_name="2025.03", version_description="patched", is_active_version=True
    )
    ref = templates_api.complete_guest_update(template.ext_id, done, if_match=template.get_reserved()["ETag"])
    succeeded(tasks_api, ref)
    template = template_named(templates_api, "win2022-base")
    assert template.guest_update_status is None
    assert template.template_version_spec.version_name == "2025.03"
    assert template.template_version_spec.version_source.ext_id == vm_id
    with pytest.raises(ApiException) as err:
        vm_api.get_vm_by_id(vm_id)
    assert err.value.status == 404

    etag = template.get_reserved()["ETag"]
    succeeded(
        tasks_api,
        templates_api.initiate_guest_update(template.ext_id, InitiateGuestUpdateSpec(), if_match=etag),
    )
    template = template_named(templates_api, "win2022-base")
    vm_id = template.guest_update_status.deployed_vm_reference
    ref = templates_api.cancel_guest_update(template.ext_id, if_match=template.get_reserved()["ETag"])
    succeeded(tasks_api, ref)
    template = template_named(templates_api, "win2022-base")
    assert template.guest_update_status is None and template.template_version_spec.version_name == "2025.03"
    assert len(templates_api.list_template_versions(template.ext_id).data) == 2
    with pytest.raises(ApiException) as err:
        vm_api.get_vm_by_id(vm_id)
    assert err.value.status == 404


def test_delete_a_template_and_its_versions(templates_api, tasks_api):
    template = template_named(templates_api, "win2022-base")
    ref = templates_api.delete_template_by_id(template.ext_id, if_match=template.get_reserved()["ETag"])
    succeeded(tasks_api, ref)
    with pytest.raises(ApiException) as err:
        templates_api.get_template_by_id(template.ext_id)
    assert err.value.status == 404
    assert [t.template_name for t in templates_api.list_templates().data] == ["rocky9-base"]


@pytest.mark.parametrize(
    ("call", "status", "words"),
    [
        (
            lambda api, t: api.deploy_template(
                t.ext_id,
                TemplateDeployment(number_of_vms=1, cluster_reference="00000000-0000-4000-8000-000000000000"),
                if_match=t.get_reserved()["ETag"],
            ),
            400,
            "AOS cluster",
        ),
        (
            lambda api, t: api.deploy_template(
                t.ext_id,
                TemplateDeployment(
                    number_of_vms=1, cluster_reference=t.template_version_spec.vm_spec.cluster.ext_id
                ),
            ),
            428,
            "Missing eTag",
        ),
        (
            lambda api, t: api.complete_guest_update(
                t.ext_id,
                CompleteGuestUpdateSpec(version_name="x", version_description="y"),
                if_match=t.get_reserved()["ETag"],
            ),
            409,
            "no guest OS update",
        ),
        (
            lambda api, t: api.get_template_version_by_id(t.ext_id, "00000000-0000-4000-8000-000000000000"),
            404,
            "does not exist",
        ),
    ],
)
def test_refusals_name_the_problem(templates_api, call, status, words):
    template = template_named(templates_api, "rocky9-base")
    with pytest.raises(ApiException) as err:
        call(templates_api, template)
    assert err.value.status == status and words in err.value.body

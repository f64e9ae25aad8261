"""ntnx-prism-py-client and ntnx-clustermgmt-py-client against the simulator."""

import json

import ntnx_prism_py_client as prism
import pytest
from ntnx_prism_py_client.rest import ApiException
from sdk_checks import assert_parsed


def test_clusters_tell_prism_central_from_ahv_clusters(clusters_api):
    resp = clusters_api.list_clusters()
    assert_parsed(resp)
    by_name = {c.name: c for c in resp.data}
    assert set(by_name) == {"pc-01", "prod-ahv-01", "dr-ahv-01"}
    assert [str(f) for f in by_name["pc-01"].config.cluster_function] == ["PRISM_CENTRAL"]
    for name in ("prod-ahv-01", "dr-ahv-01"):
        assert [str(f) for f in by_name[name].config.cluster_function] == ["AOS"]
        assert [str(h) for h in by_name[name].config.hypervisor_types] == ["AHV"]
    assert by_name["prod-ahv-01"].vm_count > by_name["dr-ahv-01"].vm_count > 0


def test_cluster_filter_with_lambda_on_cluster_function(clusters_api):
    flt = "config/clusterFunction/any(t:t eq Clustermgmt.Config.ClusterFunctionRef'PRISM_CENTRAL')"
    resp = clusters_api.list_clusters(_filter=flt)
    assert [c.name for c in resp.data] == ["pc-01"]
    aos = clusters_api.list_clusters(
        _filter="config/clusterFunction/any(t:t eq Clustermgmt.Config.ClusterFunctionRef'AOS')",
        _orderby="name",
    )
    assert [c.name for c in aos.data] == ["dr-ahv-01", "prod-ahv-01"]


def test_cluster_get_and_select_projection(clusters_api):
    listed = clusters_api.list_clusters(_select="name,vmCount")
    assert_parsed(listed)
    assert all(type(c).__name__ == "ClusterProjection" and c.config is None for c in listed.data)
    one = clusters_api.get_cluster_by_id(listed.data[0].ext_id)
    assert_parsed(one)
    assert one.data.name == listed.data[0].name and one.data.nodes.number_of_nodes >= 1


def test_categories_filter_orderby_and_expand(categories_api):
    resp = categories_api.list_categories(
        _filter="key eq 'Department'", _orderby="value desc", _expand="associations"
    )
    assert_parsed(resp)
    values = [c.value for c in resp.data]
    assert values == sorted(values, reverse=True) and "Finance" in values
    assert all(str(c.type) == "USER" for c in resp.data)
    finance = next(c for c in resp.data if c.value == "Finance")
    assert finance.associations[0].count > 0 and str(finance.associations[0].resource_type) == "VM"
    detail = categories_api.get_category_by_id(finance.ext_id, _expand="detailedAssociations")
    assert_parsed(detail)
    assert len(detail.data.detailed_associations) == finance.associations[0].count
    system = categories_api.list_categories(_filter="type eq Prism.Config.CategoryType'SYSTEM'")
    assert {c.key for c in system.data} == {"Quarantine", "AppType"}


def test_category_create_update_delete_are_synchronous(categories_api, prism_client):
    created = categories_api.create_category(
        prism.Category(key="CostCenter", value="CC-1001", description="chargeback code")
    )
    assert_parsed(created)
    ext_id = created.data.ext_id
    assert created.data.key == "CostCenter" and str(created.data.type) == "USER"
    current = categories_api.get_category_by_id(ext_id).data
    current.description = "chargeback code, finance"
    updated = categories_api.update_category_by_id(ext_id, current)
    assert_parsed(updated)
    assert "updated" in updated.data[0].message
    assert categories_api.get_category_by_id(ext_id).data.description == "chargeback code, finance"
    etag = prism_client.get_etag(categories_api.get_category_by_id(ext_id).data)
    assert categories_api.delete_category_by_id(ext_id, if_match=etag) is None
    with pytest.raises(ApiException) as err:
        categories_api.get_category_by_id(ext_id)
    assert err.value.status == 404


def test_category_rules_are_enforced(categories_api):
    with pytest.raises(ApiException) as err:
        categories_api.create_category(prism.Category(key="Bad:Key", value="x"))
    assert err.value.status == 400
    assert "Bad:Key" in json.dumps(json.loads(err.value.body))
    with pytest.raises(ApiException) as err:
        categories_api.create_category(prism.Category(key="Department", value="Finance"))
    assert err.value.status == 409


def test_tasks_list_filter_and_get_with_encoded_id(tasks_api, vm_api):
    vm = vm_api.list_vms(_filter="powerState eq Vmm.Ahv.Config.PowerState'ON'", _limit=1).data[0]
    etag = vm_api.get_vm_by_id(vm.ext_id).data.get_reserved()["ETag"]
    ref = vm_api.reboot_vm(vm.ext_id, if_match=etag).data.ext_id
    listed = tasks_api.list_tasks(_filter=f"entitiesAffected/any(a:a/extId eq '{vm.ext_id}')")
    assert_parsed(listed)
    assert [t.ext_id for t in listed.data] == [ref]
    running = tasks_api.list_tasks(_filter="status eq Prism.Config.TaskStatus'SUCCEEDED'")
    assert ref not in {t.ext_id for t in running.data or []}
    got = tasks_api.get_task_by_id(ref)  # the SDK sends ZXJnb24%3D%3A...
    assert got.data.ext_id == ref and got.data.operation == "RebootVm"

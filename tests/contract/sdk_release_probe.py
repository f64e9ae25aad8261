"""Run by test_sdk_releases.py in a subprocess whose PYTHONPATH holds one set of older SDK releases.

Exercises the calls a client of that era makes (list with OData, get with ETag, a power action
polled to completion, categories, clusters) and checks every answer parses into its models.
"""

import json
import sys
import time

import ntnx_clustermgmt_py_client as clustermgmt
import ntnx_prism_py_client as prism
import ntnx_vmm_py_client as vmm
from sdk_checks import assert_parsed


def client(sdk, port: int):
    config = sdk.Configuration()
    config.host, config.port = "127.0.0.1", port
    config.username, config.password = "admin", "Nutanix.123"
    config.verify_ssl = False
    config.max_retry_attempts = 1
    return sdk.ApiClient(configuration=config)


def main(port: int) -> dict:
    vm_api = vmm.VmApi(api_client=client(vmm, port))
    tasks_api = prism.TasksApi(api_client=client(prism, port))
    categories_api = prism.CategoriesApi(api_client=client(prism, port))
    clusters_api = clustermgmt.ClustersApi(api_client=client(clustermgmt, port))

    listed = vm_api.list_vms(
        _filter="powerState eq Vmm.Ahv.Config.PowerState'ON' and startswith(name,'it-')",
        _orderby="name",
        _limit=5,
        _page=0,
    )
    assert_parsed(listed)
    assert listed.data and listed.metadata.total_available_results >= len(listed.data)
    vm = vm_api.get_vm_by_id(listed.data[0].ext_id)
    assert_parsed(vm)
    etag = vm.data.get_reserved()["ETag"]
    ref = vm_api.power_off_vm(vm.data.ext_id, if_match=etag)
    assert_parsed(ref)
    deadline = time.monotonic() + 20
    while True:
        task = tasks_api.get_task_by_id(ref.data.ext_id)
        assert_parsed(task)
        if str(task.data.status) in ("SUCCEEDED", "FAILED"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert str(task.data.status) == "SUCCEEDED", task.data.error_messages
    assert str(vm_api.get_vm_by_id(vm.data.ext_id).data.power_state) == "OFF"

    categories = categories_api.list_categories(_filter="key eq 'Environment'", _expand="associations")
    assert_parsed(categories)
    clusters = clusters_api.list_clusters(_filter="name eq 'prod-ahv-01'")
    assert_parsed(clusters)
    return {
        "vmm": vmm.ApiClient.SDK_VERSION if hasattr(vmm.ApiClient, "SDK_VERSION") else "?",
        "vm": vm.data.name,
        "task": task.data.ext_id,
        "categories": len(categories.data),
        "cluster": clusters.data[0].name,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))

"""The official Nutanix v4 SDKs pointed at the simulator process: the referees of fidelity.

With DAY2OPS_SDK_RELEASES=v4.0 the suite runs with the SDK releases that define v4.0 instead of the
venv's, so every test also speaks the version segment the collection calls by default."""

import os
import sys

from sdk_releases import paths

ERA = os.environ.get("DAY2OPS_SDK_RELEASES")
if ERA:
    sys.path[:0] = paths(ERA)

import ntnx_clustermgmt_py_client as clustermgmt  # noqa: E402
import ntnx_dataprotection_py_client as dataprotection  # noqa: E402
import ntnx_prism_py_client as prism  # noqa: E402
import ntnx_vmm_py_client as vmm  # noqa: E402
import pytest  # noqa: E402
from sim_process import PASSWORD, USERNAME  # noqa: E402


def _client(sdk, sim):
    config = sdk.Configuration()
    config.host = sim.host
    config.port = sim.port
    config.username = USERNAME
    config.password = PASSWORD
    config.verify_ssl = False
    config.max_retry_attempts = 1
    return sdk.ApiClient(configuration=config)


@pytest.fixture
def vmm_client(sim):
    return _client(vmm, sim)


@pytest.fixture
def prism_client(sim):
    return _client(prism, sim)


@pytest.fixture
def clustermgmt_client(sim):
    return _client(clustermgmt, sim)


@pytest.fixture
def vm_api(vmm_client):
    return vmm.VmApi(api_client=vmm_client)


@pytest.fixture
def tasks_api(prism_client):
    return prism.TasksApi(api_client=prism_client)


@pytest.fixture
def categories_api(prism_client):
    return prism.CategoriesApi(api_client=prism_client)


@pytest.fixture
def clusters_api(clustermgmt_client):
    return clustermgmt.ClustersApi(api_client=clustermgmt_client)


@pytest.fixture
def dataprotection_client(sim):
    return _client(dataprotection, sim)


@pytest.fixture
def rp_api(dataprotection_client):
    return dataprotection.RecoveryPointsApi(api_client=dataprotection_client)

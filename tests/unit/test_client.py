"""The Prism client against the simulator process and its fault injection, plus its pure helpers."""

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    backoff_seconds,
    retry_after_seconds,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient, parse_time
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import sort_like_orderby, summary
from sim_process import API_KEY

VMS = "ahv/config/vms"


def client_for(sim, **options) -> PrismClient:
    return PrismClient.from_options(sim.prism_options(**options))


def fault(sim, **rule):
    sim.control("POST", "faults", rule)


def vm_named(client, name):
    return client.list("vmm", VMS, action="find", params={"$filter": f"name eq '{name}'"})[0]


# -- pure helpers ---------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("3") == 3.0
    now = time.time()
    date = format_datetime(datetime.fromtimestamp(now + 10, UTC), usegmt=True)
    assert 8 <= retry_after_seconds(date, now=now) <= 10
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


@pytest.mark.parametrize("attempt", [1, 2, 3, 6, 12])
def test_backoff_grows_with_jitter_and_a_cap(attempt):
    ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
    samples = {backoff_seconds(attempt) for _ in range(50)}
    assert all(ceiling / 2 <= s <= ceiling for s in samples) and len(samples) > 1


def test_odata_quote_doubles_single_quotes():
    assert odata_quote("O'Brien") == "'O''Brien'"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-11-25T06:51:47.034875Z", datetime(2026, 11, 25, 6, 51, 47, 34875, UTC)),
        ("2026-11-25T06:51:47Z", datetime(2026, 11, 25, 6, 51, 47, tzinfo=UTC)),
        ("2026-11-25T08:51:47.5+02:00", datetime(2026, 11, 25, 6, 51, 47, 500000, UTC)),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_sort_like_orderby_handles_several_keys_and_paths():
    items = [{"n": "b", "c": {"x": 1}}, {"n": "a", "c": {"x": 2}}, {"n": "c", "c": {"x": 1}}]
    assert [i["n"] for i in sort_like_orderby(items, "c/x desc, n")] == ["a", "b", "c"]


def test_summary_derives_sizes_ips_and_categories():
    class Index:
        def as_map(self, refs):
            return {"Department": ["Finance"]} if refs else {}

    vm = {
        "extId": "v1",
        "name": "web",
        "cluster": {"extId": "c1"},
        "numSockets": 2,
        "numCoresPerSocket": 3,
        "numThreadsPerCore": 2,
        "memorySizeBytes": 8 * 2**30,
        "disks": [
            {"backingInfo": {"$objectType": "vmm.v4.ahv.config.VmDisk", "diskSizeBytes": 10 * 2**30}},
            {"backingInfo": {"$objectType": "vmm.v4.ahv.config.ADSfVolumeGroupReference"}},
            {"backingInfo": {"diskSizeBytes": 2**29}},
        ],
        "nics": [
            {"networkInfo": {"ipv4Config": {"ipAddress": {"value": "10.0.0.9"}}}},
            {"networkInfo": {"ipv4Info": {"learnedIpAddresses": [{"value": "10.0.0.5"}]}}},
        ],
        "categories": [{"extId": "k1"}],
    }
    shape = summary(vm, {"c1": "prod"}, Index())
    assert shape["vcpus"] == 12 and shape["memory_mib"] == 8192 and shape["storage_gib"] == 10.5
    assert shape["ip_addresses"] == ["10.0.0.5", "10.0.0.9"]
    assert shape["cluster"] == "prod" and shape["categories"] == {"Department": ["Finance"]}


# -- against the simulator --------------------------------------------------------------------


def test_pagination_reads_every_page_once(sim):
    client = client_for(sim)
    vms = client.list("vmm", VMS, action="list VMs", params={"$select": "name"})
    total = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$limit": 1}).json()["metadata"]
    assert len(vms) == total["totalAvailableResults"] == len({vm["extId"] for vm in vms})
    assert client.transport.stats["requests"] == -(-len(vms) // 100)
    assert len(client.list("vmm", VMS, action="list VMs", limit=150)) == 150


def test_retries_on_503_then_succeeds(sim):
    client = client_for(sim)
    fault(sim, operation="list_clusters", status=503, count=2)
    clusters = client.list("clustermgmt", "config/clusters", action="list clusters")
    assert {c["name"] for c in clusters} >= {"prod-ahv-01", "dr-ahv-01"}
    assert client.transport.stats["retries"] == 2


def test_408_is_retried_like_503_as_the_sdks_do(sim):
    client = client_for(sim)
    fault(sim, operation="list_clusters", status=408, count=2, message="Request Timeout")
    assert client.list("clustermgmt", "config/clusters", action="list clusters")
    assert client.transport.stats["retries"] == 2


def test_a_mutation_answered_408_is_retried_with_its_request_id_and_replayed_not_repeated(sim):
    """The POST ran, Prism timed out answering it: the retry carries the same request id, one category."""
    client = client_for(sim)
    fault(sim, operation="create_category", status=408, count=1, after_handler=True)
    created = client.submit(
        "POST", "prism", "config/categories", action="create", body={"key": "Team", "value": "Red"}
    )
    found = client.list(
        "prism", "config/categories", action="find", params={"$filter": "key eq 'Team' and value eq 'Red'"}
    )
    assert [c["extId"] for c in found] == [created["extId"]]
    assert client.transport.stats["retries"] == 1


def test_retry_after_is_honoured(sim):
    client = client_for(sim)
    fault(sim, operation="list_clusters", status=429, count=1, retry_after=1)
    start = time.monotonic()
    client.list("clustermgmt", "config/clusters", action="list clusters")
    assert time.monotonic() - start >= 1.0
    assert client.transport.stats["retries"] == 1


def test_retries_are_bounded(sim):
    client = client_for(sim, max_retries=2)
    fault(sim, operation="list_clusters", status=503, count=10, message="Service busy")
    with pytest.raises(ApiError) as caught:
        client.list("clustermgmt", "config/clusters", action="list clusters")
    assert caught.value.status == 503 and "Service busy" in str(caught.value)
    assert client.transport.stats["requests"] == 3


def test_a_lost_answer_is_replayed_not_repeated(sim):
    """The POST runs, its answer is lost, the retry carries the same request id: one category."""
    client = client_for(sim)
    fault(sim, operation="create_category", status=503, count=1, after_handler=True)
    created = client.submit(
        "POST", "prism", "config/categories", action="create", body={"key": "Team", "value": "Blue"}
    )
    found = client.list(
        "prism", "config/categories", action="find", params={"$filter": "key eq 'Team' and value eq 'Blue'"}
    )
    assert [c["extId"] for c in found] == [created["extId"]]
    assert client.transport.stats["retries"] == 1


def test_each_mutation_gets_its_own_request_id(sim):
    client = client_for(sim)
    first = client.submit(
        "POST", "prism", "config/categories", action="create", body={"key": "T", "value": "1"}
    )
    second = client.submit(
        "POST", "prism", "config/categories", action="create", body={"key": "T", "value": "2"}
    )
    assert first["extId"] != second["extId"]


def test_stale_etag_is_read_again_and_the_change_decided_again(sim):
    client = client_for(sim)
    vm = vm_named(client, "hr-portal-tst-app-071")
    seen = []

    def decide(current):
        seen.append(current["powerState"])
        if current["powerState"] == "OFF":
            return None
        return ("POST", "vmm", VMS + "/{0}/$actions/power-off", (current["extId"],), None)

    fault(sim, operation="power_off_vm", status=412, count=1)
    _entity, decision, task = client.change_fresh(
        "vmm", VMS + "/{0}", vm["extId"], action="power off", decide=decide
    )
    assert seen == ["ON", "ON"] and decision is not None
    assert client.wait_task(task, 60, "power off")["status"] == "SUCCEEDED"
    assert client.change_fresh("vmm", VMS + "/{0}", vm["extId"], action="again", decide=decide)[1] is None


def test_a_second_stale_etag_is_reported(sim):
    client = client_for(sim)
    vm = vm_named(client, "hr-portal-tst-app-071")
    fault(sim, operation="power_off_vm", status=412, count=2)
    with pytest.raises(ApiError) as caught:
        client.change_fresh(
            "vmm",
            VMS + "/{0}",
            vm["extId"],
            action="power off",
            decide=lambda c: ("POST", "vmm", VMS + "/{0}/$actions/power-off", (c["extId"],), None),
        )
    assert caught.value.status == 412 and "changed while we were updating" in str(caught.value)


def test_failed_task_names_the_task_and_prism_reason(sim):
    client = client_for(sim)
    vm, etag = client.get(
        "vmm", VMS + "/{0}", vm_named(client, "hr-portal-tst-app-071")["extId"], action="read"
    )
    sim.control("POST", "tasks/fail-next", {"operation": "PowerOffVm", "message": "Host is in maintenance"})
    task = client.submit(
        "POST", "vmm", VMS + "/{0}/$actions/power-off", vm["extId"], action="off", if_match=etag
    )
    with pytest.raises(ApiError) as caught:
        client.wait_task(task, 60, "power off VM")
    assert task in str(caught.value) and "Host is in maintenance" in str(caught.value)
    assert str(caught.value).startswith("Failed to power off VM: ")


def test_many_tasks_are_polled_together(sim):
    client = client_for(sim)
    vms = client.list(
        "vmm", VMS, action="list", params={"$filter": "powerState eq Vmm.Ahv.Config.PowerState'ON'"}
    )[:30]
    tasks = []
    for vm in vms:
        _data, etag = client.get("vmm", VMS + "/{0}", vm["extId"], action="read")
        tasks.append(
            client.submit(
                "POST", "vmm", VMS + "/{0}/$actions/power-off", vm["extId"], action="off", if_match=etag
            )
        )
    before = client.transport.stats["requests"]
    done = client.wait_tasks(tasks, 60, "power off")
    assert sorted(done) == sorted(tasks) and {t["status"] for t in done.values()} == {"SUCCEEDED"}
    polls = client.transport.stats["requests"] - before
    assert polls < len(tasks), "one list call per round covers 40 tasks"


def test_waiting_has_a_deadline(sim):
    client = client_for(sim)
    sim.control("POST", "tasks/timing", {"per_operation": {"PowerOffVm": 30}})
    vm, etag = client.get(
        "vmm", VMS + "/{0}", vm_named(client, "hr-portal-tst-app-071")["extId"], action="read"
    )
    task = client.submit(
        "POST", "vmm", VMS + "/{0}/$actions/power-off", vm["extId"], action="off", if_match=etag
    )
    with pytest.raises(ApiError) as caught:
        client.wait_task(task, 1, "power off VM")
    sim.control("POST", "tasks/timing", {"per_operation": {}})
    assert "still running after 1s" in str(caught.value) and task in str(caught.value)


@pytest.mark.parametrize(
    "options,call,words",
    [
        ({"nutanix_password": "wrong"}, ("GET", "vmm", VMS), ["401", "nutanix_username"]),
        ({}, ("GET", "vmm", VMS + "/00000000-0000-4000-8000-000000000000"), ["404", "ext_id"]),
        ({"api_versions": {"vmm": "v4.9"}}, ("GET", "vmm", VMS), ["404", "api_versions"]),
        ({"nutanix_username": None, "nutanix_api_key": API_KEY}, ("GET", "vmm", VMS), []),
    ],
)
def test_errors_read_as_one_line(sim, options, call, words):
    client = client_for(sim, **options)
    if not words:
        assert client.call(*call, action="list VMs")[1].status_code == 200
        return
    with pytest.raises(ApiError) as caught:
        client.call(*call, action="read VMs")
    text = str(caught.value)
    assert "\n" not in text and text.startswith("Failed to read VMs: ")
    assert all(word in text for word in words), text


def test_bad_filter_carries_prism_message(sim):
    sim.expect_refusal("list_vms", "expected a value after 'eq'")
    with pytest.raises(ApiError) as caught:
        client_for(sim).list("vmm", VMS, action="list VMs", params={"$filter": "name eq"})
    assert caught.value.status == 400 and "$filter" in str(caught.value)


def test_unreachable_server(sim):
    client = client_for(sim, nutanix_port=1, max_retries=1)
    with pytest.raises(ApiError) as caught:
        client.list("vmm", VMS, action="list VMs")
    assert "cannot reach https://127.0.0.1:1 after 2 attempts" in str(caught.value)


@pytest.mark.parametrize(
    "versions,word", [({"vmmm": "v4.0"}, "unknown namespace"), ({"vmm": "4.0"}, "not a v4 version")]
)
def test_bad_api_versions_are_refused(sim, versions, word):
    with pytest.raises(ApiError, match=word):
        client_for(sim, api_versions=versions)

"""The doctor's pure parts: clock skew from a Date header, the task id form, the version probe an older
Prism Central needs (it does not answer OPTIONS .../unversioned/info), the one-screen text, and the Move
and vCenter answers the simulator does not give: a Move that will not page, a vCenter past its list cap."""

from dataclasses import dataclass

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils._doctor import (
    _move_inventory,
    _vcenter_inventory,
    clock_skew,
    inventory_line,
    is_source,
    served_version,
    skew_check,
    task_id_form,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._move import MoveClient, workload_shapes
from day2ops_cli.doctor import render


def test_clock_skew_reads_the_http_date_header():
    now = 1_780_000_000.0  # 2026-05-28T20:26:40Z
    assert clock_skew("Thu, 28 May 2026 20:27:25 GMT", now) == 45.0
    assert clock_skew("Thu, 28 May 2026 20:26:40 GMT", now) == 0.0
    assert clock_skew(None, now) is None and clock_skew("yesterday", now) is None
    late = skew_check("Thu, 28 May 2026 20:25:00 GMT", now)
    assert late["status"] == "warn" and "-100 s" in late["detail"] and "NTP" in late["fix"]
    assert skew_check("Thu, 28 May 2026 20:26:50 GMT", now)["status"] == "ok"


@pytest.mark.parametrize(
    "ext_id, form",
    [
        (
            "ZXJnb24=:0b1c7a4e-9d2f-4c1e-8f3a-5b6c7d8e9f00",
            "ZXJnb24=:<uuid> (base64 of 'ergon', then the task UUID)",
        ),
        ("0b1c7a4e-9d2f-4c1e-8f3a-5b6c7d8e9f00", "a bare UUID"),
        ("not!base64:abc", "not!base64:<3 characters>"),
    ],
)
def test_task_id_form(ext_id, form):
    assert task_id_form(ext_id) == form


@dataclass
class Answer:
    status_code: int
    body: object = None

    def json(self):
        if self.body is None:
            raise ValueError("no JSON")
        return self.body


class OldPrismCentral:
    """Serves vmm up to v4.1 and answers OPTIONS with a 404, as Prism Centrals before the negotiation."""

    def __init__(self, options_answer):
        self.options_answer = options_answer
        self.asked = []

    def request(self, method, path, action, params=None):
        self.asked.append((method, path))
        if method == "OPTIONS":
            return self.options_answer
        return Answer(200 if path.split("/")[3] in ("v4.0", "v4.1") else 404, {"data": []})


@pytest.mark.parametrize("options_answer", [Answer(404), Answer(200), Answer(200, {"data": "newest"})])
def test_served_version_probes_down_when_options_is_not_answered(options_answer):
    transport = OldPrismCentral(options_answer)
    version, how = served_version(transport, "vmm")
    assert version == "v4.1" and "GET /api/vmm/v4.1/ahv/config/vms answers" in how
    assert [path for _method, path in transport.asked[1:]] == [
        "/api/vmm/v4.3/ahv/config/vms",
        "/api/vmm/v4.2/ahv/config/vms",
        "/api/vmm/v4.1/ahv/config/vms",
    ]


def test_served_version_takes_the_options_answer():
    transport = OldPrismCentral(Answer(200, {"data": "v4.2"}))
    assert served_version(transport, "vmm") == ("v4.2", "by OPTIONS unversioned/info")
    assert transport.asked == [("OPTIONS", "/api/vmm/unversioned/info")]


def test_render_puts_the_fix_under_failures_and_warnings_only():
    checks = [
        dict(name="TLS", flow="all flows", status="ok", detail="verified", fix=None),
        dict(name="recovery points", flow="safe patch, DR", status="fail", detail="403", fix="grant it"),
        dict(name="clock skew", flow="safe patch", status="warn", detail="+45 s", fix="sync NTP"),
        dict(name="role data", flow="all flows", status="skip", detail="not read", fix="never shown"),
    ]
    text = render(
        dict(
            prism_central="https://pc:9440",
            checks=checks,
            failed_checks=["recovery points"],
            counts=dict(ok=1, warn=1, fail=1, skip=1),
        )
    )
    lines = text.splitlines()
    assert lines[0] == "day2ops doctor: Prism Central https://pc:9440"
    assert lines[4].split()[:3] == ["FAIL", "recovery", "points"] and lines[5].strip() == "fix: grant it"
    assert lines[6].startswith("WARN") and lines[7].strip() == "fix: sync NTP"
    assert "never shown" not in text
    assert lines[-2:] == ["1 ok, 1 warn, 1 fail, 1 skip", "failed: recovery points"]


def test_inventory_line_counts_pages_of_100():
    assert inventory_line("vc", 300, 300, 300) == (
        "'vc': NumDiscoveredWorkloads 300, MetaData.Count 300, 300 VMs in 3 pages of 100"
    )
    assert inventory_line("vc", None, 301, 301) == "'vc': MetaData.Count 301, 301 VMs in 4 pages of 100"
    assert inventory_line("vc", None, 0, 0) == "'vc': MetaData.Count 0, 0 VMs in 1 page of 100"


def test_a_source_provider_is_known_by_its_esx_access_or_role_1():
    assert is_source({"Spec": {"ESXAccessInfo": {}, "Type": "VMWARE_ESXI_VCENTER"}})
    assert is_source({"Spec": {"Role": 1}})
    assert not is_source({"Spec": {"AOSAccessInfo": {}, "Role": 2}})


@pytest.mark.parametrize(
    "answer, shapes",
    [
        ({"Status": {"VMStatus": []}, "Entities": []}, ["Status.VMStatus", "Entities"]),
        ({"Status": {"Actions": [], "VMStatus": []}}, ["Status.VMStatus"]),
        ({"Entities": [], "MetaData": {"Count": 0}}, ["Entities"]),
        ({"VMs": [], "Status": {"Actions": []}}, []),
        ([], []),
    ],
)
def test_workload_shapes(answer, shapes):
    assert workload_shapes(answer) == shapes


class NonPagingMove(MoveClient):
    """A Move that answers the first page whatever AfterOffset says, while counting 300 VMs."""

    def __init__(self):
        super().__init__(None, "nutanix", "secret")

    def providers(self):
        return [
            {"MetaData": {"UUID": "p1", "NumDiscoveredWorkloads": 300}, "Spec": {"Name": "vc", "Role": 1}},
            {"MetaData": {"UUID": "p2"}, "Spec": {"Name": "pc", "AOSAccessInfo": {}, "Role": 2}},
        ]

    def inventory_page(self, provider_uuid, offset=0, query=None, refresh=False):
        assert provider_uuid == "p1"  # the target is not a source
        vms = [{"VMName": f"vm-{n:03d}", "VMUuid": f"u{n}"} for n in range(100)]
        return {"Entities": vms, "MetaData": {"Count": 300}}


def test_a_move_that_will_not_page_warns_that_vms_are_looked_up_by_name():
    status, detail, fix = _move_inventory(NonPagingMove())
    assert status == "warn"
    assert detail.startswith(
        "'vc': NumDiscoveredWorkloads 300, MetaData.Count 300, 100 VMs in 1 page of 100; Move would not page"
    )
    assert "looks VMs up by name" in detail and "VMs past page 1 are found that way" in detail
    assert "query" in fix


class CappedVCenter:
    """A vCenter with more VMs than one list returns."""

    answers = {
        "/api/vcenter/cluster": [{"cluster": "domain-c8", "name": "big"}],
        "/api/cis/tagging/category": ["urn:cat:1"],
        "/api/vcenter/folder": [{"folder": "group-v4", "name": "vms", "type": "VIRTUAL_MACHINE"}],
    }

    def __init__(self, error_type):
        self.error_type = error_type

    def call(self, method, path, action, params=None):
        assert method == "GET"
        return self.answers[path]

    def list_vms(self):
        raise ApiError("list vCenter VMs", "too many", status=400, code=self.error_type)


def test_a_vcenter_past_its_list_cap_warns_to_select_waves_by_cluster_folder_or_tag():
    status, detail, fix = _vcenter_inventory(CappedVCenter("UNABLE_TO_ALLOCATE_RESOURCE"))
    assert status == "warn" and detail == (
        "1 clusters (big), 1 tag categories, 1 VM folders; "
        "more VMs than one list returns (400 UNABLE_TO_ALLOCATE_RESOURCE)"
    )
    assert "cluster, folder or tag" in fix
    with pytest.raises(ApiError):  # any other refusal fails the check as the error it is
        _vcenter_inventory(CappedVCenter("INVALID_ARGUMENT"))

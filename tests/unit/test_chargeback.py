"""The chargeback aggregation against sums worked out by hand on a fixed estate."""

import csv
import io

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.day2ops.ahv.plugins.filter.chargeback import (
    chargeback_csv,
    trend_append,
    trend_row,
    trend_svg,
)
from ansible_collections.day2ops.ahv.plugins.filter.cmdb import cmdb_drift
from ansible_collections.day2ops.ahv.plugins.module_utils._chargeback import aggregate

RATES = {"currency": "EUR", "vcpu": 10.0, "memory_gib": 2.0, "storage_gib": 0.5}


def vm(name, dept, power="ON", vcpus=2, memory_mib=4096, storage_gib=100.0, owner=None, prism_owner=None):
    categories = {}
    if dept:
        categories["Department"] = dept if isinstance(dept, list) else [dept]
    if owner:
        categories["Owner"] = [owner]
    return {
        "name": name,
        "ext_id": f"id-{name}",
        "cluster": "prod-ahv-01",
        "power_state": power,
        "vcpus": vcpus,
        "memory_mib": memory_mib,
        "storage_gib": storage_gib,
        "categories": categories,
        "vm": {"ownershipInfo": {"owner": {"extId": prism_owner}}} if prism_owner else {},
    }


ESTATE = [
    vm("fin-1", "Finance", vcpus=4, memory_mib=8192, storage_gib=200.0),
    vm("fin-2", "Finance", power="OFF", vcpus=2, memory_mib=2048, storage_gib=50.5),
    vm("hr-1", "HR", vcpus=1, memory_mib=1536, storage_gib=40.0),
    vm("shared", ["HR", "IT"], vcpus=8, memory_mib=16384, storage_gib=500.0),
    vm("orphan", None, "OFF", vcpus=2, memory_mib=4096, storage_gib=60.0, owner="dave", prism_owner="u-1"),
    vm("nobody", None, vcpus=1, memory_mib=1024, storage_gib=10.0),
]


def test_groups_are_summed_and_priced_by_hand():
    report = aggregate(ESTATE, "Department", RATES)
    by = {g["group"]: g for g in report["groups"]}
    # Finance: 6 vCPU, 10 GiB, 250.5 GiB -> 60 + 20 + 125.25 = 205.25
    assert by["Finance"] == {
        "group": "Finance",
        "vms": 2,
        "powered_on": 1,
        "vcpus": 6,
        "memory_gib": 10.0,
        "storage_gib": 250.5,
        "cost": {"vcpu": 60.0, "memory": 20.0, "storage": 125.25, "total": 205.25},
    }
    # HR: hr-1 + shared: 9 vCPU, 17.5 GiB, 540 GiB -> 90 + 35 + 270 = 395
    assert by["HR"]["cost"] == {"vcpu": 90.0, "memory": 35.0, "storage": 270.0, "total": 395.0}
    assert (by["HR"]["vms"], by["HR"]["powered_on"], by["HR"]["memory_gib"]) == (2, 2, 17.5)
    # IT: shared only: 8, 16, 500 -> 80 + 32 + 250 = 362
    assert by["IT"]["cost"]["total"] == 362.0
    assert [g["group"] for g in report["groups"]] == ["HR", "IT", "Finance"]  # most expensive first
    assert report["currency"] == "EUR" and report["key"] == "Department"


def test_untagged_vms_are_set_apart_with_their_owner():
    report = aggregate(ESTATE, "Department", RATES)
    assert report["untagged"] == [
        {
            "name": "nobody",
            "ext_id": "id-nobody",
            "cluster": "prod-ahv-01",
            "owner": None,
            "owner_ext_id": None,
            "power_state": "ON",
        },
        {
            "name": "orphan",
            "ext_id": "id-orphan",
            "cluster": "prod-ahv-01",
            "owner": "dave",
            "owner_ext_id": "u-1",
            "power_state": "OFF",
        },
    ]


def test_the_estate_counts_each_vm_once():
    totals = aggregate(ESTATE, "Department", RATES)["estate"]
    # 4+2+1+8+2+1 = 18 vCPU; 8+2+1.5+16+4+1 = 32.5 GiB; 200+50.5+40+500+60+10 = 860.5 GiB
    assert (totals["vms"], totals["powered_on"], totals["vcpus"]) == (6, 4, 18)
    assert (totals["memory_gib"], totals["storage_gib"]) == (32.5, 860.5)
    assert totals["cost"]["total"] == 180.0 + 65.0 + 430.25


def test_the_rows_with_the_untagged_row_add_up_to_the_totals():
    report = aggregate(ESTATE, "Department", RATES)
    # orphan + nobody: 3 vCPU, 5 GiB, 70 GiB -> 30 + 10 + 35 = 75
    assert report["untagged_row"]["group"] == "(untagged)"
    assert report["untagged_row"]["cost"] == {"vcpu": 30.0, "memory": 10.0, "storage": 35.0, "total": 75.0}
    rows = report["groups"] + [report["untagged_row"]]
    for name in ("vms", "powered_on", "vcpus", "memory_gib", "storage_gib"):
        assert round(sum(r[name] for r in rows), 2) == report["totals"][name], name
    for part in ("vcpu", "memory", "storage", "total"):
        assert round(sum(r["cost"][part] for r in rows), 2) == report["totals"]["cost"][part], part
    # `shared` is charged to HR and to IT: the totals hold it twice, the estate once.
    assert report["totals"]["vms"] == report["estate"]["vms"] + 1


def test_any_key_and_an_empty_estate():
    report = aggregate(ESTATE, "Owner", {})
    assert [g["group"] for g in report["groups"]] == ["dave"] and len(report["untagged"]) == 5
    assert report["groups"][0]["cost"]["total"] == 0 and report["currency"] == "USD"
    empty = aggregate([], "Department", RATES)
    assert empty["groups"] == [] and empty["untagged"] == [] and empty["totals"]["vms"] == 0


def test_csv_has_a_row_per_group_and_the_untagged_count():
    text = chargeback_csv(aggregate(ESTATE, "Department", RATES))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["group"] for r in rows] == ["HR", "IT", "Finance", "(untagged)"]
    assert rows[0]["cost"] == "395.0" and rows[3]["vms"] == "2" and rows[3]["cost"] == "75.0"


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_a_spreadsheet_would_run_are_plain_text(value):
    text = chargeback_csv(aggregate([vm("a", value)], "Department", RATES))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["group"] for r in rows] == ["'" + value, "(untagged)"]


def test_the_trend_grows_by_one_row_per_group_per_run_and_keeps_its_past():
    report = aggregate(ESTATE, "Department", RATES)
    first = trend_append("", report, "2026-11-16")
    second = trend_append(first, report, "2026-11-23")
    rows = list(csv.DictReader(io.StringIO(second)))
    assert len(rows) == 6 and [r["date"] for r in rows] == ["2026-11-16"] * 3 + ["2026-11-23"] * 3
    assert rows[0] == {
        "date": "2026-11-16",
        "key": "Department",
        "group": "HR",
        "vms": "2",
        "powered_on": "2",
        "vcpus": "9",
        "memory_gib": "17.5",
        "storage_gib": "540.0",
        "cost": "395.0",
        "currency": "EUR",
    }
    assert trend_row(report["groups"][0], report, "2026-11-23") == [
        "2026-11-23",
        "Department",
        "HR",
        2,
        2,
        9,
        17.5,
        540.0,
        395.0,
        "EUR",
    ]


def test_a_trend_file_with_other_columns_is_refused():
    with pytest.raises(AnsibleFilterError, match="move it aside"):
        trend_append("when,what\n2026-01-01,x\n", aggregate(ESTATE, "Department", RATES), "2026-11-23")


def test_the_svg_draws_one_line_per_group_scaled_to_the_top_value():
    report = aggregate(ESTATE, "Department", RATES)
    trend = trend_append(trend_append("", report, "2026-11-16"), report, "2026-11-23")
    svg = trend_svg(trend, "cost")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<polyline") == 3 and svg.count("<circle") == 6
    assert ">395<" in svg and "2026-11-16" in svg and "Finance" in svg
    # The highest point (HR, 395) sits on the top edge of the plot, 16 px down.
    assert ",16.0" in svg
    assert "No trend yet" in trend_svg("")


def test_the_svg_draws_only_the_grouping_asked_for():
    trend = trend_append("", aggregate(ESTATE, "Department", RATES), "2026-11-16")
    trend = trend_append(trend, aggregate(ESTATE, "Owner", RATES), "2026-11-23")
    assert trend_svg(trend, "cost").count("<polyline") == 4  # every row: the groupings mixed
    by_department = trend_svg(trend, "cost", key="Department")
    assert by_department.count("<polyline") == 3 and "dave" not in by_department
    assert "2026-11-23" not in by_department
    assert trend_svg(trend, "cost", key="Owner").count("<polyline") == 1


def test_cmdb_drift_finds_each_kind():
    vms = [
        {"ext_id": "1", "name": "a", "categories": {"Department": ["HR"], "Environment": ["Test"]}},
        {"ext_id": "2", "name": "b", "categories": {"Department": ["IT"]}},
        {"ext_id": "3", "name": "c", "categories": {}},
    ]
    records = [
        {"object_id": "1", "name": "a", "department": "Finance", "environment": "Test"},
        {"object_id": "", "name": "b", "department": "IT", "environment": ""},
        {"object_id": "9", "name": "gone", "department": "IT"},
    ]
    drift = cmdb_drift(vms, records, {"Department": "department", "Environment": "environment"})
    assert [(d["vm_name"], d["kind"], d["field"], d["prism"], d["cmdb"]) for d in drift] == [
        ("a", "differs", "Department", "HR", "Finance"),
        ("c", "missing in CMDB", None, None, None),
        ("gone", "not in Prism", None, None, None),
    ]
    with pytest.raises(AnsibleFilterError, match="fields must map"):
        cmdb_drift(vms, records, {})

"""Pure pieces of the recovery point work: expiry arithmetic, Category rules, the safe_patch summary."""

from datetime import UTC, datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.day2ops.ahv.plugins.callback.safe_patch_summary import summary_lines
from ansible_collections.day2ops.ahv.plugins.filter.category_rules import (
    category_retention,
    category_rule,
    retention_plan,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import expiration_time, vm_point

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retention", "expected"),
    [
        ("90m", "2026-11-25T11:00:00Z"),
        ("36h", "2026-11-26T21:30:00Z"),
        ("14d", "2026-12-09T09:30:00Z"),
        (" 2w ", "2026-12-09T09:30:00Z"),
    ],
)
def test_retention_counts_from_now(retention, expected):
    assert expiration_time(retention=retention, now=NOW) == expected


def test_retention_of_an_existing_point_counts_from_its_creation():
    created = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert expiration_time(retention="3d", now=NOW, since=created) == "2026-11-27T09:30:00Z"


def test_absolute_times_are_normalised_to_utc():
    assert expiration_time("2026-12-31T01:00:00+01:00", now=NOW) == "2026-12-31T00:00:00Z"
    assert expiration_time(now=NOW) is None


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"retention": "14 days"}, "90m, 36h, 14d or 2w"),
        ({"retention": "0d"}, "not a retention"),
        ({"absolute": "tomorrow"}, "2026-12-31T00:00:00Z"),
        ({"absolute": "2026-11-25T09:00:00Z"}, "in the past"),
    ],
)
def test_bad_expiry_says_what_to_write(kwargs, words):
    with pytest.raises(ApiError) as err:
        expiration_time(now=NOW, **kwargs)
    assert words in str(err.value)


def test_vm_point_picks_the_vms_own_and_explains_otherwise():
    rp = {
        "extId": "rp",
        "name": "n",
        "vmRecoveryPoints": [{"extId": "a", "vmExtId": "vm-a"}, {"extId": "b", "vmExtId": "vm-b"}],
    }
    assert vm_point(rp, "vm-b")["extId"] == "b"
    with pytest.raises(ApiError, match="holds 2 VMs"):
        vm_point(rp)
    with pytest.raises(ApiError, match="no VM recovery point of VM vm-c"):
        vm_point(rp, "vm-c")


RULES = [
    {"category": {"AppTier": "Database"}, "consistency": "application_consistent"},
    {
        "category": {"AppTier": ["Web", "Cache"], "Environment": "Production"},
        "consistency": "crash_consistent",
    },
]


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        ({"AppTier": ["Database"], "Environment": ["Test"]}, "application_consistent"),
        ({"AppTier": ["Cache"], "Environment": ["Production"]}, "crash_consistent"),
        ({"AppTier": ["Cache"], "Environment": ["Test"]}, "default"),  # every key must match
        ({}, "default"),
    ],
)
def test_first_matching_category_rule(categories, expected):
    assert category_rule(RULES, categories, {"consistency": "default"})["consistency"] == expected


def test_a_rule_without_a_selector_is_refused():
    with pytest.raises(AnsibleFilterError, match="rule 0 needs a non-empty 'category' mapping"):
        category_rule([{"consistency": "crash_consistent"}], {})


def test_summary_puts_the_worst_first_and_reports_orphans():
    records = {
        "a": {
            "status": "patched",
            "vm_name": "a",
            "vm_ext_id": "1",
            "recovery_point_ext_id": "rp-a",
            "task_ext_ids": ["t1"],
        },
        "b": {
            "status": "rolled_back",
            "vm_name": "b",
            "vm_ext_id": "2",
            "recovery_point_ext_id": "rp-b",
            "reason": "probe after the update failed",
            "probe_after_revert": "passed",
            "power_state": "ON",
            "notified": True,
            "task_ext_ids": ["t2", "t3"],
            "unfinished_earlier": [
                {
                    "vm_name": "b",
                    "recovery_point_name": "old",
                    "recovery_point_ext_id": "rp-old",
                    "run_id": "r0",
                }
            ],
        },
        "c": {
            "status": "rollback_failed",
            "vm_name": "c",
            "vm_ext_id": "3",
            "reason": "x",
            "task_ext_ids": [],
        },
    }
    lines = summary_lines(records)
    assert lines[0] == "safe_patch: 3 VM(s): 1 patched, 1 rolled back, 1 ROLLBACK FAILED, 0 not patched"
    assert [line.split(" ")[0] for line in lines[1:4]] == ["ROLLBACK", "ROLLED", "PATCHED"]
    assert "probe after revert passed, VM ON, notified yes - tasks t2, t3" in lines[2]
    assert lines[3].endswith("tasks t1") and "tasks none" in lines[1]
    assert lines[4] == "UNFINISHED      b: recovery point old (rp-old) from run r0 has no recorded outcome"


RETENTION_RULES = [
    {"category": {"Environment": "Test"}, "retention": "3d"},
    {"category": {"Environment": "Production"}, "retention": "14d"},
    {"category": {"Criticality": "High"}, "retention": "3w"},
]


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        ({"Environment": ["Production"]}, "14d"),
        ({"Environment": ["Test"]}, "3d"),
        ({"Environment": ["Production", "Test"]}, "14d"),  # the most protective rule wins
        ({"Environment": ["Test"], "Criticality": ["High"]}, "3w"),
        ({"Environment": ["Staging"]}, "7d"),
        ({}, "7d"),
    ],
)
def test_the_longest_matching_retention_wins(categories, expected):
    assert category_retention(RETENTION_RULES, categories, "7d") == expected


def test_a_bad_retention_in_a_rule_is_named():
    with pytest.raises(AnsibleFilterError, match="'two weeks' is not a retention"):
        category_retention([{"category": {"A": "b"}, "retention": "two weeks"}], {"A": ["b"]}, "7d")


def test_retention_plan_names_each_point_after_its_vm_and_run():
    vms = [
        {"ext_id": "1", "name": "fin-a", "categories": {"Environment": ["Production"]}},
        {"ext_id": "2", "name": None, "categories": {}},
    ]
    assert retention_plan(vms, RETENTION_RULES, "7d", "dr", "run1") == [
        {"ext_id": "1", "vm_name": "fin-a", "retention": "14d", "recovery_point_name": "dr-fin-a-run1"},
        {"ext_id": "2", "vm_name": None, "retention": "7d", "recovery_point_name": "dr-2-run1"},
    ]

"""The DR drill VM's name: readable, at most Prism's 80 characters, distinct, the same for the same inputs."""

import hashlib

import pytest
from ansible_collections.day2ops.ahv.plugins.filter.vm_names import FilterModule, drill_vm_name

RUN = "3f2a1b4c-1111-4222-8333-444444444444"  # a run id as the app makes it


def test_a_short_name_is_the_run_id_and_the_point_name():
    assert drill_vm_name("drill1", "dr-web-01-run1") == "drill-drill1-dr-web-01-run1"
    # A UUID run id by its first 8 characters, as the app shows a run.
    assert drill_vm_name(RUN, "dr-web-01-run1") == "drill-3f2a1b4c-dr-web-01-run1"
    assert FilterModule().filters()["drill_vm_name"] is drill_vm_name


@pytest.mark.parametrize("length", [79, 80])
def test_a_name_at_the_limit_is_kept_as_it_is(length):
    point = "p" * (length - len("drill-3f2a1b4c-"))
    name = drill_vm_name(RUN, point)
    assert name == "drill-3f2a1b4c-" + point and len(name) == length


def test_one_character_over_the_limit_is_cut_and_ends_with_the_full_names_hash():
    point = "p" * (81 - len("drill-3f2a1b4c-"))
    name = drill_vm_name(RUN, point)
    digest = hashlib.sha256(f"drill-{RUN}-{point}".encode()).hexdigest()[:8]
    assert len(name) == 80 and name == f"drill-3f2a1b4c-{point[:56]}-{digest}"


def test_the_recovery_point_name_that_made_prism_refuse_the_drill_now_fits():
    # The case: a 36-character run id and a replicated point named after its VM and its run.
    point = f"dr-hr-portal-prd-app-001-{RUN}"
    old = f"drill-{RUN}-{point}"
    assert len(old) > 80
    assert len(drill_vm_name(RUN, point)) <= 80


def test_long_names_stay_distinct_and_are_the_same_every_time():
    point = "dr-" + "very-long-application-server-name-" * 3
    first, second = drill_vm_name(RUN, point + "a"), drill_vm_name(RUN, point + "b")
    assert first != second and len(first) == len(second) == 80
    assert first[:-9] == second[:-9]  # the same readable head, told apart by the hash
    assert drill_vm_name(RUN, point + "a") == first
    # Two run ids that share their first 8 characters still give two names when cut.
    other = "3f2a1b4c-9999-4222-8333-444444444444"
    assert drill_vm_name(other, point + "a") != first


@pytest.mark.parametrize(
    "run_id",
    [RUN, "nightly-finance-drill-" * 5, "x" * 200, "20250301T060000Z", ""],
)
@pytest.mark.parametrize(
    "point",
    ["", "dr-web", "dr-" + "w" * 120, "dr-Ærø-überwachung-" * 6, "dr-数据库服务器-" * 10, "dr-🙂" * 40],
)
def test_every_name_fits_and_starts_as_a_drill_name(run_id, point):
    name = drill_vm_name(run_id, point)
    assert 1 <= len(name) <= 80 and name.startswith("drill-") and name == drill_vm_name(run_id, point)


def test_a_long_run_id_leaves_room_for_the_point_name():
    name = drill_vm_name("nightly-finance-drill-" * 5, "dr-db-01")
    assert name.startswith("drill-nightly-finance-") and "dr-db-01" in name and len(name) <= 80


def test_unicode_names_are_cut_by_character_and_stay_text():
    point = "dr-数据库服务器-" * 10
    name = drill_vm_name(RUN, point)
    assert len(name) == 80 and name.startswith("drill-3f2a1b4c-dr-数据库服务器-")
    name.encode("utf-8")  # whole characters only

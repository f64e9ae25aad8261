"""Wave files: every mistake named by its path with the fix, dependency order, the window, and where
each VM stands across the wave's Move plans."""

import copy
import datetime

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils._waves import (
    WaveError,
    guest_account,
    in_window,
    parse,
    password_envs,
    progress,
)

LINUX = {"username": "root", "password_env": "MIGRATION_GUEST_LINUX_PASSWORD"}

GOOD = {
    "version": 1,
    "defaults": {
        "source_provider": "vcenter-east",
        "target_provider": "pc-01",
        "target_cluster": "prod-ahv-01",
        "network_mappings": [{"source": "dvpg-app-101", "target": "vlan0"}],
        "approvers": ["alex"],
        "guest_credentials": {"linux": LINUX},
    },
    "waves": [
        {
            "name": "fin",
            "window": {"start": "2026-12-05T22:00:00+01:00", "end": "2026-12-06T04:00:00+01:00"},
            "failure_policy": "continue",
            "groups": [
                {"name": "web", "vms": ["web-1"], "depends_on": ["app"]},
                {"name": "db", "tags": {"Role": "db"}},
                {
                    "name": "app",
                    "vms": ["app-1", "app-2"],
                    "depends_on": ["db"],
                    "categories": {"AppTier": "App"},
                },
            ],
        }
    ],
}


def mistakes(document, wave="fin") -> list[str]:
    with pytest.raises(WaveError) as caught:
        parse(document, wave)
    return caught.value.errors


def changed(**wave) -> dict:
    document = copy.deepcopy(GOOD)
    document["waves"][0].update(wave)
    return document


def test_a_good_wave_gets_defaults_and_groups_in_dependency_order():
    wave = parse(GOOD, "fin")
    assert [g["name"] for g in wave["groups"]] == ["db", "app", "web"]
    assert wave["readiness_policy"] == "exclude" and wave["failure_policy"] == "continue"
    assert wave["approvals_required"] == 1 and wave["readiness_timeout"] == 7200
    assert wave["source_provider"] == "vcenter-east" and wave["approvers"] == ["alex"]
    assert wave["groups"][1] == {
        "name": "app",
        "vms": ["app-1", "app-2"],
        "tags": {},
        "depends_on": ["db"],
        "categories": {"AppTier": "App"},
        "guest_credentials": {},
    }
    assert wave["guest_prep_mode"] == "auto" and wave["guest_credentials"] == {"linux": LINUX}
    assert wave["window"] == {"start": "2026-12-05T22:00:00+01:00", "end": "2026-12-06T04:00:00+01:00"}


def test_every_mistake_is_reported_at_once_with_its_path_and_fix():
    document = changed(
        failure_policy="stop",
        approvers=[],
        window={"start": "2026-12-06T04:00:00Z", "end": "2026-12-05T22:00:00Z"},
        owner="me",
        groups=[
            {"name": "db", "vms": "db-1"},
            {"name": "app", "depends_on": ["dbs"], "tags": {"Role": 3}},
            {"name": "app", "vms": ["a", "a"]},
            {"vms": ["x"], "color": "red"},
        ],
    )
    found = mistakes(document)
    expected = [
        "waves[0].owner: unknown key; use one of name, source_provider",
        "waves[0].approvers: name at least one reviewer",
        "waves[0].failure_policy: 'stop' is not one of pause, continue",
        "waves[0].window: end 2026-12-05T22:00:00Z is not after start 2026-12-06T04:00:00Z",
        "waves[0].groups[0].vms: must be a list of VM names, for example [a, b]",
        "waves[0].groups[1].tags: must map each vCenter tag category to one value",
        "waves[0].groups[2].name: group 'app' is defined twice",
        "waves[0].groups[2].vms: 'a' is listed twice",
        "waves[0].groups[3].color: unknown key",
        "waves[0].groups[3].name: missing or not a name",
        "waves[0].groups[1].depends_on: 'dbs' is not a group of this wave (groups: db, app, app, None)",
    ]
    for text in expected:
        assert any(f.startswith(text) for f in found), (text, found)
    assert len(found) == len(expected)
    assert str(WaveError(found)).startswith(f"the wave file has {len(expected)} mistakes:\n- ")


@pytest.mark.parametrize(
    ("wave", "fragment"),
    [
        ({"window": {"start": "2026-12-05 22:00", "end": "2026-12-06T04:00:00Z"}}, "has no UTC offset"),
        ({"window": {"start": "tonight", "end": "2026-12-06T04:00:00Z"}}, "is not an ISO 8601 time"),
        ({"window": {"start": "2026-12-05T22:00:00Z"}}, "must have exactly start and end"),
        ({"approvals_required": 2}, "2 approvals asked of 1 approvers"),
        ({"readiness_timeout": 0}, "readiness_timeout: must be a whole number of at least 1"),
        (
            {"network_mappings": [{"source": "dvpg-app-101"}]},
            "network_mappings[0].target: missing; name the AHV subnet",
        ),
        ({"groups": []}, "groups: give at least one group"),
        ({"groups": [{"name": "all"}]}, "groups[0]: select its VMs with vms (names) or tags"),
        ({"groups": [{"name": "a", "vms": ["x"], "depends_on": ["a"]}]}, "a group cannot depend on itself"),
    ],
)
def test_one_mistake_each(wave, fragment):
    assert any(fragment in f for f in mistakes(changed(**wave))), mistakes(changed(**wave))


def test_guest_credentials_name_accounts_and_password_variables_never_passwords():
    db = {
        "windows": {"username": "Administrator", "password_env": "MIGRATION_GUEST_DB_WIN"},
        "vms": {"db-1": {"username": "oracle", "password_env": "MIGRATION_GUEST_DB_1"}},
    }
    wave = parse(changed(groups=[{"name": "db", "vms": ["db-1", "db-2"], "guest_credentials": db}]), "fin")
    (group,) = wave["groups"]
    assert guest_account(group["guest_credentials"], "db-1", "RHEL_8_64")["username"] == "oracle"
    assert (
        guest_account(group["guest_credentials"], "db-2", "WINDOWS_9_SERVER_64")["username"]
        == "Administrator"
    )
    assert guest_account(group["guest_credentials"], "db-2", "RHEL_8_64") is None, "the wave's linux account"
    assert password_envs(wave) == [
        "MIGRATION_GUEST_DB_1",
        "MIGRATION_GUEST_DB_WIN",
        "MIGRATION_GUEST_LINUX_PASSWORD",
    ]
    found = mistakes(
        changed(
            guest_credentials={"linux": {"username": "root", "password": "hunter2"}, "mac": {}},
            groups=[
                {
                    "name": "a",
                    "vms": ["x"],
                    "guest_credentials": {"linux": {"username": "", "password_env": "HOME"}},
                }
            ],
        )
    )
    assert found == [
        "waves[0].guest_credentials.mac: unknown key; use one of linux, windows",
        "waves[0].guest_credentials.linux: must be {username: <guest account>, "
        "password_env: MIGRATION_GUEST_<NAME>}",
        "waves[0].groups[0].guest_credentials.linux.username: must be the guest account's name",
        "waves[0].groups[0].guest_credentials.linux.password_env: 'HOME' is not a variable named "
        "MIGRATION_GUEST_<NAME> (capitals, digits, _) holding the password",
    ]


def test_automatic_guest_preparation_needs_accounts_unless_every_group_has_its_own():
    document = copy.deepcopy(GOOD)
    del document["defaults"]["guest_credentials"]
    assert mistakes(document)[0].startswith(
        "waves[0].guest_credentials: missing, and groups web, db, app set none; Move logs in to the guests"
    )
    document["waves"][0]["guest_prep_mode"] = "manual"
    assert parse(document, "fin")["guest_prep_mode"] == "manual"
    document["waves"][0].update(
        guest_prep_mode="auto", groups=[{"name": "a", "vms": ["x"], "guest_credentials": {"linux": LINUX}}]
    )
    assert parse(document, "fin")["groups"][0]["guest_credentials"] == {"linux": LINUX}


def test_a_cycle_names_its_groups():
    groups = [
        {"name": "a", "vms": ["x"], "depends_on": ["c"]},
        {"name": "b", "vms": ["y"], "depends_on": ["a"]},
        {"name": "c", "vms": ["z"], "depends_on": ["b"]},
        {"name": "free", "vms": ["w"]},
    ]
    assert mistakes(changed(groups=groups)) == [
        "waves[0].groups: the dependencies of a, b, c form a cycle; remove one depends_on"
    ]


def test_required_settings_missing_from_wave_and_defaults():
    document = copy.deepcopy(GOOD)
    del document["defaults"]
    found = mistakes(document)
    for key in ("source_provider", "target_provider", "target_cluster", "network_mappings", "approvers"):
        assert f"waves[0].{key}: missing; set it on the wave or in defaults" in found


def test_unknown_wave_and_file_level_mistakes():
    assert mistakes(GOOD, "hr")[-1] == "wave 'hr' is not in the file; its waves are fin"
    assert "version: 2 is not supported" in mistakes({**GOOD, "version": 2})[0]
    assert mistakes([1, 2]) == ["the file must be a mapping with version, defaults and waves"]
    twice = copy.deepcopy(GOOD)
    twice["waves"].append(copy.deepcopy(GOOD["waves"][0]))
    assert "waves[1].name: wave 'fin' is defined twice" in mistakes(twice)


def test_the_window():
    wave = parse(GOOD, "fin")
    utc = datetime.UTC
    assert in_window(wave, datetime.datetime(2026, 12, 5, 22, 30, tzinfo=utc))  # 23:30 +01:00
    assert not in_window(wave, datetime.datetime(2026, 12, 5, 20, 59, tzinfo=utc))
    assert not in_window(wave, datetime.datetime(2026, 12, 6, 3, 1, tzinfo=utc))
    assert in_window(parse(changed(window=None), "fin"), datetime.datetime(2000, 1, 1, tzinfo=utc))


def vm(name: str, n: int) -> dict:
    return {"name": name, "vm": f"vm-{n}", "instance_uuid": f"u-{n}", "group": "g"}


def plan(name: str, state: str, *workloads) -> dict:
    return {
        "Name": name,
        "UUID": f"p-{name}",
        "StateString": f"MigrationPlanState{state}",
        "workloads": list(workloads),
    }


def workload(n: int, state: str, **extra) -> dict:
    return {"UUID": f"u-{n}", "VMId": f"vm-{n}", "StateString": state, **extra}


def test_progress_across_plans_the_newest_plan_wins():
    wave = {"name": "fin", "vms": [vm("a", 1), vm("b", 2), vm("c", 3), vm("d", 4), vm("e", 5)]}
    plans = [
        plan("fin-1", "Failed", workload(1, "Completed", target_vm_ext_id="ahv-1"), workload(2, "Failed")),
        plan("fin-2", "InProgress", workload(2, "DataSeeding", ProgressPercentage=40)),
        plan("other-1", "InProgress", workload(3, "ReadyToCutover")),  # not a plan of this wave
        plan("fin-x", "InProgress", workload(4, "ReadyToCutover")),  # nor this one
    ]
    out = progress(plans, wave, rolled_back=[])
    states = {v["name"]: v["state"] for v in out["vms"]}
    assert states == {"a": "migrated", "b": "seeding", "c": "unplanned", "d": "unplanned", "e": "unplanned"}
    b = out["vms"][1]
    assert (b["plan_name"], b["progress"], b["reason"]) == (
        "fin-2",
        40,
        "still DataSeeding at 40% in plan fin-2",
    )
    assert out["vms"][0]["target_vm_ext_id"] == "ahv-1"
    assert out["to_plan"] == ["c", "d", "e"] and out["next_plan_name"] == "fin-3"
    assert out["running_plans"] == ["fin-2"] and out["stale_plans"] == [] and out["paused_plans"] == []
    assert out["by_state"] == {"migrated": ["a"], "seeding": ["b"], "unplanned": ["c", "d", "e"]}


def test_a_live_plan_holding_a_vm_to_retry_is_stale_and_its_waiting_vms_replan():
    wave = {"name": "fin", "vms": [vm("a", 1), vm("b", 2), vm("c", 3)]}
    plans = [
        plan(
            "fin-1",
            "Paused",
            workload(1, "Completed", target_vm_ext_id="ahv-1"),
            workload(2, "Failed", ErrorMessage="Final sync failed"),
            workload(3, "ReadyToCutover"),
        )
    ]
    out = progress(plans, wave)
    assert out["vms"][1]["reason"] == "Final sync failed"
    assert out["stale_plans"] == ["fin-1"] and out["to_plan"] == ["b", "c"] and out["paused_plans"] == []
    assert out["vms"][2]["state"] == "seeding"  # ReadyToCutover, but no CUTOVER in a paused plan
    assert out["vms"][2]["reason"] == "ReadyToCutover, but Move offers no CUTOVER (plan fin-1 is Paused)"
    # Without the failed VM, the paused plan is resumed instead.
    plans[0]["workloads"][1] = workload(2, "Completed", target_vm_ext_id="ahv-2")
    out = progress(plans, wave)
    assert out["stale_plans"] == [] and out["to_plan"] == [] and out["paused_plans"] == ["fin-1"]
    # A migration the wave rolled back is planned again, though Move calls it Completed.
    out = progress(plans, wave, rolled_back=["ahv-2"])
    assert out["vms"][1]["state"] == "rolled_back" and out["to_plan"] == ["b", "c"]


def test_ready_means_move_offers_the_cutover():
    wave = {"name": "fin", "vms": [vm("a", 1)]}
    offered = [plan("fin-1", "InProgress", workload(1, "ReadyToCutover", Actions=["CUTOVER", "TEST"]))]
    assert progress(offered, wave)["vms"][0]["state"] == "ready"
    offered[0]["workloads"][0]["Actions"] = []
    assert progress(offered, wave)["vms"][0]["state"] == "seeding"

"""recovery_point_batch against the simulator: many VMs protected to DR in one pipeline."""

from playbook import run_tasks

RPS = "/api/dataprotection/v4.0/config/recovery-points"


def prod_vm_ids(sim, count):
    clusters = {
        c["name"]: c["extId"] for c in sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
    }
    flt = f"cluster/extId eq '{clusters['prod-ahv-01']}'"
    vms = sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": flt, "$limit": count}).json()[
        "data"
    ]
    return [vm["extId"] for vm in vms], clusters


def all_points(sim):
    out, page = [], 0
    while True:
        body = sim.api("GET", RPS, params={"$limit": 100, "$page": page}).json()
        out += body.get("data") or []
        if len(out) >= body["metadata"]["totalAvailableResults"]:
            return out
        page += 1


def test_protects_every_vm_and_verifies_each_replica_on_dr(sim, tmp_path):
    ids, clusters = prod_vm_ids(sim, 24)
    run = run_tasks(
        sim,
        tmp_path,
        [
            {
                "day2ops.ahv.recovery_point_batch": {
                    "vm_ext_ids": ids[:20],
                    "vms": [
                        {"ext_id": i, "retention": "3d", "recovery_point_name": f"test-{i}"} for i in ids[20:]
                    ],
                    "retention": "14d",
                    "cluster": "dr-ahv-01",
                }
            }
        ],
    )
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["counts"] == {"protected": 24}
    assert [r["vm_ext_id"] for r in result["results"]] == ids
    points = {rp["extId"]: rp for rp in all_points(sim)}
    assert len(points) == 48
    for entry in result["results"]:
        source, replica = points[entry["recovery_point_ext_id"]], points[entry["replica_ext_id"]]
        assert source["locationAgnosticId"] == replica["locationAgnosticId"] == entry["location_agnostic_id"]
        assert replica["locationReferences"][0]["locationExtId"] == clusters["dr-ahv-01"]
        assert source["locationReferences"][0]["locationExtId"] == clusters["prod-ahv-01"]
        assert len(entry["task_ext_ids"]) == 2
    assert {r["recovery_point_name"] for r in result["results"][20:]} == {f"test-{i}" for i in ids[20:]}

    # Retention: past three days the Test points (and their replicas) expire, the 14-day ones stay.
    sim.control("POST", "clock", {"advance_seconds": 3 * 86400 + 60})
    left = all_points(sim)
    assert len(left) == 40 and not any(rp["name"].startswith("test-") for rp in left)


def test_a_failed_replication_is_reported_for_that_vm_and_the_others_finish(sim, tmp_path):
    ids, _clusters = prod_vm_ids(sim, 10)
    sim.control(
        "POST",
        "tasks/fail-next",
        {"operation": "EntitySnapshotReplicate", "message": "Remote site unreachable"},
    )
    task = {
        "day2ops.ahv.recovery_point_batch": {"vm_ext_ids": ids, "retention": "1d", "cluster": "dr-ahv-01"}
    }
    run = run_tasks(sim, tmp_path, [task], ignore_errors=True)
    result = run.results[0]
    assert result["failed"] and result["counts"] == {"protected": 9, "failed": 1}
    (failed,) = [r for r in result["results"] if r["status"] == "failed"]
    assert failed["step"] == "replicate" and "Remote site unreachable" in failed["reason"]
    assert failed["recovery_point_ext_id"]  # the point taken before the failure is reported
    assert "1 of 10 VM(s) not protected" in result["msg"] and failed["vm_ext_id"] in result["msg"]
    assert len(all_points(sim)) == 19


def test_a_429_storm_duplicates_nothing(sim, tmp_path):
    ids, _clusters = prod_vm_ids(sim, 12)
    for operation in ("create_recovery_point", "replicate_recovery_point", "list_tasks"):
        sim.control(
            "POST", "faults", {"operation": operation, "count": 6, "status": 429, "retry_after": 0.05}
        )
    # Some answers are lost after the call took effect: only NTNX-Request-Id replay prevents a copy.
    sim.control(
        "POST",
        "faults",
        {"operation": "create_recovery_point", "count": 3, "status": 503, "after_handler": True},
    )
    task = {"day2ops.ahv.recovery_point_batch": {"vm_ext_ids": ids, "cluster": "dr-ahv-01"}}
    run = run_tasks(sim, tmp_path, [task])
    assert run.rc == 0, run.output
    assert run.results[0]["counts"] == {"protected": 12}
    points = all_points(sim)
    assert len(points) == 24 and len({rp["locationAgnosticId"] for rp in points}) == 12
    assert sim.control("GET", "faults")["faults"] == []  # the storm really happened


def test_verify_only_finds_each_copy_and_names_the_missing_one(sim, tmp_path):
    ids, _clusters = prod_vm_ids(sim, 3)
    protect = {"day2ops.ahv.recovery_point_batch": {"vm_ext_ids": ids, "cluster": "dr-ahv-01"}}
    run = run_tasks(sim, tmp_path / "protect", [protect])
    assert run.rc == 0, run.output
    entries = run.results[0]["results"]
    gone = entries[1]["replica_ext_id"]
    etag = sim.api("GET", f"{RPS}/{gone}").headers["ETag"]
    sim.wait_task(sim.api("DELETE", f"{RPS}/{gone}", headers={"If-Match": etag}).json()["data"]["extId"])
    check = {
        "day2ops.ahv.recovery_point_batch": {
            "verify_only": True,
            "recovery_point_ext_ids": [e["recovery_point_ext_id"] for e in entries],
            "cluster": "dr-ahv-01",
            "fail_on_error": False,
        }
    }
    run = run_tasks(sim, tmp_path / "verify", [check])
    assert run.rc == 0, run.output
    result = run.results[0]
    assert not result["changed"] and result["counts"] == {"protected": 2, "failed": 1}
    assert [r["replica_ext_id"] for r in result["results"]] == [
        entries[0]["replica_ext_id"],
        None,
        entries[2]["replica_ext_id"],
    ]
    assert "no copy of it lives on cluster" in result["results"][1]["reason"]


def test_replicas_sent_to_a_paired_prism_central_are_left_to_verify_there(sim, tmp_path):
    ids, _clusters = prod_vm_ids(sim, 4)
    paired = sim.control("POST", "remote-pcs", {"name": "pc-dr-site"})
    task = {"day2ops.ahv.recovery_point_batch": {"vm_ext_ids": ids, "pc_ext_id": paired["extId"]}}
    run = run_tasks(sim, tmp_path, [task])
    assert run.rc == 0, run.output
    result = run.results[0]
    assert result["counts"] == {"replicated": 4}
    assert all(r["step"] == "verify on the target Prism Central" for r in result["results"])
    (remote,) = sim.control("GET", "remote-pcs")
    arrived = {rp["extId"]: rp["locationAgnosticId"] for rp in remote["recoveryPoints"]}
    assert arrived == {r["replica_ext_id"]: r["location_agnostic_id"] for r in result["results"]}
    assert len(all_points(sim)) == 4  # only the sources live here

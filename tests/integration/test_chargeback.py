"""chargeback_info against the simulator: the sums match the VMs read straight from the API."""

from collections import defaultdict

from playbook import run_tasks

RATES = {"currency": "EUR", "vcpu": 18.5, "memory_gib": 4.2, "storage_gib": 0.08}


def test_department_sums_and_untagged_match_the_api(sim, tmp_path):
    run = run_tasks(sim, tmp_path, [{"day2ops.ahv.chargeback_info": {"rate_card": RATES}}])
    assert run.rc == 0, run.output
    report = run.results[0]
    vms, names = sim.estate()
    expected = defaultdict(lambda: {"vms": 0, "vcpus": 0, "memory": 0, "storage": 0})
    untagged = set()
    for vm in vms:
        depts = [names[c["extId"]][1] for c in vm["categories"] if names[c["extId"]][0] == "Department"]
        if not depts:
            untagged.add(vm["name"])
        for dept in depts:
            row = expected[dept]
            row["vms"] += 1
            row["vcpus"] += vm["numSockets"] * vm["numCoresPerSocket"] * vm["numThreadsPerCore"]
            row["memory"] += vm["memorySizeBytes"]
            row["storage"] += sum(d["backingInfo"]["diskSizeBytes"] for d in vm["disks"])
    groups = {g["group"]: g for g in report["groups"]}
    assert set(groups) == set(expected) and len(groups) == 7
    for dept, row in expected.items():
        g = groups[dept]
        assert (g["vms"], g["vcpus"]) == (row["vms"], row["vcpus"])
        assert abs(g["memory_gib"] - row["memory"] / 2**30) < 0.01
        assert abs(g["storage_gib"] - row["storage"] / 2**30) < 0.5
        cost = g["vcpus"] * 18.5 + g["memory_gib"] * 4.2 + g["storage_gib"] * 0.08
        assert abs(g["cost"]["total"] - cost) < 0.05
    assert {u["name"] for u in report["untagged"]} == untagged and 0 < len(untagged) < 20
    assert report["totals"]["vms"] == 300 and report["currency"] == "EUR"
    # Each untagged VM with the owner Prism records for it (ownershipInfo, read through $select).
    owners = {vm["name"]: vm["ownershipInfo"]["owner"]["extId"] for vm in vms if vm["name"] in untagged}
    assert {u["name"]: u["owner_ext_id"] for u in report["untagged"]} == owners
    # The untagged row makes the rows add up to the totals.
    rows = report["groups"] + [report["untagged_row"]]
    assert report["untagged_row"]["vms"] == len(untagged)
    assert round(sum(r["cost"]["total"] for r in rows), 2) == report["totals"]["cost"]["total"]
    costs = [g["cost"]["total"] for g in report["groups"]]
    assert costs == sorted(costs, reverse=True)

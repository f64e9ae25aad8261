"""`day2ops demo` as a user starts it: the guest-dependent items (Patch VMs safely, DR drill, Release a
template version) work through the app's API, and no connection of the demo, or of anything it starts,
ever leaves loopback (every connect() recorded by strace)."""

import shutil

import pytest
from day2ops_cli.demo_patch import patch_run
from demo_process import connected_addresses, outside_loopback, start_demo, wait_until

BROKEN = "hr-portal-tst-app-141"
GOLDEN = "mkt-crm-tst-cache-018"  # the README's golden VM: Rocky Linux 9.4, in no other flow's scope
FINISHED = ("successful", "failed", "canceled", "interrupted")


def task_events(user, execution_id: str, task: str) -> list[str]:
    events = user.get(f"/api/runs/{execution_id}/events", limit=1000)
    return [e["event"] for e in events if e.get("task") == task]


def stdout_of(user, execution_id: str) -> str:
    return "".join(e.get("stdout") or "" for e in user.get(f"/api/runs/{execution_id}/events", limit=1000))


def approve_when_asked(approver, requester, execution_id: str) -> dict:
    """Approve the run's gate (before the run or inside it) once it is there; the finished run."""

    def asked():
        if requester.get(f"/api/runs/{execution_id}")["status"] in FINISHED:
            return True
        return any(g["execution_id"] == execution_id for g in approver.get("/api/approvals"))

    wait_until(asked, 600, f"the gate of run {execution_id}")
    approver.approve(execution_id, "loopback test")
    return requester.wait(execution_id, timeout=600)


def patch(demo) -> None:
    done, outcomes = patch_run(demo.url, demo.sim, [BROKEN])
    assert outcomes == {
        "hr-wiki-tst-app-036": "patched",
        "hr-portal-tst-app-071": "patched",
        BROKEN: "rolled back",
    }, demo.output()
    assert done["id"] in [run["id"] for run in demo.user("olivia").get("/api/runs")]


def drill(demo, olivia, alex) -> None:
    replicated = olivia.post(
        "/api/runs",
        {
            "item_id": "dr_replicate",
            "inputs": {"environment": "Test", "department": "HR", "cluster": "dr-ahv-01"},
        },
    )
    assert olivia.wait(replicated["id"], timeout=600)["status"] == "successful"
    vm = demo.sim.vm("hr-wiki-tst-app-036")["extId"]
    offered = olivia.get("/api/catalog/dr_drill/choices/recovery_points", parent=vm)
    # The drill takes the production recovery point; the playbook finds its copy on the DR cluster.
    points = [p["value"] for p in offered if "replica" not in p["label"]]
    execution = olivia.post(
        "/api/runs",
        {"item_id": "dr_drill", "inputs": {"vm": vm, "recovery_points": points[:1], "cluster": "dr-ahv-01"}},
    )
    done = approve_when_asked(alex, olivia, execution["id"])
    assert done["status"] == "successful", stdout_of(olivia, execution["id"])[-3000:]
    probes = task_events(olivia, execution["id"], "Probe each drill VM's application")
    assert "runner_item_on_ok" in probes and "runner_item_on_failed" not in probes, probes


def release(demo, olivia, alex, golden: str) -> tuple[dict, str]:
    templates = olivia.get("/api/catalog/template_release/choices/template")
    template = next(t["value"] for t in templates if t["label"] == "rocky9-base")
    inputs = {"template": template, "golden_vm": demo.sim.vm(golden)["extId"]}
    execution = olivia.post("/api/runs", {"item_id": "template_release", "inputs": inputs})
    done = approve_when_asked(alex, olivia, execution["id"])
    return done, stdout_of(olivia, execution["id"])


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (make system)")
def test_demo_flows_pass_and_stay_on_loopback(tmp_path):
    trace = tmp_path / "connect.trace"
    demo = start_demo(tmp_path, trace=trace)
    try:
        assert "Ctrl-C stops them all" in demo.output()
        olivia, alex = demo.user("olivia"), demo.user("alex")
        patch(demo)
        drill(demo, olivia, alex)
        done, output = release(demo, olivia, alex, GOLDEN)
        assert done["status"] == "successful" and "RELEASED" in output, output[-3000:]
        # A golden VM whose application is broken: its version fails the smoke test, and says why.
        demo.sim.guest(demo.sim.vm(GOLDEN)["extId"], {"app_healthy": False})
        done, output = release(demo, olivia, alex, GOLDEN)
        assert done["status"] == "failed" and "application unhealthy" in output, output[-3000:]
        assert "Unknown error" not in output
    finally:
        code = demo.stop()
    assert code == 0 and "Traceback" not in demo.output(), demo.output()[-3000:]
    assert "day2ops demo: stopped." in demo.output()
    addresses = connected_addresses(trace.read_text())
    assert any(a.startswith("127.10.") for a in addresses)  # the VMs' own addresses were reached
    assert outside_loopback(addresses) == []


def test_the_trace_reader_finds_every_address_outside_loopback():
    trace = "\n".join(
        [
            '101 connect(3, {sa_family=AF_INET, sin_port=htons(9440), sin_addr=inet_addr("127.0.0.1")}, 16)'
            " = 0",
            '102 connect(5, {sa_family=AF_INET, sin_port=htons(22), sin_addr=inet_addr("127.10.0.106")}, 16'
            " <unfinished ...>",
            '103 connect(4, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = -1 ENOENT',
            "104 connect(6, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0),"
            ' inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            '105 connect(7, {sa_family=AF_INET, sin_port=htons(22), sin_addr=inet_addr("10.10.0.172")}, 16)'
            " = -1 EINPROGRESS",
            "106 connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),"
            ' inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            "107 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),"
            ' inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            '108 connect(10, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0',
            '109 connect(4, {sa_family=AF_INET, sin_port=htons(22), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
            "110 connect(4, {sa_family=AF_INET6, sin6_port=htons(22), sin6_flowinfo=htonl(0),"
            ' inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        ]
    )
    addresses = connected_addresses(trace)
    assert addresses == [
        "127.0.0.1",
        "127.10.0.106",
        "::1",
        "10.10.0.172",
        "::ffff:192.0.2.7",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "::",
    ]
    assert outside_loopback(addresses) == ["10.10.0.172", "::ffff:192.0.2.7"]

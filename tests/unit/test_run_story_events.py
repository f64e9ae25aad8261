"""The run page's story from ansible-runner events and module results as they really come: the module's
reason in a failed event's output, each VM's own part of a batch result, the failure summary."""

from pathlib import Path

from day2ops_app.runs.reports import report_file
from day2ops_app.runs.story import failure_reason, summarize, vm_results

# ansible-core 2.19 through ansible-runner: the error banner first, the result after "=> ".
FAILED_STDOUT = (
    "[ERROR]: Task failed: Module failed: Failed to revert VM 'web01': 404 no recovery point\r\n"
    "Origin: /p/breaks.yml:23:7\r\n\r\n23     - name: Revert\r\n         ^ column 7\r\n\r\n"
    'fatal: [web01 -> localhost]: FAILED! => {"changed": false, "msg": "Failed to revert VM \'web01\': '
    '404 no recovery point [request id 7]"}'
)
UNREACHABLE_STDOUT = (
    'fatal: [web02]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: '
    'ssh: connect to host 10.10.0.172 port 22: Connection timed out", "unreachable": true}'
)
BATCH = {
    "changed": True,
    "counts": {"protected": 1, "failed": 1},
    "task_ext_ids": ["t1", "t2", "t3"],
    "results": [
        {
            "vm_ext_id": "vm-a",
            "vm_name": "app-a",
            "status": "protected",
            "task_ext_ids": ["t1", "t2"],
            "recovery_point_ext_id": "rp-a",
            "recovery_point_name": "dr-a",
            "expiration_time": "2030-01-01T00:00:00Z",
        },
        {
            "vm_ext_id": "vm-b",
            "vm_name": "app-b",
            "status": "failed",
            "step": "replicate",
            "reason": "the DR cluster refused",
            "task_ext_ids": ["t3"],
        },
    ],
}


def test_the_reason_is_the_modules_msg():
    assert (
        failure_reason(FAILED_STDOUT) == "Failed to revert VM 'web01': 404 no recovery point [request id 7]"
    )
    assert failure_reason(UNREACHABLE_STDOUT).endswith("port 22: Connection timed out")
    assert failure_reason("fatal: [x]: FAILED! => {not json") == "fatal: [x]: FAILED! => {not json"


def test_each_vm_gets_its_own_tasks_from_a_batch():
    a, b = vm_results(BATCH)
    assert (a["ext_id"], a["task_ext_ids"], a["expiration_time"]) == (
        "vm-a",
        ["t1", "t2"],
        "2030-01-01T00:00:00Z",
    )
    assert (b["ext_id"], b["task_ext_ids"], b["status"]) == ("vm-b", ["t3"], "failed")
    point = {
        "ext_id": "rp-1",
        "name": "before",
        "task_ext_id": "t9",
        "vm_ext_ids": ["vm-c"],
        "expiration_time": "2030-01-02T00:00:00Z",
        "changed": True,
    }
    assert vm_results(point) == [
        {
            "ext_id": "vm-c",
            "task_ext_ids": ["t9"],
            "recovery_point_ext_id": "rp-1",
            "recovery_point_name": "before",
            "expiration_time": "2030-01-02T00:00:00Z",
        }
    ]
    assert vm_results({"changed": True, "msg": "no VM"}) == [] and vm_results("text") == []


def test_the_summary_names_failed_vms_their_reason_and_what_is_left():
    events = [
        {"event": "runner_on_failed", "host": "web01", "task": "Revert", "stdout": FAILED_STDOUT},
        {"event": "runner_on_unreachable", "host": "web02", "task": "Update", "stdout": UNREACHABLE_STDOUT},
        {"event": "runner_on_failed", "host": "web03", "task": "Probe", "stdout": "fatal: ...\n...ignoring"},
    ]
    rows = [
        {"host": "web01", "name": "web01", "status": "failed", "recovered": False},
        {"host": "web02", "name": "web02", "status": "unreachable", "recovered": False},
        {"host": "web03", "name": "web03", "status": "done", "recovered": True},
    ]
    details = [*vm_results(BATCH), {"ext_id": "vm-d", "task_ext_ids": ["t4"], "power_state": "OFF"}]
    summary = summarize("failed", events, rows, details, {"vm-a": "app-a", "vm-d": "db-d"})
    assert [(f["vm"], f["status"]) for f in summary["failed"]] == [
        ("web01", "failed"),
        ("web02", "unreachable"),
        ("app-b", "failed"),
    ]
    assert summary["failed"][0]["reason"].startswith("Failed to revert VM 'web01'")
    assert summary["failed"][2]["reason"] == "the DR cluster refused"
    assert summary["recovered"] == ["web03"] and summary["controller"] == []
    assert summary["left_behind"] == [
        {
            "kind": "recovery_point",
            "ext_id": "rp-a",
            "name": "dr-a",
            "vm": "app-a",
            "vm_ext_id": "vm-a",
            "expiration_time": "2030-01-01T00:00:00Z",
        },
        {"kind": "powered_off", "vm": "db-d", "vm_ext_id": "vm-d"},
    ]
    assert summarize("successful", [], rows[2:], [], {})["left_behind"] == []


def test_a_report_name_never_leaves_the_runs_directory(tmp_path: Path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "dr-1.json").write_text("{}")
    (tmp_path / "secret").write_text("x")
    (tmp_path / "reports" / "link").symlink_to(tmp_path / "secret")
    assert report_file(tmp_path, "dr-1.json") == (tmp_path / "reports" / "dr-1.json").resolve()
    for name in ("../secret", "..", "", "/etc/passwd", "link", "..\\secret", "missing.json"):
        assert report_file(tmp_path, name) is None, name

"""Assertions that a response really deserialized into the SDK's models, not into loose dicts."""

import time


def assert_parsed(obj, path: str = "response") -> None:
    """Walk a deserialized SDK object. Fails on a field the SDK did not know (a misnamed or
    misplaced field lands in `$unknownFields`), on a polymorphic object left as a dict because
    its `$objectType` did not resolve, and on an enum value the SDK could not map."""
    if obj is None or isinstance(obj, bool | int | float):
        return
    if isinstance(obj, str):
        assert obj != "$UNKNOWN", f"{path}: enum value unknown to the SDK"
        return
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            assert_parsed(item, f"{path}[{i}]")
        return
    if isinstance(obj, dict):
        assert "$objectType" not in obj, f"{path}: unresolved polymorphic object {obj.get('$objectType')}"
        for key, value in obj.items():
            if isinstance(value, dict | list):
                assert_parsed(value, f"{path}.{key}")
        return
    if hasattr(obj, "swagger_types"):
        unknown = obj.get_unknown_fields() if hasattr(obj, "get_unknown_fields") else {}
        assert not unknown, f"{path} ({type(obj).__name__}): fields unknown to the SDK: {sorted(unknown)}"
        for attr in obj.swagger_types:
            if attr.startswith("_"):
                continue
            assert_parsed(getattr(obj, attr), f"{path}.{attr}")
        return
    # Enum instances and other SDK scalars.
    assert "$UNKNOWN" not in str(obj), f"{path}: enum value unknown to the SDK"


def wait_task(tasks_api, task_ext_id: str, timeout: float = 30):
    """Poll a task through the prism SDK until it is terminal, as a user of the SDK would."""
    deadline = time.monotonic() + timeout
    while True:
        task = tasks_api.get_task_by_id(task_ext_id).data
        assert_parsed(task, "task")
        if str(task.status) in ("SUCCEEDED", "FAILED", "CANCELED"):
            return task
        assert time.monotonic() < deadline, f"task {task_ext_id} still {task.status} after {timeout}s"
        time.sleep(0.1)

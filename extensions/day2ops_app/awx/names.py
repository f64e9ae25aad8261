"""The naming contract between the AWX export and the AWX dispatch backend: both sides import these so a
renamed template cannot silently break dispatch."""

RUN_GATE = "run"


def job_template_name(item_id):
    return f"day2ops {item_id}"


def workflow_name(item_id):
    return f"day2ops {item_id} (approval)"


def approval_node_name(gate):
    return f"approve {gate}"

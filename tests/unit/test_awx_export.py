"""The AWX export: surveys, workflows and schedules checked against AWX's own validation rules, for every
catalog item; the extra vars evaluated by a real ansible-playbook; `day2ops awx export` run as a command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import yaml
from croniter import croniter
from dateutil.rrule import rrulestr
from day2ops_app.awx import names
from day2ops_app.awx.errors import ExportError
from day2ops_app.awx.export import Target, export
from day2ops_app.awx.gates import gates
from day2ops_app.awx.schedule import rrule
from day2ops_app.awx.survey import answers, question, survey_spec
from day2ops_app.awx.templates import extra_vars
from day2ops_app.catalog.model import TEXT_MAX, Catalog, Input

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
CATALOG = Catalog.load(REPO / "catalog", PLAYBOOKS)
ITEMS = sorted(CATALOG.items)
START = date(2025, 1, 6)
BIN = Path(sys.executable).parent

# AWX's rules, from ansible/awx: awx/main/constants.py SURVEY_TYPE_MAPPING, awx/api/views/__init__.py
# JobTemplateSurveySpec._validate_spec_data (what POST .../survey_spec/ accepts) and awx/main/models/mixins.py
# SurveyJobTemplateMixin._survey_element_validation (what an answer, or a default, must satisfy).
SURVEY_TYPE_MAPPING = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": (float, int),
}


def _choice_list(choices) -> list:
    return [c for c in choices.splitlines() if c.strip()] if isinstance(choices, str) else list(choices)


def awx_spec_errors(spec: dict) -> list[str]:
    """_validate_spec_data, as AWX runs it; [] when AWX accepts the survey."""
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(spec.get(field), kind):
            return [f"Field '{field}' is missing or not a {kind.__name__}"]
    if not spec["spec"]:
        return ["'spec' doesn't contain any items."]
    variables = set()
    for idx, q in enumerate(spec["spec"]):
        for field in ("type", "question_name", "variable", "required"):
            if field not in q:
                return [f"'{field}' missing from survey question {idx}"]
            if not isinstance(q[field], bool if field == "required" else str):
                return [f"'{field}' in survey question {idx} has the wrong type"]
        if q["variable"] in variables:
            return [f"'variable' '{q['variable']}' duplicated in survey question {idx}"]
        variables.add(q["variable"])
        if q["type"] not in SURVEY_TYPE_MAPPING:
            return [f"'{q['type']}' in survey question {idx} is not an allowed question type"]
        if (
            "default" in q
            and q["default"] != ""
            and not isinstance(q["default"], SURVEY_TYPE_MAPPING[q["type"]])
        ):
            return [f"Default value {q['default']} in survey question {idx} has the wrong type"]
        for key in ("min", "max"):
            if q.get(key) is not None and not isinstance(q[key], int):
                return [f"The {key} limit in survey question {idx} expected to be integer."]
        if q["type"] in ("multiselect", "multiplechoice"):
            if "choices" not in q:
                return [f"Survey question {idx} of type {q['type']} must specify choices."]
            defaults = (
                q["default"].splitlines() if isinstance(q.get("default"), str) else q.get("default", [])
            )
            if q["type"] == "multiplechoice" and len(defaults) > 1:
                return ["Multiple Choice (Single Select) can only have one default value."]
            if any(d not in q["choices"] for d in defaults):
                return ["Default choice must be answered from the choices listed."]
        if isinstance(q.get("default"), str) and q["default"].startswith("$encrypted$"):
            return ["$encrypted$ is a reserved keyword"]
    return []


def awx_answer_errors(q: dict, data: dict) -> list[str]:
    """_survey_element_validation: an answer (or a default) for one question."""
    var, value = q["variable"], data.get(q["variable"])
    if var not in data:
        return [f"'{var}' value missing"] if q["required"] else []
    if q["type"] in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return [f"Value {value} for '{var}' expected to be a string."]
        if q.get("min") not in ("", None) and len(value) < int(q["min"]):
            return [f"'{var}' too short"]
        if q.get("max") not in ("", None) and len(value) > int(q["max"]):
            return [f"'{var}' too long"]
    elif q["type"] == "integer":
        if type(value) is not int:
            return [f"Value {value} for '{var}' expected to be an integer."]
        if q.get("min") not in ("", None) and value < int(q["min"]):
            return [f"'{var}' too small"]
        if q.get("max") not in ("", None) and value > int(q["max"]):
            return [f"'{var}' too large"]
    elif q["type"] == "multiselect":
        if type(value) is not list:
            return [f"'{var}' value is expected to be a list."]
        return [f"{v} not a choice of '{var}'" for v in value if v not in _choice_list(q["choices"])]
    elif q["type"] == "multiplechoice" and value not in _choice_list(q["choices"]):
        return [f"Value {value} for '{var}' expected to be one of {q['choices']}."]
    return []


def awx_rrule_errors(value: str) -> list[str]:
    """SchedulePreviewSerializer.validate_rrule (awx/api/serializers.py), then the parse AWX does."""
    errors = []
    dtstarts = re.findall(r".*?(DTSTART(;[^:]+)?\:[0-9]+T[0-9]+Z?)", value)
    if not dtstarts:
        errors.append("Valid DTSTART required in rrule.")
    if re.findall(r".*?(DTSTART:[0-9]+T[0-9]+) ", value):
        errors.append("DTSTART cannot be a naive datetime.")
    if len(dtstarts) > 1:
        errors.append("Multiple DTSTART is not supported.")
    if "rrule:" not in value.lower():
        errors.append("One or more rule required in rrule.")
    if "exdate:" in value.lower() or "rdate:" in value.lower():
        errors.append("EXDATE and RDATE not allowed in rrule.")
    for rule in re.findall(r".*?(RULE\:[^\s]*)", value):
        if "interval" not in rule.lower():
            errors.append(f"INTERVAL required in rrule: {rule}")
        elif "secondly" in rule.lower():
            errors.append(f"SECONDLY is not supported: {rule}")
        if re.match(r".*?BYDAY[\:\=][0-9]+[a-zA-Z]{2}", rule):
            errors.append(f"BYDAY with numeric prefix not supported: {rule}")
        if "COUNT" in rule and "UNTIL" in rule:
            errors.append(f"RRULE may not contain both COUNT and UNTIL: {rule}")
    try:
        rrulestr(value.replace(" ", "\n"), forceset=True)
    except ValueError as error:
        errors.append(f"rrule parsing failed validation: {error}")
    return errors


def _workflow_errors(flow: dict, item_id: str) -> list[str]:
    """What AWX needs of workflow_nodes, and our rule that approvals fail closed."""
    nodes = {n["identifier"]: n for n in flow["workflow_nodes"]}
    errors = [] if len(nodes) == len(flow["workflow_nodes"]) else ["identifiers repeat"]
    job = names.job_template_name(item_id)
    for node in nodes.values():
        related = node.get("related", {})
        targets = [
            t["identifier"]
            for kind in ("success_nodes", "failure_nodes", "always_nodes")
            for t in related.get(kind, [])
        ]
        errors += [f"{node['identifier']} links to unknown {t}" for t in targets if t not in nodes]
        template = node["unified_job_template"]
        if template["type"] == "workflow_approval":
            if not 0 < len(template["name"]) <= 512:
                errors.append(f"approval name {template['name']!r}")
            if not (isinstance(template["timeout"], int) and template["timeout"] > 0):
                errors.append(f"{template['name']}: a timeout of 0 never expires")
            # Denied or timed out, an approval fails; nothing may run after that failure.
            if related.get("failure_nodes") or related.get("always_nodes"):
                errors.append(f"{template['name']} runs something after a denial or a timeout")
        elif template != {"name": job, "type": "job_template", "organization": {"name": "Default"}}:
            errors.append(f"unexpected node {template}")
    # The job is reached only through every approval, in a chain from the root.
    root = [
        i
        for i in nodes
        if i not in {t["identifier"] for n in nodes.values() for t in n["related"]["success_nodes"]}
    ]
    chain, seen = root, []
    while chain:
        seen.append(chain[0])
        chain = [t["identifier"] for t in nodes[chain[0]]["related"]["success_nodes"]]
    if len(root) != 1 or seen[-1] != job or len(seen) != len(nodes):
        errors.append(f"not one chain of approvals ending in the job: {seen}")
    return errors


@pytest.fixture(scope="module")
def exported():
    return export(CATALOG, [], PLAYBOOKS, REPO / "roles", Target(), START)


@pytest.mark.parametrize("item_id", ITEMS)
def test_every_item_has_a_survey_awx_accepts(item_id, exported):
    item = CATALOG.get(item_id)
    template = next(t for t in exported["job_templates"] if t["name"] == f"day2ops {item_id}")
    survey = template["survey_spec"]
    assert awx_spec_errors(survey) == []
    assert template["survey_enabled"] is True
    assert template["playbook"] == f"playbooks/{item.playbook}"
    # The extra var names are exactly the app's, secrets included (as password questions, never defaulted).
    assert [q["variable"] for q in survey["spec"]] == [i.var or i.name for i in item.inputs]
    for spec, q in zip(item.inputs, survey["spec"], strict=True):
        assert (q["type"] == "password") == (spec.type == "secret")
        if spec.type == "secret":
            assert q["default"] == ""
        if spec.type == "string":
            # The app's bound (the input's own max, else the catalog's default): AWX refuses what it refuses.
            assert q["max"] == (spec.max if spec.max is not None else TEXT_MAX), q
        if q["default"] != "":
            assert awx_answer_errors(q, {q["variable"]: q["default"]}) == [], q


@pytest.mark.parametrize("item_id", ITEMS)
def test_items_needing_approval_get_a_fail_closed_workflow(item_id, exported):
    item = CATALOG.get(item_id)
    flows = {f["name"]: f for f in exported["workflow_job_templates"]}
    item_gates = gates(PLAYBOOKS / item.playbook, REPO / "roles")
    flow = flows.get(f"day2ops {item_id} (approval)")
    if not (item.approval.required or item_gates):
        assert flow is None
        return
    assert _workflow_errors(flow, item_id) == []
    assert awx_spec_errors(flow["survey_spec"]) == []
    approvals = [n["identifier"] for n in flow["workflow_nodes"][:-1]]
    expected = (["approve run"] if item.approval.required else []) + [f"approve {g.name}" for g in item_gates]
    assert approvals == expected
    assert all(
        n["unified_job_template"]["timeout"] == int(item.approval.timeout_hours * 3600)
        for n in flow["workflow_nodes"][:-1]
    )


def test_in_flow_gate_becomes_an_approval_node_and_is_let_through_in_the_job(exported):
    flow = next(
        f for f in exported["workflow_job_templates"] if f["name"] == "day2ops template_release (approval)"
    )
    assert (
        flow["workflow_nodes"][0]["identifier"]
        == "approve Ask for approval before the version becomes active"
    )
    assert flow["extra_vars"] == {"template_release_approval_outside_app": "approve"}
    # The job template alone still fails closed at the gate.
    template = next(t for t in exported["job_templates"] if t["name"] == "day2ops template_release")
    assert "template_release_approval_outside_app" not in template["extra_vars"]


def test_names_contract():
    assert names.job_template_name("safe_patch") == "day2ops safe_patch"
    assert names.workflow_name("safe_patch") == "day2ops safe_patch (approval)"
    assert names.approval_node_name(names.RUN_GATE) == "approve run"


def test_live_choices_become_multiple_choice_and_dependent_ones_stay_text():
    asked = []

    def live(source, key, odata):
        asked.append((source, key, odata))
        return {"clusters": ["prod-ahv-01", "dr-ahv-01"]}.get(source, ["one", "two"])

    survey = survey_spec(CATALOG.get("dr_drill"), live)
    by_var = {q["variable"]: q for q in survey["spec"]}
    assert by_var["dr_drill_cluster"]["type"] == "multiplechoice"
    assert by_var["dr_drill_cluster"]["default"] == "dr-ahv-01"
    assert by_var["vm"]["type"] == "multiplechoice"
    assert by_var["dr_drill_recovery_point_ext_ids"]["type"] == "text"  # depends on the VM chosen
    assert ("recovery_points", None, None) not in asked
    assert awx_spec_errors(survey) == []


def test_a_live_default_prism_no_longer_offers_is_dropped():
    survey = survey_spec(CATALOG.get("dr_replicate"), lambda source, key, odata: ["dr-ahv-02", "Production"])
    cluster = next(q for q in survey["spec"] if q["variable"] == "dr_replicate_cluster")
    assert cluster["default"] == ""
    assert awx_spec_errors(survey) == []


def test_booleans_are_true_false_choices():
    flag = Input(name="reboot", label="Reboot", type="boolean", default=True)
    q = question(CATALOG.get("chargeback"), flag)
    assert (q["type"], q["choices"], q["default"]) == ("multiplechoice", ["true", "false"], "true")
    assert awx_answer_errors(q, {"reboot": "false"}) == []


def test_an_input_type_awx_cannot_express_is_refused():
    upload = Input.model_construct(name="kickstart", label="Kickstart", type="file", var=None, choices=[])
    with pytest.raises(ExportError, match=r"input kickstart: AWX surveys have no 'file' question"):
        question(CATALOG.get("chargeback"), upload)


def test_a_fractional_limit_is_refused_naming_the_field():
    ratio = Input(name="ratio", label="Ratio", type="integer", min=0.5)
    with pytest.raises(ExportError, match=r"item chargeback: input ratio: min 0.5 is not a whole number"):
        question(CATALOG.get("chargeback"), ratio)


@pytest.mark.parametrize(
    "cron, timezone",
    [
        ("0 2 * * *", "Europe/Berlin"),
        ("*/15 8-18 * * 1-5", "Europe/Berlin"),
        ("30 3 1,15 * *", "UTC"),
        ("0 4 * 1,7 sun", "America/New_York"),
        ("0 0 L * *", "UTC"),
        ("0 6 * * * 30", "Asia/Tokyo"),
    ],
)
def test_cron_becomes_an_rrule_awx_accepts_that_fires_when_cron_does(cron, timezone):
    value = rrule(cron, timezone, START)
    assert awx_rrule_errors(value) == []
    assert value.startswith(f"DTSTART;TZID={timezone}:20250106T000000 RRULE:")
    rule = rrulestr(value.replace(" ", "\n"))
    start = datetime(2025, 1, 6, tzinfo=ZoneInfo(timezone))
    # croniter gives the fires strictly after its start; the rule may fire at DTSTART itself.
    times = croniter(cron, start - timedelta(seconds=1))
    expected = [times.get_next(datetime) for _ in range(40)]
    actual = []
    for moment in rule:
        actual.append(moment)
        if len(actual) == 40:
            break
    assert [t.isoformat() for t in actual] == [t.isoformat() for t in expected]


@pytest.mark.parametrize(
    "cron, timezone, message",
    [
        ("61 2 * * *", "UTC", "not a cron expression"),
        ("0 2 * *", "UTC", "not a cron expression"),
        ("0 2 * * mon#2", "UTC", "numeric prefix, which AWX refuses"),
        ("0 2 1 * mon", "UTC", "cron runs when the day of the month OR the weekday matches"),
        ("0 2 * * *", "Mars/Olympus", "not an IANA time zone"),
    ],
)
def test_schedules_rrule_cannot_express_are_refused(cron, timezone, message):
    with pytest.raises(ExportError, match=re.escape(message)):
        rrule(cron, timezone, START)


def _schedule(**fields):
    row = {"name": "nightly-dr", "item_id": "dr_replicate", "cron": "0 2 * * *", "timezone": "Europe/Berlin"}
    row.update(
        inputs={"environment": "Production", "department": None, "cluster": "dr-ahv-01"}, missed="skip"
    )
    return SimpleNamespace(**{**row, "enabled": True, **fields})


def test_a_schedule_targets_the_workflow_when_the_item_needs_approval_and_its_inputs_pass_the_survey():
    nightly = _schedule()
    patch = _schedule(
        name="sunday-patch",
        item_id="safe_patch",
        cron="0 3 * * sun",
        inputs={
            "department": "Finance",
            "environment": "Test",
            "serial": 2,
            "webhook_url": "https://hooks.example/x",
        },
    )
    objects = export(CATALOG, [nightly, patch], PLAYBOOKS, REPO / "roles", Target(), START)
    first, second = objects["schedules"]
    assert first["unified_job_template"] == "day2ops dr_replicate"
    assert first["extra_data"] == {"environment": "Production", "dr_replicate_cluster": "dr-ahv-01"}
    assert second["unified_job_template"] == "day2ops safe_patch (approval)"
    assert "webhook_url" not in second["extra_data"]  # schedules store no secrets
    for schedule in objects["schedules"]:
        item_id = schedule["unified_job_template"].split()[1]
        survey = survey_spec(CATALOG.get(item_id))
        assert [e for q in survey["spec"] for e in awx_answer_errors(q, schedule["extra_data"])] == []
        assert awx_rrule_errors(schedule["rrule"]) == []


def test_a_schedule_with_a_bad_cron_names_the_schedule():
    with pytest.raises(ExportError, match=r"schedule nightly-dr: schedule '0 2 \* \* mon#1'"):
        export(CATALOG, [_schedule(cron="0 2 * * mon#1")], PLAYBOOKS, REPO / "roles", Target(), START)


def test_answers_of_a_multi_choice_asked_as_text_are_comma_separated():
    item = CATALOG.get("dr_drill")
    values = {"vm": "vm-1", "recovery_points": ["rp-1", "rp-2"], "cluster": "dr-ahv-01", "probe_url": None}
    assert answers(item, values, survey_spec(item))["dr_drill_recovery_point_ext_ids"] == "rp-1,rp-2"


def _play(tmp_path: Path, variables: dict, answers_: dict, var: str) -> object:
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
    (tmp_path / "answers.json").write_text(json.dumps(answers_))
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f'    - ansible.builtin.copy:\n        content: "{{{{ {var} | to_json }}}}"\n'
        f"        dest: {tmp_path / 'out.json'}\n"
    )
    env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    subprocess.run(
        [BIN / "ansible-playbook", "play.yml", "-e", "@vars.yml", "-e", "@answers.json"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return json.loads((tmp_path / "out.json").read_text())


@pytest.mark.parametrize(
    "given, scope",
    [
        (
            {"environment": "Production", "department": "Finance"},
            {"Environment": "Production", "Department": "Finance"},
        ),
        ({"environment": "Test"}, {"Environment": "Test"}),
        ({"environment": "Test", "department": ""}, {"Environment": "Test"}),
    ],
)
def test_extra_vars_built_from_inputs_are_evaluated_by_ansible_as_the_app_renders_them(
    tmp_path, given, scope
):
    # `environment` is also a play keyword: the expression must still read the survey's answer.
    assert _play(tmp_path, extra_vars(CATALOG.get("dr_replicate")), given, "dr_replicate_scope") == scope


def test_day2ops_awx_export_command(tmp_path):
    env = {**os.environ, "DAY2OPS_DB_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    subprocess.run([BIN / "day2ops", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    from day2ops_app.db.engine import Database
    from day2ops_app.db.tables import Schedule

    db = Database(env["DAY2OPS_DB_URL"])
    with db.session() as session:
        session.add(
            Schedule(
                name="weekly-chargeback",
                item_id="chargeback",
                inputs={"group_by": "Department"},
                cron="0 6 * * mon",
                timezone="Europe/Berlin",
                owner="ada",
                next_fire_at=datetime(2025, 1, 6),
            )
        )
    db.dispose()
    out = tmp_path / "awx"
    done = subprocess.run(
        [
            BIN / "day2ops",
            "awx",
            "export",
            "--catalog",
            str(REPO / "catalog"),
            "--out",
            str(out),
            "--project",
            "ops",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    templates = json.loads((out / "job_templates.json").read_text())
    workflows = json.loads((out / "workflow_job_templates.json").read_text())
    assert f"{len(ITEMS)} job templates, {len(workflows)} workflow job templates, 1 schedules" in done.stdout
    assert {t["name"] for t in templates} == {f"day2ops {i}" for i in ITEMS}
    assert {t["project"] for t in templates} == {"ops"}
    schedules = json.loads((out / "schedules.json").read_text())
    assert schedules[0]["extra_data"] == {"chargeback_group_by": "Department"}
    assert awx_rrule_errors(schedules[0]["rrule"]) == []
    text = (out / "awx_vars.yml").read_text()
    # The playbook applying these must hand the Jinja to AWX untouched.
    assert "dr_replicate_scope: !unsafe" in text
    loaded = yaml.safe_load(text.replace("!unsafe", ""))
    assert loaded["day2ops_awx_job_templates"] == templates
    assert loaded["day2ops_awx_project"] == "ops"

    with Database(env["DAY2OPS_DB_URL"]).session() as session:
        session.add(
            Schedule(
                name="odd",
                item_id="chargeback",
                inputs={},
                cron="0 6 1 * mon",
                timezone="UTC",
                owner="ada",
                next_fire_at=datetime(2025, 1, 6),
            )
        )
    refused = subprocess.run(
        [BIN / "day2ops", "awx", "export", "--out", str(tmp_path / "again")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "schedule odd:" in refused.stderr and "split it into two schedules" in refused.stderr
    assert not (tmp_path / "again").exists()


def _question(**fields):
    return {"question_name": "Q", "variable": "q", "required": False, "type": "text", "default": "", **fields}


@pytest.mark.parametrize(
    "spec",
    [
        [_question(), _question()],
        [_question(type="multiplechoice", choices=["a", "b"], default="c")],
        [_question(type="multiplechoice", choices=["a", "b"], default="a\nb")],
        [_question(type="integer", min=0.5)],
        [_question(type="integer", default="5")],
        [_question(type="boolean")],
        [],
    ],
)
def test_the_awx_validator_used_above_refuses_what_awx_refuses(spec):
    assert awx_spec_errors({"name": "s", "description": "", "spec": spec}) != []


@pytest.mark.parametrize(
    "value",
    [
        "DTSTART:20250106T000000 RRULE:FREQ=DAILY;INTERVAL=1",
        "DTSTART;TZID=UTC:20250106T000000 RRULE:FREQ=DAILY",
        "DTSTART;TZID=UTC:20250106T000000 RRULE:FREQ=MONTHLY;INTERVAL=1;BYDAY=2MO",
        "RRULE:FREQ=DAILY;INTERVAL=1",
    ],
)
def test_the_rrule_validator_used_above_refuses_what_awx_refuses(value):
    assert awx_rrule_errors(value) != []

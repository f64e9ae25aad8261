#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: approval
short_description: Stop a playbook until people approve the next step in the day2ops app
version_added: 0.1.0
description:
  - An approval gate inside a playbook, before a destructive step (deleting or resetting VMs,
    converting a template, a migration cutover). It asks the day2ops self-service app to open a
    gate on the run, shows O(summary) and O(details) to the reviewers there, and waits until they
    decide.
  - The task ends C(ok) when the gate is approved (O(required) distinct reviewers approved), and
    fails when a reviewer rejects it, when the app cancels it, and when nobody decides within
    O(timeout) seconds. A gate fails closed, so the tasks after it need no condition on
    RV(approved).
  - Four-eyes is the app's rule. The user who started the run never decides on its gates.
  - Only a run the app started can open gates. The app gives each run E(DAY2OPS_APP_URL),
    E(DAY2OPS_RUN_ID) and E(DAY2OPS_RUN_TOKEN) (a token valid for that run only). Without them the
    gate fails closed, or, with O(outside_app=approve), lets the playbook through with a warning.
  - The same O(name) in the same run is the same gate. A retried task (C(retries), a rerun of a
    failed host) gets the gate opened first and its decisions; reviewers are never asked twice.
  - The module never reports C(changed). A gate changes nothing in Prism Central. The app keeps
    the gate and its decisions (who, when, comment) in the run's audit record.
author: day2ops team (@day2ops)
requirements:
  - requests
  - a run started by the day2ops app (or O(outside_app=approve))
options:
  name:
    description:
      - The gate's name, unique within the run. Reviewers see it; opening a name again returns the
        gate opened first.
    type: str
    required: true
  summary:
    description:
      - What the reviewers are asked, in a sentence. The app shows it as the gate's message.
      - Named C(summary) because Ansible reserves C(message) for itself.
    type: str
    default: ""
  details:
    description:
      - What will be done, shown to the reviewers, for example the VMs and the change ticket.
      - Stored in the audit record as given; put no secrets in it.
    type: dict
    default: {}
  reviewers:
    description:
      - The app users who may decide. Give O(reviewers), O(reviewer_group), or both.
    type: list
    elements: str
  reviewer_group:
    description: An app group whose members may decide.
    type: str
  required:
    description:
      - How many distinct reviewers must approve. One rejection rejects the gate.
    type: int
    default: 1
  timeout:
    description:
      - Seconds to wait for the decision. A gate not decided in time fails closed; the app expires it
        at the same time.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between two reads of the gate while it is pending.
    type: int
    default: 5
  outside_app:
    description:
      - What to do when the playbook was not started by the day2ops app (E(DAY2OPS_RUN_ID) and
        E(DAY2OPS_RUN_TOKEN) are not set).
      - V(fail) fails the task with that reason. Nothing destructive runs unapproved.
      - V(approve) skips the gate on purpose. The task is reported as skipped with a warning and
        returns RV(approved=true) and RV(skipped=true). For labs and plain C(ansible-playbook) runs.
      - A run that carries E(DAY2OPS_RUN_ID) or E(DAY2OPS_RUN_TOKEN) without the other values is
        treated as a broken app run and fails whatever this option says.
    type: str
    choices: [fail, approve]
    default: fail
  app_url:
    description:
      - The app's base URL as the playbook reaches it, for example V(https://day2ops.example.com).
      - If not set, the environment variable E(DAY2OPS_APP_URL) is used.
    type: str
  run_id:
    description:
      - The execution id of this run in the app.
      - If not set, the environment variable E(DAY2OPS_RUN_ID) is used.
    type: str
  run_token:
    description:
      - "The run's own token, sent as C(Authorization: Bearer <token>)."
      - If not set, the environment variable E(DAY2OPS_RUN_TOKEN) is used.
    type: str
  ca_path:
    description:
      - A PEM CA bundle to verify the app's HTTPS certificate with.
      - If not set, the environment variable E(DAY2OPS_APP_CA_PATH) is used.
    type: path
  validate_certs:
    description: Verify the app's HTTPS certificate. Turn off only in a lab.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description:
      - Opens no gate and waits for nobody. The task is reported as skipped with RV(approved=false)
        and RV(status=not_asked), and its C(msg) says who would be asked.
      - Outside the app, O(outside_app) applies as in a real run.
  diff_mode:
    support: none
    description: A gate changes nothing to show.
  platform:
    platforms: all
    description:
      - "Runs where the app's environment variables are, the controller. Use it in a
        C(hosts: localhost) play or with C(delegate_to: localhost)."
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
notes:
  - The app's side is C(POST /api/runs/{run_id}/gates) and C(GET /api/runs/{run_id}/gates/{gate_id})
    with the run token as a bearer token.
seealso:
  - module: day2ops.ahv.vm
"""

EXAMPLES = r"""
- name: Find the VM to retire
  day2ops.ahv.vm_info:
    name: sales-wiki-dev-cache-038
  register: retiring

- name: Ask two platform engineers before deleting it
  day2ops.ahv.approval:
    name: delete retired cache VMs
    summary: Delete the retired sales wiki cache VM for good
    details:
      vms: "{{ retiring.vms | map(attribute='name') | list }}"
      ticket: CHG0031337
    reviewer_group: platform
    required: 2
    timeout: 7200
    # A plain ansible-playbook run in a lab goes through with a warning; leave this out in production.
    outside_app: approve
  register: gate

- name: Delete it (reached only when the gate was approved)
  day2ops.ahv.vm:
    ext_id: "{{ item }}"
    state: absent
  loop: "{{ retiring.vms | map(attribute='ext_id') | list }}"

- name: Record who approved
  ansible.builtin.debug:
    msg: >-
      approved by {{ gate.decisions | selectattr('decision', 'eq', 'approve')
      | map(attribute='reviewer') | join(', ') }}
"""

RETURN = r"""
approved:
  description:
    - Whether the step may go ahead. True when the gate was approved, or skipped outside the app with
      O(outside_app=approve); false in check mode. A gate that is not approved fails the task.
  returned: always
  type: bool
skipped:
  description: True when no gate was asked for (outside the app with O(outside_app=approve), or check mode).
  returned: always
  type: bool
status:
  description:
    - The gate's status in the app, V(approved), V(rejected), V(timed_out), V(canceled), or V(pending)
      when this task stopped waiting first.
    - V(not_asked) when no gate was opened.
  returned: always
  type: str
  sample: approved
gate_id:
  description: The gate's id in the app; null when no gate was opened.
  returned: always
  type: str
  sample: 3f0c2a9e-7d41-4c55-9a8e-2b1d6f0e4c17
name:
  description: The gate's name.
  returned: always
  type: str
reviewers:
  description: The users who may decide, as the app recorded them.
  returned: always
  type: list
  elements: str
reviewer_group:
  description: The group whose members may decide, or null.
  returned: always
  type: str
required:
  description: How many distinct approvals the gate needs.
  returned: always
  type: int
decisions:
  description: The decisions so far, oldest first. A gate that timed out carries one by V(day2ops).
  returned: always
  type: list
  elements: dict
  contains:
    reviewer:
      description: Who decided.
      type: str
    decision:
      description: V(approve), V(reject), or V(timeout) (recorded by the app).
      type: str
    comment:
      description: The reviewer's comment, possibly empty.
      type: str
    decided_at:
      description: When (ISO 8601).
      type: str
  sample:
    - reviewer: alice
      decision: approve
      comment: "ticket CHG0031337 checked"
      decided_at: "2026-11-25T06:51:47.034875Z"
expires_at:
  description: When the app expires the gate (ISO 8601), or null.
  returned: always
  type: str
reopened:
  description: True when the app answered with the gate this run had opened before under this name (a retry).
  returned: always
  type: bool
waited_seconds:
  description: How long this task waited for the decision.
  returned: always
  type: float
http_status:
  description: The HTTP status the app failed with; null when it could not be reached.
  returned: when a call to the app failed
  type: int
  sample: 409
"""

import time

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.day2ops.ahv.plugins.module_utils._app import AppClient, decisions
from ansible_collections.day2ops.ahv.plugins.module_utils._http import REQUESTS_IMPORT_ERROR, ApiError

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    summary=dict(type="str", default=""),
    details=dict(type="dict", default={}),
    reviewers=dict(type="list", elements="str"),
    reviewer_group=dict(type="str"),
    required=dict(type="int", default=1),
    timeout=dict(type="int", default=3600),
    poll_interval=dict(type="int", default=5),
    outside_app=dict(type="str", default="fail", choices=["fail", "approve"]),
    app_url=dict(type="str", fallback=(env_fallback, ["DAY2OPS_APP_URL"])),
    run_id=dict(type="str", fallback=(env_fallback, ["DAY2OPS_RUN_ID"])),
    run_token=dict(type="str", no_log=True, fallback=(env_fallback, ["DAY2OPS_RUN_TOKEN"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["DAY2OPS_APP_CA_PATH"])),
    validate_certs=dict(type="bool", default=True),
)
APP_OPTIONS = (
    ("app_url", "DAY2OPS_APP_URL"),
    ("run_id", "DAY2OPS_RUN_ID"),
    ("run_token", "DAY2OPS_RUN_TOKEN"),
)


def who(reviewers, group):
    names = ", ".join(reviewers or [])
    if group:
        return "%s or group %s" % (names, group) if names else "group %s" % group
    return names


def not_asked(params, approved, msg):
    return dict(
        changed=False,
        approved=approved,
        skipped=True,
        status="not_asked",
        gate_id=None,
        name=params["name"],
        reviewers=sorted(set(params["reviewers"] or [])),
        reviewer_group=params["reviewer_group"],
        required=params["required"],
        decisions=[],
        expires_at=None,
        reopened=False,
        waited_seconds=0.0,
        msg=msg,
    )


def check_params(module):
    params = module.params
    if not params["reviewers"] and not params["reviewer_group"]:
        module.fail_json(
            msg="give reviewers, reviewer_group or both: who may approve gate '%s'" % params["name"]
        )
    for option, least in (("required", 1), ("timeout", 1), ("poll_interval", 1)):
        if params[option] < least:
            module.fail_json(msg="%s must be at least %d, not %d" % (option, least, params[option]))
    named = len(set(params["reviewers"] or []))
    if not params["reviewer_group"] and params["required"] > named:
        module.fail_json(
            msg="gate '%s' needs %d approvals but reviewers names %d user(s) and no reviewer_group: "
            "it could never be approved" % (params["name"], params["required"], named)
        )


def outside_app(module):
    """None when the run was started by the app, else the result (or failure) outside_app asks for."""
    params = module.params
    missing = [env for option, env in APP_OPTIONS if not params[option]]
    if not missing:
        return None
    name = params["name"]
    if params["run_id"] or params["run_token"]:
        module.fail_json(
            msg="gate '%s' cannot be asked: this run carries DAY2OPS_RUN_ID or DAY2OPS_RUN_TOKEN but not %s. "
            "A run the day2ops app starts has all three; the gate fails closed"
            % (name, " or ".join(missing)),
            approved=False,
            status="not_asked",
        )
    if params["outside_app"] == "approve":
        text = (
            "gate '%s' was not asked: this playbook was not started by the day2ops app, and "
            "outside_app: approve lets it through without approval" % name
        )
        module.warn(text)
        return not_asked(params, True, text)
    module.fail_json(
        msg="gate '%s' cannot be asked: the approval gate only works in a run started by the day2ops app "
        "(%s not set). The gate fails closed. Set outside_app: approve to skip it on purpose, for example "
        "in a lab" % (name, ", ".join(missing)),
        approved=False,
        status="not_asked",
    )


def wait(module, client, gate, sleep=time.sleep, clock=time.monotonic):
    """Read the gate until it is decided or the module's own timeout passes; returns the last read."""
    params = module.params
    deadline = clock() + params["timeout"]
    while gate.get("status") == "pending":
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(params["poll_interval"], remaining))
        gate = client.gate(gate["id"], params["name"])
    return gate


def outcome(params, gate, reopened, waited):
    """(failure message or None, result) for a gate as the app last reported it."""
    name, status = params["name"], gate.get("status")
    found = decisions(gate)
    result = dict(
        changed=False,
        approved=status == "approved",
        skipped=False,
        status=status,
        gate_id=gate.get("id"),
        name=gate.get("name") or name,
        reviewers=list(gate.get("reviewers") or []),
        reviewer_group=gate.get("reviewer_group"),
        required=gate.get("required") or params["required"],
        decisions=found,
        expires_at=gate.get("expires_at"),
        reopened=reopened,
        waited_seconds=round(waited, 3),
    )
    approvers = [d["reviewer"] for d in found if d["decision"] == "approve"]
    if status == "approved":
        result["msg"] = "gate '%s' approved by %s" % (name, ", ".join(approvers) or "the app")
        return None, result
    if status == "rejected":
        rejections = [d for d in found if d["decision"] == "reject"]
        last = rejections[-1] if rejections else dict(reviewer="a reviewer", comment="")
        return "gate '%s' was rejected by %s: %s" % (
            name,
            last["reviewer"],
            last["comment"] or "no comment given",
        ), result
    if status in ("timed_out", "pending"):
        so_far = " (%d of %d approvals)" % (len(approvers), result["required"]) if approvers else ""
        return "gate '%s': no decision within %d s: the gate fails closed%s" % (
            name,
            params["timeout"],
            so_far,
        ), result
    if status == "canceled":
        return "gate '%s' was canceled in the app (the run was canceled): nothing was approved" % name, result
    return "gate '%s' ended as %s: the gate fails closed" % (name, status), result


def run(module, sleep=time.sleep, clock=time.monotonic):
    params = module.params
    check_params(module)
    skipped = outside_app(module)
    if skipped is not None:
        module.exit_json(**skipped)
    if module.check_mode:
        module.exit_json(
            **not_asked(
                params,
                False,
                "check mode: would ask %s for %d approval(s) of gate '%s'; no gate was opened"
                % (who(params["reviewers"], params["reviewer_group"]), params["required"], params["name"]),
            )
        )
    if REQUESTS_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    started = clock()
    try:
        client = AppClient.from_options(params)
        gate, created = client.open_gate(
            params["name"],
            reviewers=params["reviewers"],
            reviewer_group=params["reviewer_group"],
            required=params["required"],
            timeout=params["timeout"],
            message=params["summary"],
            details=params["details"],
        )
        gate = wait(module, client, gate, sleep, clock)
    except ApiError as err:
        error = err.result()
        module.fail_json(
            msg=str(err),
            approved=False,
            http_status=error["status"],
            error_code=error["error_code"],
            request_id=error["request_id"],
        )
    failure, result = outcome(params, gate, not created, clock() - started)
    if failure:
        result.pop("msg", None)
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_one_of=[("reviewers", "reviewer_group")],
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()

"""Runs dispatched to AWX / Ansible Automation Platform (DAY2OPS_RUN_BACKEND=awx).

The item's job template is launched (its approval workflow instead, when AWX has one), its job events
are handed to the listener as the ansible-runner events they were, so the audit store, the run page and
the evidence do not depend on where the playbook ran. A workflow's approval nodes are answered with the
app's own decisions: the app opens the gate with its reviewers and rules, AWX follows.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime

from day2ops_app.audit.redact import Redactor
from day2ops_app.awx.names import RUN_GATE, approval_node_name, job_template_name, workflow_name
from day2ops_app.runs.adapter import RunHandle, RunListener, RunRequest
from day2ops_app.runs.awx_client import AwxClient, AwxError
from day2ops_app.services.approvals import RUN_GATE_NAME, Conflict
from day2ops_app.settings import Settings

log = logging.getLogger("day2ops.runs.awx")

# AWX statuses of jobs and workflow jobs; new, pending and waiting come before the playbook starts.
FINISHED = {"successful": "successful", "failed": "failed", "error": "failed", "canceled": "canceled"}
# What AWX is told once the app's gate is decided; a gate that timed out fails closed.
ANSWER = {"approved": "approve", "rejected": "deny", "timed_out": "deny", "canceled": "deny"}
EVENT_FIELDS = ("uuid", "parent_uuid", "event", "event_data", "stdout", "start_line", "end_line", "created")


def survey_answer(question: dict, value):
    """A value as AWX validates an answer to that type of survey question."""
    kind = question.get("type")
    if kind == "multiselect":
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if isinstance(value, bool):
        return str(value).lower()
    if kind in ("integer", "float"):
        return value
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def launch_vars(request: RunRequest, template: dict, survey: dict) -> dict:
    """The survey's answers, secret inputs among them as its password answers (AWX stores those
    encrypted); the other extra vars only when the template takes variables on launch. A secret never
    goes as a plain extra var. The Prism credentials and the run token of the local runner are not sent:
    in AWX the Prism connection is an AWX credential on the template, and no playbook calls the app."""
    questions = {q["variable"]: q for q in survey.get("spec", [])}
    given = {**request.extra_vars, **request.secret_vars}
    answers = {name: survey_answer(questions[name], v) for name, v in given.items() if name in questions}
    if not template.get("ask_variables_on_launch"):
        return answers
    return {**request.site_vars, **request.extra_vars, **answers}


def awx_starter(settings: Settings):
    def start(request: RunRequest, listener: RunListener) -> RunHandle:
        client = AwxClient(settings.awx_url, settings.awx_token.get_secret_value(), settings.awx_verify_ssl)
        cancel_requested = threading.Event()
        run = AwxRun(client, request, listener, settings.awx_poll_seconds, cancel_requested)
        thread = threading.Thread(target=run.run, name=f"awx-{request.execution_id}", daemon=True)
        thread.start()
        return RunHandle(request.execution_id, thread, cancel_requested)

    return start


class AwxRun:
    def __init__(
        self,
        client: AwxClient,
        request: RunRequest,
        listener: RunListener,
        poll_seconds: float,
        cancel_requested: threading.Event,
    ):
        self.client = client
        self.request = request
        self.listener = listener
        self.poll_seconds = poll_seconds
        self.cancel_requested = cancel_requested
        self.redactor = Redactor(list(request.secret_env.values()))
        # Our own counter across the jobs of a workflow (each AWX job counts from 1): the store and the
        # event stream order by it.
        self.counter = 0
        self.seen: dict[int, int] = {}
        self.answered: set[int] = set()
        self.started = False
        self.cancel_sent = False

    def run(self) -> None:
        status, reason = "failed", ""
        try:
            status, reason = self._dispatch()
        except AwxError as error:
            reason = self._say(str(error))
        except Exception:
            log.exception("run %s: following it in AWX failed", self.request.execution_id)
            reason = self._say("following the run in AWX failed; see the app's log")
        finally:
            self.listener.on_finish(status, 0 if status == "successful" else None, reason)

    def _dispatch(self) -> tuple[str, str]:
        self._extra_vars_stay_data()
        item_id = self.request.item_id
        workflow = self.client.find("workflow_job_templates", workflow_name(item_id))
        if workflow is not None:
            return self._follow(self._launch("workflow_job_templates", workflow, "workflow_jobs"), True)
        template = self.client.find("job_templates", job_template_name(item_id))
        if template is None:
            raise AwxError(
                f"AWX has no job template {job_template_name(item_id)!r} (nor workflow "
                f"{workflow_name(item_id)!r}): import the catalog's AWX export into AWX"
            )
        return self._follow(self._launch("job_templates", template, "jobs"), False)

    def _extra_vars_stay_data(self) -> None:
        """AWX writes a job's launch-time extra vars, survey answers among them, as `!unsafe` unless its
        ALLOW_JINJA_IN_EXTRA_VARS is `always`: then a form value would be templated in the job. The
        exported job templates need `template` (AWX's default), whose extra vars alone stay templated.
        Reading the setting takes an AWX admin or auditor; without that, the export playbook's check
        (playbooks/awx/awx_objects.yml) is what holds."""
        try:
            setting = self.client.get("/api/v2/settings/jobs/").get("ALLOW_JINJA_IN_EXTRA_VARS")
        except AwxError as error:
            if error.status not in (403, 404):
                raise
            log.info("run %s: AWX's job settings are not readable here", self.request.execution_id)
            return
        if setting == "always":
            raise AwxError(
                "AWX's ALLOW_JINJA_IN_EXTRA_VARS is 'always', so AWX would template the form's values as "
                "Jinja: set it to 'template' (Settings > Jobs) before the app runs anything there"
            )

    def _launch(self, kind: str, template: dict, job_kind: str) -> str:
        """Launches the template; returns the path of the job (or workflow job) it started."""
        base = f"/api/v2/{kind}/{template['id']}/"
        survey = self.client.get(f"{base}survey_spec/") if template.get("survey_enabled") else {}
        launched = self.client.post(
            f"{base}launch/", {"extra_vars": launch_vars(self.request, template, survey)}
        )
        return f"/api/v2/{job_kind}/{launched['id']}/"

    def _follow(self, path: str, workflow: bool) -> tuple[str, str]:
        """Follows the job (or workflow job) at path to its end: the run's status, and the record's reason."""
        while True:
            self._cancel_if_asked(path)
            job = self.client.get(path)
            status = job["status"]
            if status in ("running", "successful") and not self.started:
                self.started = True
                # The record names the AWX job: after a restart of the app, it is found there.
                self.listener.on_start(f"running in AWX as {path}")
            jobs = self._workflow_step(job["id"]) if workflow else [job["id"]]
            if status in FINISHED:
                for job_id in jobs:
                    self._last_events(job_id)
                return FINISHED[status], f"AWX {path} ended {status}"
            for job_id in jobs:
                self._events(job_id)
            self.cancel_requested.wait(self.poll_seconds)

    def _cancel_if_asked(self, path: str) -> None:
        if self.cancel_sent or not (self.cancel_requested.is_set() or self.listener.should_cancel()):
            return
        self.cancel_sent = True
        try:
            self.client.post(f"{path}cancel/")
        except AwxError as error:  # it may have ended meanwhile: its status says how
            log.warning("run %s: %s", self.request.execution_id, self.redactor.text(str(error)))

    def _events(self, job_id: int) -> None:
        after = self.seen.get(job_id, 0)
        params = {"order_by": "counter", "counter__gt": after, "page_size": 200}
        for event in self.client.pages(f"/api/v2/jobs/{job_id}/job_events/", params):
            self.seen[job_id] = max(self.seen.get(job_id, 0), event["counter"])
            self.counter += 1
            runner_event = {field: event.get(field) for field in EVENT_FIELDS}
            self.listener.on_event(
                {**runner_event, "counter": self.counter, "runner_ident": self.request.execution_id}
            )

    def _last_events(self, job_id: int) -> None:
        """AWX saves a job's events after the job has ended: all of them, once it says it has."""
        while not self.client.get(f"/api/v2/jobs/{job_id}/").get("event_processing_finished", True):
            self._events(job_id)
            self.cancel_requested.wait(self.poll_seconds)
        self._events(job_id)

    def _workflow_step(self, workflow_job_id: int) -> list[int]:
        """Answers the workflow's pending approvals the app has decided; returns the ids of its jobs."""
        jobs, pending = [], []
        for node in self.client.pages(f"/api/v2/workflow_jobs/{workflow_job_id}/workflow_nodes/"):
            spawned = (node.get("summary_fields") or {}).get("job") or {}
            if spawned.get("type") == "job":
                jobs.append(node["job"])
            elif spawned.get("type") == "workflow_approval" and node["job"] not in self.answered:
                pending.append(node["job"])
        if pending:
            query = {"status": "pending", "id__in": ",".join(str(i) for i in pending)}
            for approval in self.client.pages("/api/v2/workflow_approvals/", query):
                self._answer(approval)
        return jobs

    def _answer(self, approval: dict) -> None:
        node_prefix = approval_node_name("")
        name = approval["name"]
        gate = name.removeprefix(node_prefix)
        spec = {
            "name": RUN_GATE_NAME if gate == RUN_GATE else gate,
            "message": approval.get("description") or f"the AWX workflow asks: {name}",
            "details": {"awx_workflow_approval": approval["id"]},
        }
        if approval.get("timeout"):
            spec["timeout_seconds"] = approval["timeout"]
        try:
            status = self.listener.gate(spec)
        except (ValueError, Conflict) as error:
            self._say(f"AWX approval {name!r} denied: {error}")
            status = "rejected"
        verb = ANSWER.get(status)
        if verb:
            self.client.post(f"/api/v2/workflow_approvals/{approval['id']}/{verb}/")
            self.answered.add(approval["id"])

    def _say(self, text: str) -> str:
        """Why a run failed before or outside its playbook: in the log, and on the run page as output."""
        text = self.redactor.text(text)
        log.error("run %s: %s", self.request.execution_id, text)
        self.counter += 1
        self.listener.on_event(
            {
                "uuid": str(uuid.uuid4()),
                "counter": self.counter,
                "event": "verbose",
                "event_data": {},
                "stdout": text,
                "created": datetime.now(UTC).isoformat(),
                "runner_ident": self.request.execution_id,
            }
        )
        return text

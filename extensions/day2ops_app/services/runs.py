"""The run lifecycle: submit (validate, record, ask for approval or launch), launch through the
runner adapter (at once, or when its gate is approved), store events as they arrive, finish, cancel,
and recover after a restart."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import yaml

from day2ops_app.audit import store
from day2ops_app.audit.redact import Redactor, redact_inputs
from day2ops_app.catalog.choices import PrismChoices
from day2ops_app.catalog.forms import validate_inputs
from day2ops_app.catalog.model import Catalog, Item
from day2ops_app.catalog.scope import render, scope_of
from day2ops_app.db.engine import Database
from day2ops_app.db.tables import Execution, Gate, User
from day2ops_app.runs.adapter import RunHandle, RunListener, RunRequest
from day2ops_app.runs.backends import starter_for
from day2ops_app.runs.processes import kill_run
from day2ops_app.runs.progress import vm_results_file
from day2ops_app.runs.queue import RunQueue
from day2ops_app.runs.reports import REPORTS, run_reports
from day2ops_app.runs.story import vm_results
from day2ops_app.schemas import GateOut
from day2ops_app.security import digest, new_token
from day2ops_app.services.approvals import ApprovalService, NotFound, gate_out, gate_status
from day2ops_app.settings import REPO, Settings

log = logging.getLogger("day2ops.runs")
RESULT_EVENTS = ("runner_on_ok", "runner_on_failed")


def collections_path(data_dir: Path) -> Path:
    """ANSIBLE_COLLECTIONS_PATH of the app's runs: `ansible_collections/day2ops/ahv` -> this repository
    (a link in the data dir), so a playbook runs the collection the app came with."""
    link = data_dir / "collections" / "ansible_collections" / "day2ops" / "ahv"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    return data_dir / "collections"


class RunService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        catalog: Catalog,
        choices: PrismChoices,
        approvals: ApprovalService,
    ):
        self.settings = settings
        self.db = db
        self.catalog = catalog
        self.choices = choices
        self.approvals = approvals
        self.handles: dict[str, RunHandle] = {}
        # Secret inputs live only in memory, from submit until the run starts: never in the store.
        self._secrets: dict[str, dict[str, str]] = {}
        self._values: dict[str, dict] = {}
        self._lock = threading.Lock()
        self.queue = RunQueue(settings.max_concurrent_runs, self._start)

    # -- submit ---------------------------------------------------------------------------

    def submit(
        self, user: User, item: Item, raw_inputs: dict, schedule_id: int | None = None, reason: str = ""
    ) -> Execution:
        if schedule_id is not None:
            raw_inputs = {**raw_inputs, **item.secrets_from(os.environ)}
        values = validate_inputs(item, raw_inputs, self.choices)
        secret_names = item.secret_names()
        needs_approval = item.approval.required > 0
        with self.db.session() as session:
            execution = store.create_execution(
                session,
                source="schedule" if schedule_id else "app",
                item_id=item.id,
                playbook=item.playbook,
                operator=user.username,
                inputs=redact_inputs(values, secret_names),
                schedule_id=schedule_id,
                status="pending_approval" if needs_approval else "queued",
                instance_id=self.settings.instance_id,
                reason=reason or (f"schedule {schedule_id}" if schedule_id else ""),
            )
            if needs_approval:
                self.approvals.open_run_gate(session, execution, item)
        with self._lock:
            self._values[execution.id] = values
            self._secrets[execution.id] = {
                item.input(n).env: str(values[n]) for n in secret_names if values.get(n) not in (None, "")
            }
        if not needs_approval:
            self.launch(execution.id)
        return execution

    # -- decide, launch ---------------------------------------------------------------------

    def decide(self, user: User, gate_id: str, decision: str, comment: str) -> GateOut:
        """A reviewer's decision on a gate (NotFound, Forbidden or Conflict); a run gate it approves
        launches the run, once the decision is committed."""
        with self.db.session() as session:
            gate = session.get(Gate, gate_id)
            if gate is None:
                raise NotFound(f"no gate {gate_id}")
            self.approvals.decide(session, user, gate, decision, comment)
            out = gate_out(session, gate)
        if out.kind == "run" and out.status == "approved":
            self.launch(out.execution_id)
        return out

    def launch(self, execution_id: str) -> None:
        """Start a queued execution on this instance as soon as fewer than DAY2OPS_MAX_CONCURRENT_RUNS
        are running; until then it stays `queued`."""
        self.queue.offer(execution_id)

    def _start(self, execution_id: str) -> bool:
        """Start it now (the queue's turn); False if it did not start."""
        with self._lock:
            values = self._values.pop(execution_id, None)
            secrets = self._secrets.pop(execution_id, {})
        with self.db.session() as session:
            execution = session.get(Execution, execution_id)
            # Canceled while it waited (through another instance, say), or queued only by a status column
            # set by hand: the chained record decides.
            if store.proven_status(session, execution) != "queued":
                return False
            execution.instance_id = self.settings.instance_id
            item = self.catalog.get(execution.item_id)
            if values is None or item is None:
                why = (
                    f"catalog item {execution.item_id} is gone"
                    if item is None
                    else "its inputs were held by an app instance that restarted before it started; "
                    "submit it again"
                )
                store.transition(session, execution, "failed", "day2ops", why)
                return False
            token = new_token("d2r")
            execution.run_token_sha256 = digest(token)
        request = self._request(execution, item, values, {**secrets, "DAY2OPS_RUN_TOKEN": token})
        redactor = Redactor([*secrets.values(), token, *self.settings.secret_values()])
        try:
            handle = starter_for(self.settings)(request, self._listener(execution_id, redactor))
        except Exception as error:
            # It may start from another run's finish: the record says why, not only the log.
            with self.db.session() as session:
                execution = session.get(Execution, execution_id)
                why = redactor.text(f"it could not start: {error}")
                store.transition(session, execution, "failed", "day2ops", why)
            raise
        with self._lock:
            self.handles[execution_id] = handle
        return True

    def _request(self, execution: Execution, item: Item, values: dict, secret_env: dict) -> RunRequest:
        s = self.settings
        # Unset inputs are left out, so the playbook's own defaults apply.
        plain = {
            i.var or i.name: values[i.name]
            for i in item.inputs
            if i.type != "secret" and values[i.name] is not None
        }
        site = yaml.safe_load(s.site_vars_file.read_text()) if s.site_vars_file else {}
        extra_vars = {**render(item.extra_vars, values), **plain, "day2ops_execution_id": execution.id}
        env = {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path(s.data_dir)),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "DAY2OPS_APP_URL": s.base_url,
            "DAY2OPS_RUN_ID": execution.id,
            # Who asked for the run, for the audit trails playbooks keep themselves (migration waves).
            "DAY2OPS_OPERATOR": execution.operator,
            "DAY2OPS_STATE_DIR": str(s.data_dir / "state"),
            "NUTANIX_HOST": s.prism_host,
            "NUTANIX_PORT": str(s.prism_port),
            "VALIDATE_CERTS": str(s.prism_validate_certs).lower(),
        }
        if s.prism_username:
            env["NUTANIX_USERNAME"] = s.prism_username
        if s.prism_ca_path:
            env["NUTANIX_CA_PATH"] = s.prism_ca_path
        if s.prism_password.get_secret_value():
            secret_env["NUTANIX_PASSWORD"] = s.prism_password.get_secret_value()
        if s.prism_api_key.get_secret_value():
            secret_env["NUTANIX_API_KEY"] = s.prism_api_key.get_secret_value()
        migration_env, migration_secrets = s.migration_env()
        env.update(migration_env)
        secret_env.update(migration_secrets)
        return RunRequest(
            execution_id=execution.id,
            item_id=item.id,
            private_dir=s.data_dir / "runs" / execution.id,
            playbook=(s.playbook_dir / item.playbook).resolve(),
            project_dir=s.playbook_dir.resolve().parent,
            extra_vars=extra_vars,
            site_vars=site or {},
            env=env,
            secret_env=secret_env,
            secret_vars={
                i.var or i.name: str(values[i.name])
                for i in item.inputs
                if i.type == "secret" and values.get(i.name) not in (None, "")
            },
            inventory=self._inventory(item, values),
        )

    def _inventory(self, item: Item, values: dict) -> dict | None:
        if item.inventory is None:
            return None
        s = self.settings
        scope = scope_of(item, values)
        inventory = {"plugin": "day2ops.ahv.prism_vms", "categories": scope.categories}
        if scope.filter:
            inventory["filter"] = scope.filter
        host_vars = yaml.safe_load(Path(s.inventory_vars_file).read_text()) if s.inventory_vars_file else {}
        if host_vars:
            # compose takes expressions: a repr() of each value is the value itself.
            inventory["compose"] = {k: repr(v) for k, v in host_vars.items()}
        return inventory

    def _listener(self, execution_id: str, redactor: Redactor) -> RunListener:
        last_check = [0.0]

        def on_start(reason: str = ""):
            with self.db.session() as session:
                store.transition(session, session.get(Execution, execution_id), "running", "day2ops", reason)

        def on_event(event: dict) -> bool:
            try:
                with self.db.session() as session:
                    stored = store.record_events(session, execution_id, [event], redactor)
                if stored:
                    self._keep_vm_results(execution_id, event, redactor)
                return False  # in the store: runner need not keep a second copy on disk
            except Exception:
                # Not lost: runner keeps it in artifacts/<id>/job_events, redacted, for a later replay.
                log.exception(
                    "event %s of %s not stored; kept in the run's artifacts", event.get("uuid"), execution_id
                )
                event.update(redactor.scrub(event))
                return True

        def on_finish(status: str, rc: int | None, reason: str = ""):
            with self.db.session() as session:
                execution = session.get(Execution, execution_id)
                if execution.cancel_requested and status != "successful":
                    status = "canceled"
                reason = reason or f"ansible-playbook exited with {rc}"
                store.transition(session, execution, status, "day2ops", reason, rc=rc)
            self.collect_reports(execution_id)
            with self._lock:
                self.handles.pop(execution_id, None)
            self.queue.finished(execution_id)

        def should_cancel() -> bool:
            # A cancel asked through another instance reaches this one through the store, within a second.
            if time.monotonic() - last_check[0] < 1.0:
                return False
            last_check[0] = time.monotonic()
            with self.db.session() as session:
                return bool(session.get(Execution, execution_id).cancel_requested)

        def gate(spec: dict) -> str:
            return self._engine_gate(execution_id, spec)

        return RunListener(on_start, on_event, on_finish, should_cancel, gate)

    def _engine_gate(self, execution_id: str, spec: dict) -> str:
        # The engine's approval step becomes the app's gate, with the item's reviewers: the app's rules
        # (named reviewers, four-eyes) decide, the engine follows.
        with self.db.session() as session:
            execution = session.get(Execution, execution_id)
            item = self.catalog.get(execution.item_id)
            policy = item.approval if item else None
            if policy is None or not (policy.group or policy.users):
                raise ValueError(
                    f"catalog item {execution.item_id} names no reviewers for its gate {spec['name']!r}: "
                    "set approval.group or approval.users (approval.required may stay 0)"
                )
            reviewers = {"reviewers": policy.users, "reviewer_group": policy.group}
            opened, _ = self.approvals.open_playbook_gate(
                session, execution, {**reviewers, "required": max(policy.required, 1), **spec}
            )
            self.approvals.expire(session, opened)
            return gate_status(session, opened)

    def run_dir(self, execution_id: str) -> Path:
        return self.settings.data_dir / "runs" / execution_id

    def _keep_vm_results(self, execution_id: str, event: dict, redactor: Redactor) -> None:
        """Each VM's part of a module result, for the run page (story.vm_results): the store's evidence
        keeps a batch's ids together, whose each one is only the result says."""
        data = event.get("event_data") or {}
        vms = vm_results(redactor.scrub(data.get("res") or {})) if event.get("event") in RESULT_EVENTS else []
        if vms:
            run_dir = self.run_dir(execution_id)
            run_dir.mkdir(parents=True, exist_ok=True)
            with vm_results_file(run_dir).open("a") as kept:
                kept.write(json.dumps({"uuid": event["uuid"], "vms": vms}) + "\n")

    def collect_reports(self, execution_id: str) -> list[str]:
        """The files the run left in the state directory that are its reports, copied into its own
        directory: a later run writing the same name changes nothing of this run's."""
        state = self.settings.data_dir / "state"
        with self.db.read() as session:
            stdout = [e.stdout for e in store.events_after(session, execution_id, 0, 100_000)]
        target = self.run_dir(execution_id) / REPORTS
        copied = []
        try:
            for path in run_reports(state, execution_id, stdout):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / path.name)
                copied.append(path.name)
        except OSError:  # the run's outcome stands; only its downloads are missing, and the log says why
            log.exception("the reports of %s were not collected", execution_id)
        return copied

    # -- cancel, recover --------------------------------------------------------------------

    def cancel(self, user: User, execution_id: str) -> Execution:
        with self.db.session() as session:
            execution = session.get(Execution, execution_id)
            if execution.status in ("pending_approval", "queued") and execution_id not in self.handles:
                store.transition(session, execution, "canceled", user.username, "canceled before it ran")
                self.approvals.cancel_gates(session, execution_id, user.username)
                self.queue.withdraw(execution_id)
                with self._lock:
                    self._values.pop(execution_id, None)
                    self._secrets.pop(execution_id, None)
                return execution
            if execution.status not in ("queued", "running"):
                raise store.InvalidTransition(execution_id, execution.status, "canceled")
            execution.cancel_requested = True
        handle = self.handles.get(execution_id)
        if handle:
            handle.cancel()
        return execution

    def recover(self) -> list[str]:
        """At start: runs this instance was driving did not survive its stop. Their playbooks may still
        be running, orphaned and unwatched: they are killed, and the record says so."""
        with self.db.session() as session:
            interrupted = store.mark_interrupted(session, self.settings.instance_id)
        for execution_id in interrupted:
            killed = kill_run(execution_id)
            if killed:
                log.warning("killed %d orphaned process(es) of interrupted run %s", killed, execution_id)
        return interrupted

    def wait_all(self, timeout: float = 30.0) -> None:
        for handle in list(self.handles.values()):
            handle.wait(timeout)

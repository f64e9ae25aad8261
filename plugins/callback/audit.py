# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: audit
type: notification
short_description: Record plain ansible-playbook runs in the day2ops audit store
version_added: 0.1.0
description:
  - Records a run started with C(ansible-playbook) in the audit store of the day2ops self-service app,
    in the shape the app records its own runs. One execution (source C(ansible-playbook), the
    playbook, the operator, the extra vars with secrets masked), one event per task result, and per
    host and task the evidence, that is the Prism task ext_ids, the VMs and the recovery points the
    modules reported. Every row is hash-chained, so the app's audit verification covers these runs too.
  - The execution ends V(successful), or V(failed) when a host failed or was unreachable.
  - Runs the app starts (E(DAY2OPS_RUN_ID) is set) are left alone; the app records them itself.
  - Extra vars whose name contains C(password), C(passwd), C(token), C(secret), C(api_key),
    C(private_key), C(access_key), C(webhook) or C(url) are stored as
    C(********), and their values are masked wherever they show in the stored events, as are the
    values of environment variables named like passwords, tokens, secrets, API keys and webhooks.
  - Results of C(no_log) tasks are stored as censored, so they leave no evidence.
  - A database that cannot be reached or written never fails the playbook. The callback warns, with
    the reason, and the run goes on.
  - Enable it with C(callbacks_enabled = day2ops.ahv.audit) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED=day2ops.ahv.audit), and point O(db_url) at the app's database.
author: day2ops team (@day2ops)
requirements:
  - enabled in callbacks_enabled
  - the day2ops app's Python package (C(day2ops_app)) with SQLAlchemy and Alembic, on the controller
options:
  db_url:
    description:
      - The audit store's database, as a SQLAlchemy URL, for example
        V(sqlite:////var/lib/day2ops/audit.db) or V(postgresql://day2ops@db.example.com/day2ops).
      - The schema is brought up to date (Alembic) before the run is recorded.
      - Without it the callback records nothing and says so once.
    type: str
    env:
      - name: DAY2OPS_AUDIT_DB_URL
    ini:
      - section: day2ops_audit
        key: db_url
  operator:
    description:
      - Who ran the playbook, as the audit record names them. Defaults to the operating system user.
    type: str
    env:
      - name: DAY2OPS_OPERATOR
    ini:
      - section: day2ops_audit
        key: operator
"""

import contextlib
import getpass
import json
import os
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit
from uuid import uuid4

from ansible import context
from ansible.plugins.callback import CallbackBase

try:
    from ansible.utils.vars import load_extra_vars
except ImportError:  # pragma: no cover - every supported ansible-core has it
    load_extra_vars = None

# The one import from the collection back into the app, and an optional one: this callback writes to
# the app's audit store (day2ops_app.audit and .db only), and without the app installed it records nothing.
try:
    from day2ops_app.audit import store
    from day2ops_app.audit.redact import Redactor
    from day2ops_app.db.engine import Database
    from day2ops_app.db.migrate import upgrade
    from day2ops_app.db.tables import Execution

    HAS_DAY2OPS_APP = True
    DAY2OPS_APP_IMPORT_ERROR = None
except ImportError as exc:
    HAS_DAY2OPS_APP = False
    DAY2OPS_APP_IMPORT_ERROR = str(exc)

MASK = "********"
# Names, not "key" alone: Category keys (category_key: Department) are no secrets.
SECRET_INPUT = re.compile(
    r"password|passwd|token|secret|api_?key|private_?key|access_?key|webhook|url", re.IGNORECASE
)
SECRET_ENV = re.compile(
    r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_KEY|WEBHOOK|DB_URL|DATABASE_URL", re.IGNORECASE
)
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
STDOUT = {
    "runner_on_ok": "ok",
    "runner_on_failed": "fatal",
    "runner_on_unreachable": "fatal",
    "runner_on_skipped": "skipping",
}


def now_iso():
    return datetime.now(timezone.utc).isoformat()


def mask_inputs(value):
    """The extra vars as stored: a value under a secret-looking name becomes the mask, at any depth."""
    if isinstance(value, dict):
        return dict(
            (k, MASK if SECRET_INPUT.search(str(k)) and v not in (None, "") else mask_inputs(v))
            for k, v in value.items()
        )
    if isinstance(value, list):
        return [mask_inputs(v) for v in value]
    return value


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def secret_values(extra_vars, environ, db_url=None):
    """Every value to mask in the stored events: secret-looking extra vars and environment variables."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if SECRET_INPUT.search(str(key)):
                    found.extend(_strings(item))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(extra_vars)
    found.extend(v for k, v in environ.items() if SECRET_ENV.search(k) and v)
    if db_url:
        found.append(db_url)
        try:
            password = urlsplit(db_url).password
        except ValueError:
            password = None
        if password:
            found.append(password)
    return found


def plain(value):
    """JSON types only: what Ansible hands over may carry its own str/dict subclasses."""
    return json.loads(json.dumps(value, default=str))


def operating_system_user():
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry for the uid, as in some containers
        return os.environ.get("USER") or "unknown"


def _result_parts(result):
    """(host name, task, result dict, task name) across ansible-core versions (2.19 made them public)."""
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    data = getattr(result, "result", None)
    if data is None:
        data = result._result
    name = getattr(result, "task_name", None) or task.get_name()
    return host.get_name(), task, data, name


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "day2ops.ahv.audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self.db = None
        self.execution_id = None
        self.operator = None
        self.redactor = None
        self.counter = 0
        self.task_started = {}
        self.host_started = {}
        self.lost = 0
        self.stored = 0

    # -- helpers --------------------------------------------------------------------------

    def _warn(self, text):
        self._display.warning("day2ops.ahv.audit: %s" % text)

    def _reason(self, exc):
        """One line about a database error, with no secret in it (SQLAlchemy quotes URLs and SQL)."""
        lines = str(exc).strip().splitlines()
        text = "%s: %s" % (type(exc).__name__, lines[0][:300] if lines else "no message")
        return self.redactor.text(text) if self.redactor is not None else text

    def _extra_vars(self, playbook):
        if load_extra_vars is None:
            return {}
        try:
            return plain(load_extra_vars(playbook._loader)) or {}
        except Exception as exc:
            self._warn(
                "could not read the extra vars (%s); the run is recorded without them" % type(exc).__name__
            )
            return {}

    @staticmethod
    def _playbook_paths(playbook):
        paths = list(context.CLIARGS.get("args") or ()) if context.CLIARGS else []
        if not paths:
            paths = [getattr(playbook, "_file_name", None) or "unknown"]
        return " ".join(os.path.abspath(p) for p in paths)[:512]

    # -- the run --------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        if self.execution_id is not None:
            return  # several playbooks on one command line: one execution, named after all of them
        if os.environ.get("DAY2OPS_RUN_ID"):
            self._display.vvv("day2ops.ahv.audit: a run started by the day2ops app; the app records it")
            return
        if not HAS_DAY2OPS_APP:
            self._warn(
                "records nothing: the day2ops app's Python package cannot be imported here (%s); install "
                "day2ops with its dependencies on the controller" % DAY2OPS_APP_IMPORT_ERROR
            )
            return
        db_url = self.get_option("db_url")
        if not db_url:
            self._warn(
                "records nothing: set DAY2OPS_AUDIT_DB_URL (or db_url in the [day2ops_audit] section of "
                "ansible.cfg) to the audit store's database URL"
            )
            return
        self.operator = (self.get_option("operator") or operating_system_user())[:64]
        extra_vars = self._extra_vars(playbook)
        self.redactor = Redactor(secret_values(extra_vars, os.environ, db_url))
        try:
            upgrade(db_url)
            self.db = Database(db_url)
            with self.db.session() as session:
                execution = store.create_execution(
                    session,
                    source="ansible-playbook",
                    playbook=self._playbook_paths(playbook),
                    operator=self.operator,
                    status="running",
                    inputs=mask_inputs(extra_vars),
                )
                self.execution_id = execution.id
        except Exception as exc:
            self._warn("records nothing: the audit store could not record the run (%s)" % self._reason(exc))
            self._close()
            self.execution_id = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.task_started[task._uuid] = now_iso()

    def v2_playbook_on_handler_task_start(self, task):
        self.task_started[task._uuid] = now_iso()

    def v2_runner_on_start(self, host, task):
        self.host_started[(host.get_name(), task._uuid)] = now_iso()

    def v2_runner_on_ok(self, result):
        self._record(result, "runner_on_ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "runner_on_failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "runner_on_unreachable")

    def v2_runner_on_skipped(self, result):
        self._record(result, "runner_on_skipped")

    def event(self, result, name):
        """The task result as an ansible-runner event (the shape the store reads)."""
        host, task, data, task_name = _result_parts(result)
        end = now_iso()
        start = self.host_started.pop((host, task._uuid), None) or self.task_started.get(task._uuid) or end
        res = dict(data or {})
        res.pop("invocation", None)
        if isinstance(res.get("results"), list):
            res["results"] = [
                dict((k, v) for k, v in item.items() if k != "invocation") if isinstance(item, dict) else item
                for item in res["results"]
            ]
        no_log = (
            (isinstance(task.no_log, bool) and task.no_log) or res.get("_ansible_no_log") or "censored" in res
        )
        if no_log:
            res = {"censored": CENSORED}
        elif name == "runner_on_failed":
            res.setdefault("failed", True)  # callbacks get the status from the event, not the result
        elif name == "runner_on_unreachable":
            res.setdefault("unreachable", True)
        status = STDOUT[name]
        if name == "runner_on_ok" and res.get("changed"):
            status = "changed"
        stdout = "%s: [%s]" % (status, host)
        if name in ("runner_on_failed", "runner_on_unreachable"):
            stdout += ": %s!" % ("FAILED" if name == "runner_on_failed" else "UNREACHABLE")
            if not no_log and res.get("msg"):
                stdout += " => %s" % str(res["msg"])[:500]
        self.counter += 1
        return {
            "uuid": str(uuid4()),
            "counter": self.counter,
            "event": name,
            "stdout": stdout,
            "created": end,
            "event_data": {
                "host": host,
                "task": task_name,
                "task_action": task.action,
                "resolved_action": getattr(task, "resolved_action", None) or task.action,
                "res": plain(res),
                "start": start,
                "end": end,
            },
        }

    def _record(self, result, name):
        if self.execution_id is None:
            return
        try:
            event = self.event(result, name)
            with self.db.session() as session:
                self.stored += store.record_events(session, self.execution_id, [event], self.redactor)
        except Exception as exc:
            self.lost += 1
            if self.lost == 1:
                self._warn(
                    "a task result was not recorded (%s); the playbook goes on, and the count of results "
                    "not recorded is reported at the end" % self._reason(exc)
                )

    def v2_playbook_on_stats(self, stats):
        if self.execution_id is None:
            return
        failed = any(stats.failures.values()) or any(stats.dark.values())
        status = "failed" if failed else "successful"
        if self.lost:
            self._warn(
                "%d task result(s) of execution %s are missing from the audit store"
                % (self.lost, self.execution_id)
            )
        try:
            with self.db.session() as session:
                store.transition(
                    session,
                    session.get(Execution, self.execution_id),
                    status,
                    self.operator,
                    "ansible-playbook finished",
                    rc=2 if failed else 0,
                )
        except Exception as exc:
            self._warn(
                "execution %s could not be marked %s (%s)" % (self.execution_id, status, self._reason(exc))
            )
        else:
            self._display.display(
                "day2ops.ahv.audit: recorded as execution %s (%s)" % (self.execution_id, status)
            )
        self._close()

    def _close(self):
        if self.db is not None:
            with contextlib.suppress(Exception):
                self.db.dispose()
            self.db = None

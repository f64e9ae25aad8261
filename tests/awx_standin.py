"""A stand-in for the AWX API v2 endpoints the app's AWX backend uses, as a real HTTP process on loopback.

Shaped after AWX's public API docs: Bearer token auth (401 without it), paged lists (count, next,
previous, results; page and page_size), job and workflow job template lookup by name, survey specs,
launch (survey answers accepted, other variables only with ask_variables_on_launch, the rest listed
in ignored_fields), jobs and their job events (order_by=counter, counter__gt), cancel, workflow job
nodes, workflow approvals (list, approve, deny). A job "runs" by replaying canned ansible-runner
events over its duration. Faults (429/503 with Retry-After) can be injected; every API request is
recorded for the tests under /_standin/requests.

    python tests/awx_standin.py --port N --config standin.json
"""

import argparse
import itertools
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from http_wait import wait_for_http

PENDING_SECONDS = 0.3
FINISHED = ("successful", "failed", "error", "canceled")


@dataclass
class Job:
    id: int
    template: dict
    extra_vars: dict
    launched: float = field(default_factory=time.monotonic)
    canceled_at: float | None = None

    def _elapsed(self) -> float:
        return (self.canceled_at or time.monotonic()) - self.launched

    @property
    def status(self) -> str:
        if self.canceled_at is not None:
            return "canceled"
        elapsed = self._elapsed()
        if elapsed < PENDING_SECONDS:
            return "pending"
        return "running" if elapsed < PENDING_SECONDS + self.template["seconds"] else self.template["status"]

    def released(self) -> list[dict]:
        events = self.template["events"]
        share = (self._elapsed() - PENDING_SECONDS) / max(self.template["seconds"], 0.001)
        return events[: max(0, min(len(events), int(len(events) * share)))]

    def view(self) -> dict:
        status = self.status
        return {
            "id": self.id,
            "type": "job",
            "name": self.template["name"],
            "status": status,
            "failed": status in ("failed", "error"),
            "event_processing_finished": status in FINISHED,
            "extra_vars": json.dumps(self.extra_vars),
        }


@dataclass
class Approval:
    id: int
    name: str
    description: str
    timeout: int
    workflow_job: int
    status: str = "pending"

    def view(self) -> dict:
        return {
            "id": self.id,
            "type": "workflow_approval",
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "timeout": self.timeout,
            "timed_out": False,
            "summary_fields": {"source_workflow_job": {"id": self.workflow_job}},
        }


class Standin:
    def __init__(self, config: dict):
        self.token = config["token"]
        ids = itertools.count(1)
        self.templates = {
            kind: [{"id": next(ids), "name": name, **spec} for name, spec in config.get(kind, {}).items()]
            for kind in ("job_templates", "workflow_job_templates")
        }
        self.unified = itertools.count(100)  # AWX numbers jobs, workflow jobs and approvals together
        self.jobs: dict[int, Job] = {}
        self.workflows: dict[int, dict] = {}
        self.approvals: dict[int, Approval] = {}
        self.requests: list[dict] = []
        self.faults: list[dict] = []
        # AWX's Settings > Jobs, as GET /api/v2/settings/jobs/ shows them to an admin; AWX's default.
        self.job_settings = {"ALLOW_JINJA_IN_EXTRA_VARS": "template"}

    def template(self, kind: str, template_id: int) -> dict | None:
        return next((t for t in self.templates[kind] if t["id"] == template_id), None)

    def accept(self, template: dict, given: dict) -> tuple[dict, dict, list[str]]:
        """AWX's launch rules: survey answers, other variables only if it prompts for them."""
        questions = {q["variable"]: q for q in (template.get("survey_spec") or {}).get("spec", [])}
        takes_all = template.get("ask_variables_on_launch", False)
        accepted = {k: v for k, v in given.items() if k in questions or takes_all}
        ignored = {k: v for k, v in given.items() if k not in accepted}
        missing = [f"'{n}' value missing" for n, q in questions.items() if q["required"] and n not in given]
        return accepted, ignored, missing

    def launch_job(self, template: dict, extra_vars: dict) -> Job:
        job = Job(next(self.unified), template, extra_vars)
        self.jobs[job.id] = job
        return job

    def advance(self, workflow: dict) -> None:
        """Walks the workflow's nodes in order: an approval waits for its decision, a job for its end."""
        while workflow["status"] == "running":
            if workflow["index"] == len(workflow["nodes"]):
                workflow["status"] = "successful"
                return
            node = workflow["nodes"][workflow["index"]]
            if node["job"] is None:
                if "approval" in node["spec"]:
                    spec = node["spec"]
                    approval = Approval(
                        next(self.unified),
                        spec["approval"],
                        spec["description"],
                        spec["timeout"],
                        workflow["id"],
                    )
                    self.approvals[approval.id] = approval
                    node["job"] = approval.id
                else:
                    job_template = next(
                        t
                        for t in self.templates["job_templates"]
                        if t["name"] == node["spec"]["job_template"]
                    )
                    node["job"] = self.launch_job(job_template, workflow["extra_vars"]).id
            unified = self.approvals.get(node["job"]) or self.jobs[node["job"]]
            status = unified.status
            if status in ("pending", "running"):
                return
            if status != "successful":
                workflow["status"] = status
                return
            workflow["index"] += 1

    def node_view(self, workflow: dict, index: int, node: dict) -> dict:
        spawned = self.approvals.get(node["job"]) or self.jobs.get(node["job"])
        summary = {}
        if spawned is not None:
            kind = "workflow_approval" if isinstance(spawned, Approval) else "job"
            name = spawned.name if isinstance(spawned, Approval) else spawned.template["name"]
            summary["job"] = {"id": spawned.id, "name": name, "status": spawned.status, "type": kind}
        return {
            "id": workflow["id"] * 10 + index,
            "type": "workflow_job_node",
            "workflow_job": workflow["id"],
            "job": node["job"],
            "do_not_run": False,
            "summary_fields": summary,
        }


def page(request: Request, rows: list[dict]) -> dict:
    size = min(int(request.query_params.get("page_size", 25)), 200)
    number = int(request.query_params.get("page", 1))
    chunk = rows[(number - 1) * size : number * size]
    more = number * size < len(rows)
    query = {**request.query_params, "page": number + 1}
    return {
        "count": len(rows),
        "next": f"{request.url.path}?{urlencode(query)}" if more else None,
        "previous": None,
        "results": chunk,
    }


def create_app(standin: Standin) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def auth_and_faults(request: Request, call_next):
        if not request.url.path.startswith("/api/v2/"):
            return await call_next(request)
        body = await request.body()
        authorized = request.headers.get("Authorization") == f"Bearer {standin.token}"
        record = {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "body": json.loads(body) if body else None,
            "authorized": authorized,
        }
        standin.requests.append(record)
        if not authorized:
            record["status"] = 401
            return JSONResponse({"detail": "Authentication credentials were not provided."}, 401)
        for fault in standin.faults:
            if (
                fault["count"]
                and request.method == fault["method"]
                and request.url.path.startswith(fault["path"])
            ):
                fault["count"] -= 1
                record["status"] = fault["status"]
                headers = {"Retry-After": str(fault["retry_after"])}
                return JSONResponse({"detail": "Request was throttled."}, fault["status"], headers=headers)
        response = await call_next(request)
        record["status"] = response.status_code
        return response

    for kind in ("job_templates", "workflow_job_templates"):

        async def listing(request: Request, kind=kind):
            name = request.query_params.get("name")
            rows = [
                {k: v for k, v in t.items() if k not in ("events", "survey_spec", "nodes")}
                for t in standin.templates[kind]
                if name is None or t["name"] == name
            ]
            return page(request, rows)

        async def survey(template_id: int, kind=kind):
            template = standin.template(kind, template_id)
            if template is None:
                return JSONResponse({"detail": "Not found."}, 404)
            return template.get("survey_spec") or {}

        async def launch(template_id: int, request: Request, kind=kind):
            template = standin.template(kind, template_id)
            if template is None:
                return JSONResponse({"detail": "Not found."}, 404)
            given = (await request.json()).get("extra_vars") or {}
            accepted, ignored, missing = standin.accept(template, given)
            if missing:
                return JSONResponse({"variables_needed_to_start": missing}, 400)
            if kind == "job_templates":
                job = standin.launch_job(template, accepted)
                return JSONResponse(
                    {**job.view(), "job": job.id, "ignored_fields": {"extra_vars": ignored}}, 201
                )
            workflow = {
                "id": next(standin.unified),
                "status": "running",
                "extra_vars": accepted,
                "index": 0,
                "nodes": [{"spec": spec, "job": None} for spec in template["nodes"]],
            }
            standin.workflows[workflow["id"]] = workflow
            body = {
                "id": workflow["id"],
                "workflow_job": workflow["id"],
                "ignored_fields": {"extra_vars": ignored},
            }
            return JSONResponse(body, 201)

        app.get(f"/api/v2/{kind}/")(listing)
        app.get(f"/api/v2/{kind}/{{template_id}}/survey_spec/")(survey)
        app.post(f"/api/v2/{kind}/{{template_id}}/launch/")(launch)

    @app.get("/api/v2/jobs/{job_id}/")
    async def job(job_id: int):
        found = standin.jobs.get(job_id)
        return found.view() if found else JSONResponse({"detail": "Not found."}, 404)

    @app.get("/api/v2/jobs/{job_id}/job_events/")
    async def job_events(job_id: int, request: Request):
        found = standin.jobs[job_id]
        after = int(request.query_params.get("counter__gt", 0))
        rows = [awx_event(found, e) for e in found.released() if e["counter"] > after]
        return page(request, sorted(rows, key=lambda e: e["counter"]))

    @app.post("/api/v2/jobs/{job_id}/cancel/")
    async def cancel_job(job_id: int):
        found = standin.jobs[job_id]
        if found.status in FINISHED:
            return JSONResponse({"detail": 'Method "POST" not allowed.'}, 405)
        found.canceled_at = time.monotonic()
        return Response(status_code=202)

    @app.get("/api/v2/workflow_jobs/{workflow_id}/")
    async def workflow_job(workflow_id: int):
        workflow = standin.workflows[workflow_id]
        standin.advance(workflow)
        return {"id": workflow_id, "type": "workflow_job", "status": workflow["status"]}

    @app.get("/api/v2/workflow_jobs/{workflow_id}/workflow_nodes/")
    async def workflow_nodes(workflow_id: int, request: Request):
        workflow = standin.workflows[workflow_id]
        standin.advance(workflow)
        nodes = [standin.node_view(workflow, i, n) for i, n in enumerate(workflow["nodes"])]
        return page(request, nodes)

    @app.post("/api/v2/workflow_jobs/{workflow_id}/cancel/")
    async def cancel_workflow(workflow_id: int):
        workflow = standin.workflows[workflow_id]
        if workflow["status"] in FINISHED:
            return JSONResponse({"detail": 'Method "POST" not allowed.'}, 405)
        for node in workflow["nodes"]:
            if node["job"] in standin.jobs and standin.jobs[node["job"]].status not in FINISHED:
                standin.jobs[node["job"]].canceled_at = time.monotonic()
            if node["job"] in standin.approvals and standin.approvals[node["job"]].status == "pending":
                standin.approvals[node["job"]].status = "canceled"
        workflow["status"] = "canceled"
        return Response(status_code=202)

    @app.get("/api/v2/workflow_approvals/")
    async def approvals(request: Request):
        status = request.query_params.get("status")
        ids = request.query_params.get("id__in")
        wanted = {int(i) for i in ids.split(",")} if ids else None
        rows = [
            a.view()
            for a in standin.approvals.values()
            if (status is None or a.status == status) and (wanted is None or a.id in wanted)
        ]
        return page(request, rows)

    for verb, outcome in (("approve", "successful"), ("deny", "failed")):

        async def decide(approval_id: int, outcome=outcome):
            approval = standin.approvals.get(approval_id)
            if approval is None:
                return JSONResponse({"detail": "Not found."}, 404)
            if approval.status != "pending":
                return JSONResponse(
                    {"detail": "This workflow step has already been approved or denied."}, 400
                )
            approval.status = outcome
            return Response(status_code=204)

        app.post(f"/api/v2/workflow_approvals/{{approval_id}}/{verb}/")(decide)

    @app.get("/api/v2/settings/jobs/")
    async def job_settings():
        return standin.job_settings

    @app.patch("/_standin/settings/jobs")
    async def set_job_settings(request: Request):
        standin.job_settings.update(await request.json())
        return Response(status_code=204)

    @app.get("/_standin/requests")
    async def recorded():
        return standin.requests

    @app.post("/_standin/faults")
    async def fault(request: Request):
        standin.faults.append(await request.json())
        return Response(status_code=204)

    return app


def awx_event(job: Job, event: dict) -> dict:
    """An ansible-runner event as AWX stores and lists it."""
    data = event.get("event_data") or {}
    return {
        "id": job.id * 100000 + event["counter"],
        "type": "job_event",
        "url": f"/api/v2/job_events/{job.id * 100000 + event['counter']}/",
        "created": event.get("created"),
        "modified": event.get("created"),
        "job": job.id,
        "event": event["event"],
        "counter": event["counter"],
        "event_display": event["event"],
        "event_data": data,
        "failed": event["event"] in ("runner_on_failed", "runner_on_unreachable"),
        "changed": bool((data.get("res") or {}).get("changed")),
        "uuid": event["uuid"],
        "parent_uuid": event.get("parent_uuid") or "",
        "host_name": data.get("host") or "",
        "playbook": data.get("playbook") or "",
        "play": data.get("play") or "",
        "task": data.get("task") or "",
        "role": data.get("role") or "",
        "stdout": event.get("stdout") or "",
        "start_line": event.get("start_line") or 0,
        "end_line": event.get("end_line") or 0,
        "verbosity": 0,
    }


@dataclass
class StandinProcess:
    """The stand-in started by a test: its URL, what it was asked, and faults to inject."""

    url: str
    process: subprocess.Popen

    @classmethod
    def start(cls, port: int, config: dict, workdir: Path) -> "StandinProcess":
        path = workdir / "awx-standin.json"
        path.write_text(json.dumps(config))
        log = (workdir / "awx-standin.log").open("w")
        process = subprocess.Popen(
            [sys.executable, __file__, "--port", str(port), "--config", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        standin = cls(f"http://127.0.0.1:{port}", process)
        wait_for_http(f"{standin.url}/_standin/requests", process, 30, "the AWX stand-in did not start")
        return standin

    def requests(self) -> list[dict]:
        return requests.get(f"{self.url}/_standin/requests", timeout=10).json()

    def fault(self, method: str, path: str, status: int, count: int, retry_after: int) -> None:
        spec = {"method": method, "path": path, "status": status, "count": count, "retry_after": retry_after}
        requests.post(f"{self.url}/_standin/faults", json=spec, timeout=10).raise_for_status()

    def job_settings(self, **values) -> None:
        requests.patch(f"{self.url}/_standin/settings/jobs", json=values, timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    standin_app = create_app(Standin(json.loads(args.config.read_text())))
    uvicorn.run(standin_app, host="127.0.0.1", port=args.port, log_level="warning")

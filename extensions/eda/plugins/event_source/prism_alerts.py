"""prism_alerts: an ansible-rulebook event source for Prism Central (day2ops.ahv.prism_alerts).

(a) Receives Prism Central alerts posted over HTTP(S) - an X-Play playbook's "REST API" action on an
    alert trigger - and puts one event per alert on the queue:
        {"payload": <the alert>, "meta": {"kind": "alert", "endpoint": <URL path>, "headers": {...}}}
    The body must be a JSON object with the v4 alert's own field names (monitoring.v4.serviceability.Alert):
    `alertType`, `severity` (INFO, WARNING, CRITICAL) and `sourceEntity.extId` are required.
    A bad body gets 400 naming the field, a missing or wrong token or signature 401, and no event.
(b) With `prism_host`, also polls Prism's tasks (GET /api/prism/v4.0/config/tasks) and puts one event
    per task that ended since the source started:
        {"payload": <the task>, "meta": {"kind": "task", "endpoint": <the tasks URL>}}
    It asks Prism through the collection's own client and prism namespace helper
    (plugins/module_utils/_prism.py, _prism_config.py), so its paths, OData, TLS, retries and errors
    are the modules' own.

Arguments (see extensions/eda/README.md): host, port, token, hmac_secret, hmac_algo, hmac_header,
certfile, keyfile; prism_host, prism_port, prism_username, prism_password, prism_api_key,
prism_ca_path, prism_validate_certs, poll_interval, task_statuses, task_operations.
Secrets (token, HMAC secret, Prism credentials, the headers that carry them) never reach an event or a log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import ssl
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

LOG = logging.getLogger(__name__)

SEVERITIES = ("INFO", "WARNING", "CRITICAL")
TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "CANCELED")
# Never forwarded: they carry credentials, and events end up in rule output, logs and job extra_vars.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-ntnx-api-key"})


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    # repr=False: a Settings in a traceback or a debug line shows no secret.
    token: str | None = field(repr=False)
    hmac_secret: bytes | None = field(repr=False)
    hmac_algo: str
    hmac_header: str
    ssl_context: ssl.SSLContext | None
    # The collection's PrismClient; None without prism_host. repr=False: it holds the credentials.
    prism: Any = field(repr=False)
    poll_interval: float
    task_statuses: tuple[str, ...]
    task_operations: tuple[str, ...]


def _int(args: dict, name: str, default: int) -> int:
    value = args.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"prism_alerts: argument '{name}' must be an integer, got {value!r}") from None


def _strings(args: dict, name: str, default: tuple[str, ...], allowed: tuple[str, ...] = ()) -> tuple:
    value = args.get(name) or default
    if isinstance(value, str):
        value = [value]
    values = tuple(str(v) for v in value)
    wrong = [v for v in values if allowed and v not in allowed]
    if wrong:
        raise ValueError(
            f"prism_alerts: argument '{name}' takes {', '.join(allowed)}; got {', '.join(wrong)}"
        )
    return values


def _listener_ssl(args: dict) -> ssl.SSLContext | None:
    if not args.get("certfile"):
        if args.get("keyfile"):
            raise ValueError("prism_alerts: argument 'keyfile' needs 'certfile' too")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args["certfile"], args.get("keyfile"))
    return context


def _collection():
    """The collection's Prism helpers (its module_utils): _http, _prism and _prism_config.

    ansible-rulebook runs this file with runpy from the installed collection,
    <root>/ansible_collections/day2ops/ahv/extensions/eda/plugins/event_source/, with no
    `ansible_collections` on sys.path: <root> goes there, or else the first Ansible collections path
    that holds day2ops.ahv (ANSIBLE_COLLECTIONS_PATH, then Ansible's defaults).
    """
    try:
        from ansible_collections.day2ops.ahv.plugins.module_utils import _http, _prism, _prism_config
    except ImportError:
        here = Path(os.path.abspath(__file__))  # abspath, not resolve: an installed symlink is kept
        roots = [str(here.parents[7])] if here.parents[6].name == "ansible_collections" else []
        configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
        roots += (configured or "~/.ansible/collections:/usr/share/ansible/collections").split(os.pathsep)
        held = (
            r for r in map(os.path.expanduser, roots) if Path(r, "ansible_collections/day2ops/ahv").is_dir()
        )
        root = next(held, None)
        if root is None:
            raise ImportError(
                "prism_alerts: polling Prism needs the day2ops.ahv collection: install it "
                "(ansible-galaxy collection install) or set ANSIBLE_COLLECTIONS_PATH to where it is"
            ) from None
        sys.path.insert(0, root)
        from ansible_collections.day2ops.ahv.plugins.module_utils import _http, _prism, _prism_config
    return _http, _prism, _prism_config


def _prism(args: dict):
    """The collection's PrismClient for the prism_* arguments; None without prism_host."""
    host = args.get("prism_host")
    if not host:
        return None
    if not args.get("prism_api_key") and not (args.get("prism_username") and args.get("prism_password")):
        raise ValueError(
            "prism_alerts: 'prism_host' needs credentials: set 'prism_username' and 'prism_password', "
            "or 'prism_api_key'"
        )
    _http, prism, _prism_config = _collection()
    options = {
        "nutanix_host": str(host),
        "nutanix_port": _int(args, "prism_port", 9440),
        "nutanix_username": args.get("prism_username"),
        "nutanix_password": args.get("prism_password"),
        "nutanix_api_key": args.get("prism_api_key"),
        "ca_path": args.get("prism_ca_path"),
        "validate_certs": args.get("prism_validate_certs", True),
        # A poll that fails is tried again at the next interval: no long backoff inside one.
        "max_retries": 2,
    }
    try:
        return prism.PrismClient.from_options({k: v for k, v in options.items() if v is not None})
    except _http.ApiError as err:
        raise ValueError(f"prism_alerts: {err}") from None


def parse_args(args: dict[str, Any]) -> Settings:
    """The source's arguments, checked; a wrong one raises ValueError naming it and the fix."""
    algo = str(args.get("hmac_algo") or "sha256").lower()
    if algo not in hashlib.algorithms_guaranteed:
        raise ValueError(f"prism_alerts: argument 'hmac_algo' {algo!r} is not a hash hashlib knows")
    interval = args.get("poll_interval", 30)
    try:
        interval = float(interval) if not isinstance(interval, bool) else 0.0
    except (TypeError, ValueError):
        interval = 0.0
    if interval <= 0:
        raise ValueError("prism_alerts: argument 'poll_interval' must be a number of seconds above 0")
    secret = args.get("hmac_secret")
    return Settings(
        host=str(args.get("host") or "127.0.0.1"),
        port=_int(args, "port", 5000),
        token=str(args["token"]) if args.get("token") else None,
        hmac_secret=str(secret).encode() if secret else None,
        hmac_algo=algo,
        hmac_header=str(args.get("hmac_header") or "X-Hub-Signature-256"),
        ssl_context=_listener_ssl(args),
        prism=_prism(args),
        poll_interval=interval,
        task_statuses=_strings(args, "task_statuses", ("FAILED", "SUCCEEDED"), TERMINAL_STATUSES),
        task_operations=_strings(args, "task_operations", ()),
    )


# -- (a) alerts over HTTP -----------------------------------------------------------------------------

SETTINGS = web.AppKey("settings", Settings)
QUEUE = web.AppKey("queue", asyncio.Queue)


def _authorized(settings: Settings, headers, body: bytes) -> bool:
    if settings.token is not None:
        scheme, _space, given = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), settings.token.encode()):
            return False
    if settings.hmac_secret is not None:
        # GitHub's form "sha256=<hex>" and the bare hex digest are both accepted.
        given = headers.get(settings.hmac_header, "").rpartition("=")[2].strip().lower()
        expected = hmac.new(settings.hmac_secret, body, settings.hmac_algo).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return False
    return True


def alert_problem(payload: Any) -> str | None:
    """What is wrong with a posted alert, in the sender's words; None when it is usable."""
    if not isinstance(payload, dict):
        return f"the body must be a JSON object (a Prism alert), not a JSON {type(payload).__name__}"
    if not isinstance(payload.get("alertType"), str) or not payload["alertType"]:
        return "field 'alertType' is required: the alert's type as Prism names it, a non-empty string"
    if payload.get("severity") not in SEVERITIES:
        return f"field 'severity' must be one of {', '.join(SEVERITIES)}, got {payload.get('severity')!r}"
    source = payload.get("sourceEntity")
    if not isinstance(source, dict) or not isinstance(source.get("extId"), str) or not source["extId"]:
        return "field 'sourceEntity.extId' is required: the ext_id of the entity the alert is about"
    return None


async def _receive(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await request.read()
    if not _authorized(settings, request.headers, body):
        return web.json_response({"error": "missing or wrong token or signature"}, status=401)
    try:
        payload = json.loads(body)
    except ValueError as err:
        return web.json_response({"error": f"the body is not JSON: {err}"}, status=400)
    problem = alert_problem(payload)
    if problem:
        return web.json_response({"error": problem}, status=400)
    secret = SECRET_HEADERS | {settings.hmac_header.lower()}
    headers = {k: v for k, v in request.headers.items() if k.lower() not in secret}
    endpoint = request.match_info["endpoint"]
    await request.app[QUEUE].put(
        {"payload": payload, "meta": {"kind": "alert", "endpoint": endpoint, "headers": headers}}
    )
    return web.json_response({"queued": endpoint}, status=202)


# -- (b) tasks that ended -----------------------------------------------------------------------------


def _completed(task: dict) -> datetime:
    return datetime.fromisoformat(task["completedTime"].replace("Z", "+00:00"))


class TaskPoller:
    """Lists ended tasks by completedTime, so a task that started before the source and ends after
    it is still reported, and remembers the ids at the newest completedTime so none repeats."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.watermark: str | None = None
        self.seen_at_watermark: set[str] = set()
        _http, _prism, self.prism_config = _collection()
        self.endpoint = self.prism_config.tasks_url(settings.prism)

    async def _list(self, newest_first: bool, limit: int | None) -> list[dict]:
        """The ended tasks since the watermark, in a thread: the collection's client blocks."""
        s = self.settings
        return await asyncio.to_thread(
            self.prism_config.ended_tasks,
            s.prism,
            s.task_statuses,
            s.task_operations,
            self.watermark,
            newest_first,
            limit,
        )

    def _advance(self, tasks: list[dict]) -> list[dict]:
        """The tasks not reported yet; moves the watermark to the newest completedTime."""
        new = [t for t in tasks if t.get("completedTime") and t["extId"] not in self.seen_at_watermark]
        if new:
            newest = max(new, key=_completed)["completedTime"]
            if newest != self.watermark:
                self.watermark, self.seen_at_watermark = newest, set()
            self.seen_at_watermark |= {t["extId"] for t in new if t["completedTime"] == newest}
        return new

    async def start(self) -> None:
        """Tasks that ended before the source started are history, not events."""
        self._advance(await self._list(newest_first=True, limit=1))
        if self.watermark:
            self._advance(await self._list(newest_first=False, limit=None))

    async def poll(self) -> list[dict]:
        return self._advance(await self._list(newest_first=False, limit=None))


async def _poll_tasks(settings: Settings, queue: asyncio.Queue) -> None:
    poller = TaskPoller(settings)
    api_error = _collection()[0].ApiError
    started = False
    while True:
        try:
            if not started:
                await poller.start()
                started = True
            else:
                for task in await poller.poll():
                    await queue.put({"payload": task, "meta": {"kind": "task", "endpoint": poller.endpoint}})
        except api_error as err:
            if err.status in (401, 403):
                raise PermissionError(
                    f"prism_alerts: Prism Central refused the credentials ({err.status}) for "
                    f"{poller.endpoint}: check prism_username and prism_password, or prism_api_key"
                ) from None
            # Prism being away for a while is normal (upgrades, failover): keep the watermark and retry.
            LOG.warning("prism_alerts: %s; retrying at the next poll", err)
        await asyncio.sleep(settings.poll_interval)


async def main(queue: asyncio.Queue, args: dict[str, Any]) -> None:
    """The ansible-rulebook event source entry point."""
    settings = parse_args(args)
    app = web.Application()
    app[SETTINGS] = settings
    app[QUEUE] = queue
    app.router.add_post("/{endpoint:.*}", _receive)
    # No access log: it would print every sender's address and path into the rulebook's output.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port, ssl_context=settings.ssl_context).start()
        if settings.prism is not None:
            await _poll_tasks(settings, queue)
        else:
            await asyncio.Future()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    # python prism_alerts.py: print the events of a listener on 127.0.0.1:5000, for trying a sender by hand.
    class _PrintQueue(asyncio.Queue):
        async def put(self, item):
            print(json.dumps(item))

    asyncio.run(main(_PrintQueue(), {}))

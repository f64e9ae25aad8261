"""Every /api/ request passes here: auth, version, operation lookup, injected trouble, request-id
replay, body parsing, the handler, and the error shapes. Handlers never see HTTP."""

import json
import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import Response

from . import conformance, operations
from .conformance import OperationSpec, VersionSpec
from .core import envelope
from .core.errors import ApiError, bad_request, schema_error, unauthorized, version_not_served
from .core.faults import Fault, inject
from .core.replay import Recorded
from .operations import Operation
from .routes import clustermgmt, dataprotection, prism, templates, vmm  # noqa: F401  (registers the handlers)
from .routes.common import HANDLERS, Call, Handler, Reply
from .routes.rest import is_user
from .state import SimState

log = logging.getLogger("day2ops_sim")
MUTATING = ("POST", "PUT", "DELETE", "PATCH")
SESSION_COOKIE = "NTNX_IAM_SESSION"


_NO_DATA = '{"data":null'


def _json(body: dict | None) -> bytes:
    if body is None:
        return b""
    data = body.get("data")
    if not (isinstance(data, list) and data and isinstance(data[0], envelope.Fragment)):
        return json.dumps(body, separators=(",", ":")).encode()
    # A list page of pre-rendered items: `data` leads the body (envelope.body), so they go in first.
    rest = json.dumps({**body, "data": None}, separators=(",", ":"))
    return ('{"data":[' + ",".join(data) + "]" + rest.removeprefix(_NO_DATA)).encode()


@dataclass
class Exchange:
    """One /api/ request on its way through the steps, and what they have learnt about it."""

    request: Request
    segments: list[str]
    # The new session's cookie, sent with every answer once the operation is known.
    cookie: str | None = None
    operation: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    # The call's version; errors before the operation is known say v4.0.
    version: str = "v4.0"
    version_spec: VersionSpec | None = None
    op_spec: OperationSpec | None = None

    @classmethod
    def of(cls, request: Request) -> "Exchange":
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        # Decode each segment on its own: a task id travels as ZXJnb24%3D%3A<uuid>.
        return cls(request, [unquote(s) for s in raw_path.split("?", 1)[0].strip("/").split("/")])

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)

    @property
    def namespace(self) -> str:
        return self.segments[1] if len(self.segments) > 1 else ""

    @property
    def path_version(self) -> str:
        return self.segments[2] if len(self.segments) > 2 else ""

    @property
    def response_type(self) -> str:
        return self.operation.response_type if self.operation else f"{self.namespace}.v4.error.ErrorResponse"

    @property
    def request_id(self) -> str | None:
        return self.request.headers.get("ntnx-request-id") if self.method in MUTATING else None

    def record(self, state: SimState, refused: list) -> None:
        """The call in the conformance log, with the fields it was refused for."""
        client = conformance.client_of(self.request.headers.get("user-agent", ""))
        state.conformance.record(client, self.namespace, self.version, self.operation.name, refused)


class Dispatcher:
    def __init__(self, state: SimState) -> None:
        self.state = state

    async def __call__(self, request: Request) -> Response:
        self.state.tasks.tick()
        x = Exchange.of(request)
        # Each step answers the request (a refusal, the version probe) or lets it go on.
        for step in (self._authenticate, self._answer_version_probe, self._find_operation):
            answer = step(x)
            if answer is not None:
                return answer
        return await inject(
            self.state.faults,
            x.method,
            x.path,
            x.operation.name,
            lambda: self._run(x),
            lambda f: self._fault(x, f),
        )

    def _authenticate(self, x: Exchange) -> Response | None:
        """Basic, API key, or our session cookie; a caller without the cookie gets a new session."""
        if not self._known(x.request):
            return self._error(x, unauthorized(), None)
        if x.request.cookies.get(SESSION_COOKIE) not in self.state.sessions:
            x.cookie = self.state.new_session()
        return None

    def _known(self, request: Request) -> bool:
        creds = self.state.credentials
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and cookie in self.state.sessions:
            return True
        api_key = request.headers.get("x-ntnx-api-key")
        if api_key is not None:
            return any(secrets.compare_digest(api_key, key) for key in creds.api_keys)
        return is_user(creds, request.headers.get("authorization", ""))

    def _answer_version_probe(self, x: Exchange) -> Response | None:
        """SDK >= 4.2 asks this before its first call and rewrites its paths down to what we serve."""
        served = self.state.served_versions(x.namespace)
        if x.method == "OPTIONS" and x.segments[2:] == ["unversioned", "info"] and served:
            return self._send(Reply(200, {"data": served[-1]}), x.cookie)
        return None

    def _find_operation(self, x: Exchange) -> Response | None:
        """The SDK operation of the path at that version segment; none there is the gateway's 404."""
        served = x.path_version in self.state.served_versions(x.namespace)
        found = operations.find(x.method, x.namespace, x.segments) if served else None
        version_spec = conformance.spec(x.namespace, x.path_version) if found else None
        op_spec = version_spec.operation(x.method, found[0].template) if version_spec else None
        if found is None or (op_spec is None and (x.namespace, found[0].name) in HANDLERS):
            return self._error(x, version_not_served(), None)
        x.operation, x.params = found
        x.version = x.params.pop("version")
        x.version_spec, x.op_spec = version_spec, op_spec
        return None

    async def _run(self, x: Exchange) -> tuple[Response, bool]:
        """The call itself, and whether it took effect: a replayed or refused one did not."""
        self.state.tasks.tick()  # the injected latency may have let time pass
        replayed = self._replayed(x)
        if replayed is not None:
            return replayed, False
        try:
            result = self._handler(x)(await self._call(x))
        except ApiError as err:
            # A SchemaValidationError means the request itself was malformed: a conformance failure.
            x.record(self.state, err.field_errors if err.status == 400 else [])
            return self._error(x, err, x.cookie), False
        except Exception:
            log.exception("handler %s failed", x.operation.name)
            err = ApiError(
                500, f"Internal simulator error in {x.operation.name}; see the simulator log.", "SIM-50000"
            )
            return self._error(x, err, x.cookie), False
        return self._send(self._accepted(x, result), x.cookie), True

    def _replayed(self, x: Exchange) -> Response | None:
        """The recorded answer to a mutating call whose NTNX-Request-Id was seen before."""
        recorded = self.state.replay.get(x.request_id) if x.request_id else None
        if recorded is None:
            return None
        return Response(
            recorded.body or None,
            recorded.status,
            dict(recorded.headers),
            media_type="application/json" if recorded.body else None,
        )

    def _handler(self, x: Exchange) -> Handler:
        op = x.operation
        handler = HANDLERS.get((x.namespace, op.name))
        if handler is None:
            raise ApiError(
                501,
                f"The simulator does not implement {op.method} {op.template} (SDK operation "
                f"'{op.name}'). See GET /_sim/coverage for what is served.",
                "SIM-50100",
            )
        return handler

    async def _call(self, x: Exchange) -> Call:
        """The request as a handler sees it, once it conforms to the SDK release of its version."""
        request = x.request
        query = dict(request.query_params)
        body = await self._body(request, x.namespace)
        problems = x.version_spec.check_request(x.op_spec, query, body)
        if problems:
            raise schema_error(x.namespace, problems)
        if "$apply" in query:
            raise ApiError(501, "The simulator does not implement $apply aggregation.", "SIM-50101")
        return Call(
            state=self.state,
            namespace=x.namespace,
            version=x.version,
            operation=x.operation.name,
            response_type=x.operation.response_type,
            method=x.method,
            path=x.path,
            base_url=str(request.base_url).rstrip("/"),
            url=str(request.url),
            params=x.params,
            query=query,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            spec=x.op_spec,
        )

    async def _body(self, request: Request, namespace: str):
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise bad_request(namespace, f"Malformed JSON in request body: {err}.", "", "body") from err

    def _accepted(self, x: Exchange, result: Reply) -> Reply:
        """A handled call: logged as conforming, shaped to its version's models, kept for replay."""
        x.record(self.state, [])
        if result.body is not None:
            result.body = x.version_spec.shape(result.body, x.op_spec.response_type)
        if x.request_id and 200 <= result.status < 300:
            self.state.replay.put(
                x.request_id, Recorded(result.status, _json(result.body), tuple(result.headers.items()))
            )
        return result

    def _fault(self, x: Exchange, fault: Fault) -> Response:
        err = ApiError(
            fault.status, fault.message, f"{x.namespace.upper()}-{fault.status}", headers=fault.headers
        )
        return self._error(x, err, x.cookie)

    def _send(self, result: Reply, new_cookie: str | None) -> Response:
        response = Response(
            _json(result.body) or None,
            result.status,
            dict(result.headers),
            media_type="application/json" if result.body is not None else None,
        )
        if new_cookie:
            response.set_cookie(SESSION_COOKIE, new_cookie, httponly=True, secure=True, samesite="strict")
        return response

    def _error(self, x: Exchange, err: ApiError, new_cookie: str | None) -> Response:
        """`err` in the v4 error envelope; the gateway's own refusals carry no session cookie."""
        body = envelope.error_body(
            err,
            x.namespace or "prism",
            x.version,
            x.response_type,
            str(x.request.url),
            x.path,
            self.state.clock.iso(),
        )
        return self._send(Reply(err.status, body, dict(err.headers)), new_cookie)

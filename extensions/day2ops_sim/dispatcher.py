"""Every /api/ request passes here: auth, version, operation lookup, injected trouble, request-id
replay, body parsing, the handler, and the error shapes. Handlers never see HTTP."""

import asyncio
import base64
import binascii
import json
import logging
import secrets
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import Response

from . import conformance, operations
from .core import envelope
from .core.errors import ApiError, bad_request, schema_error, unauthorized, version_not_served
from .core.replay import Recorded
from .routes import clustermgmt, dataprotection, prism, templates, vmm  # noqa: F401  (registers the handlers)
from .routes.common import HANDLERS, Call, Reply
from .state import SimState

log = logging.getLogger("day2ops_sim")
MUTATING = ("POST", "PUT", "DELETE", "PATCH")
SESSION_COOKIE = "NTNX_IAM_SESSION"


def _json(body: dict | None) -> bytes:
    return b"" if body is None else json.dumps(body, separators=(",", ":")).encode()


class Dispatcher:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def _authenticate(self, request: Request) -> bool:
        """True when the caller is known; sets nothing. Basic, API key, or our session cookie."""
        creds = self.state.credentials
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and cookie in self.state.sessions:
            return True
        api_key = request.headers.get("x-ntnx-api-key")
        if api_key is not None:
            return any(secrets.compare_digest(api_key, key) for key in creds.api_keys)
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return secrets.compare_digest(user, creds.username) and secrets.compare_digest(
                password, creds.password
            )
        return False

    async def __call__(self, request: Request) -> Response:
        state = self.state
        state.tasks.tick()
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1").split("?", 1)[0]
        # Decode each segment on its own: a task id travels as ZXJnb24%3D%3A<uuid>.
        segments = [unquote(s) for s in raw_path.strip("/").split("/")]
        path = "/" + "/".join(segments)
        method = request.method
        namespace = segments[1] if len(segments) > 1 else ""
        version = segments[2] if len(segments) > 2 else ""
        fallback_type = f"{namespace}.v4.error.ErrorResponse"

        if not self._authenticate(request):
            return self._error(unauthorized(), namespace, "v4.0", fallback_type, request, path)
        new_cookie = None if request.cookies.get(SESSION_COOKIE) in state.sessions else state.new_session()

        if (
            method == "OPTIONS"
            and segments[2:] == ["unversioned", "info"]
            and state.served_versions(namespace)
        ):
            # SDK >= 4.2 asks this before its first call and rewrites its paths down to what we serve.
            served = state.served_versions(namespace)[-1]
            return self._send(Reply(200, {"data": served}), new_cookie)

        served = state.served_versions(namespace)
        found = operations.find(method, namespace, segments) if version in served else None
        version_spec = conformance.spec(namespace, version) if found else None
        op_spec = version_spec.operation(method, found[0].template) if version_spec else None
        if found is None or (op_spec is None and (namespace, found[0].name) in HANDLERS):
            # No such operation in the SDK release of that segment: the gateway's 404, as for a version.
            return self._error(version_not_served(), namespace, "v4.0", fallback_type, request, path)
        op, params = found
        call_version = params.pop("version")
        client = conformance.client_of(request.headers.get("user-agent", ""))

        delay = state.faults.latency(method, path, op.name)
        if delay:
            await asyncio.sleep(delay)
            state.tasks.tick()
        fault = state.faults.take_fault(method, path, op.name)
        fault_error = None
        if fault is not None:
            fault_error = ApiError(fault.status, fault.message, f"{namespace.upper()}-{fault.status}")
            if fault.retry_after is not None:
                fault_error.headers["Retry-After"] = f"{fault.retry_after:g}"
            if not fault.after_handler:
                return self._error(
                    fault_error, namespace, call_version, op.response_type, request, path, new_cookie
                )

        handler = HANDLERS.get((namespace, op.name))
        request_id = request.headers.get("ntnx-request-id") if method in MUTATING else None
        if request_id:
            recorded = state.replay.get(request_id)
            if recorded is not None:
                return Response(
                    recorded.body or None,
                    recorded.status,
                    dict(recorded.headers),
                    media_type="application/json" if recorded.body else None,
                )

        try:
            if handler is None:
                raise ApiError(
                    501,
                    f"The simulator does not implement {op.method} {op.template} (SDK operation "
                    f"'{op.name}'). See GET /_sim/coverage for what is served.",
                    "SIM-50100",
                )
            query = dict(request.query_params)
            body = await self._body(request, namespace)
            problems = version_spec.check_request(op_spec, query, body)
            if problems:
                raise schema_error(namespace, problems)
            if "$apply" in query:
                raise ApiError(501, "The simulator does not implement $apply aggregation.", "SIM-50101")
            call = Call(
                state=state,
                namespace=namespace,
                version=call_version,
                operation=op.name,
                response_type=op.response_type,
                method=method,
                path=path,
                base_url=str(request.base_url).rstrip("/"),
                url=str(request.url),
                params=params,
                query=query,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                spec=op_spec,
            )
            result = handler(call)
        except ApiError as err:
            # A SchemaValidationError means the request itself was malformed: a conformance failure.
            refused = err.field_errors if err.status == 400 else []
            state.conformance.record(client, namespace, call_version, op.name, refused)
            return self._error(err, namespace, call_version, op.response_type, request, path, new_cookie)
        except Exception:
            log.exception("handler %s failed", op.name)
            err = ApiError(500, f"Internal simulator error in {op.name}; see the simulator log.", "SIM-50000")
            return self._error(err, namespace, call_version, op.response_type, request, path, new_cookie)

        state.conformance.record(client, namespace, call_version, op.name, [])
        if result.body is not None:
            result.body = version_spec.shape(result.body, op_spec.response_type)
        if request_id and 200 <= result.status < 300:
            state.replay.put(
                request_id, Recorded(result.status, _json(result.body), tuple(result.headers.items()))
            )
        if fault_error is not None:
            # The call took effect but its answer is "lost": only request-id replay saves a retry.
            return self._error(
                fault_error, namespace, call_version, op.response_type, request, path, new_cookie
            )
        return self._send(result, new_cookie)

    async def _body(self, request: Request, namespace: str):
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise bad_request(namespace, f"Malformed JSON in request body: {err}.", "", "body") from err

    def _send(self, result: Reply, new_cookie: str | None) -> Response:
        headers = dict(result.headers)
        response = Response(
            _json(result.body) or None,
            result.status,
            headers,
            media_type="application/json" if result.body is not None else None,
        )
        if new_cookie:
            response.set_cookie(SESSION_COOKIE, new_cookie, httponly=True, secure=True, samesite="strict")
        return response

    def _error(
        self,
        err: ApiError,
        namespace: str,
        version: str,
        response_type: str,
        request: Request,
        path: str,
        new_cookie: str | None = None,
    ) -> Response:
        body = envelope.error_body(
            err, namespace or "prism", version, response_type, str(request.url), path, self.state.clock.iso()
        )
        return self._send(Reply(err.status, body, dict(err.headers)), new_cookie)

# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The HTTP transport under every day2ops client (Prism v4, Move v2, vCenter, ServiceNow, Google,
the app, AWX): session, auth, TLS, timeouts, and retries with backoff that honour Retry-After. It
assumes no server: each caller gives the URL, an auth object and the options its hints name.
Prism replays a repeated request id, so a retried POST is never doubled there; the other servers
keep no such record, so a mutation that may have reached them is resent only after reading back
that it did not act (`send_mutation`).
"""

from __future__ import annotations

import base64
import email.utils
import random
import re
import threading
import time
import traceback
import uuid

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

# The statuses the official ntnx_*_py_client SDKs retry, every method included (408, 429, 503, 504 in
# their rest.py), and 502 from a gateway in between. A retried mutation resends its request id.
RETRY_STATUSES = frozenset((408, 429, 502, 503, 504))
# After these a mutation may have acted: a gateway stopped waiting for the server, or the server
# failed midway. 408 and 429 are refusals before any work, and stay safe to resend anywhere.
UNSURE_STATUSES = frozenset((502, 503, 504))
REQUEST_ID_HEADER = "NTNX-Request-Id"
USER_AGENT = "day2ops.ahv/0.1.0"


class ApiError(Exception):
    """The one error every client raises; modules render it as it is, once.

    str(error) reads "Failed to <action>: <status> <code>: <message> [request id <id>]. <hint>",
    with only the parts that are known.
    """

    def __init__(self, action, message, status=None, code=None, request_id=None, hint=None):
        super().__init__(message)
        self.action = action
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.hint = hint

    def __str__(self):
        head = " ".join(str(part) for part in (self.status, self.code) if part)
        text = "Failed to %s: %s%s" % (
            self.action,
            head + ": " if head else "",
            str(self.message).rstrip(". "),
        )
        if self.request_id:
            text += " [request id %s]" % self.request_id
        if self.hint:
            text += ". " + self.hint
        return text

    def result(self):
        """The fields a module returns beside `msg`, for machines."""
        return {
            "status": self.status,
            "error_code": self.code,
            "request_id": self.request_id,
        }


class TlsError(ApiError):
    """The server's certificate could not be verified: a setup problem, not a failing call."""


class UnsureError(ApiError):
    """A mutation was sent and no answer came back: it may or may not have acted."""


def error_from(action, response, message=None, code=None, hints=None):
    """The ApiError for an answer >= 300: the API's own message when the caller found one, else the body."""
    return ApiError(
        action,
        message or (response.text or response.reason or "no body")[:300],
        response.status_code,
        code,
        hint=(hints or {}).get(response.status_code),
    )


class Auth:
    """Calls without credentials (an OAuth token endpoint), and what every auth object answers.

    headers(transport) gives the headers one call carries; renew() is asked after a 401 and says
    whether sending the call once more may succeed.
    """

    def headers(self, transport):
        return {}

    def renew(self):
        return False


class BasicAuth(Auth):
    """A user name and password on every call (Prism's local accounts, ServiceNow)."""

    def __init__(self, username, password):
        # Latin-1, as requests encodes a user and password given as text: the bytes servers saw so far.
        pair = ("%s:%s" % (username, password or "")).encode("latin-1")
        self._headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def headers(self, transport):
        return self._headers


class HeaderKeyAuth(Auth):
    """A key sent as it is in a header of its own (Prism's X-ntnx-api-key)."""

    def __init__(self, header, key):
        self._headers = {header: key}

    def headers(self, transport):
        return self._headers


class BearerAuth(HeaderKeyAuth):
    """A token given once that lasts the whole use (the app's run token, AWX's, a Google access token)."""

    def __init__(self, token):
        super().__init__("Authorization", "Bearer " + token)


class LoginTokenAuth(Auth):
    """Calls under a token that a login call returns (vCenter's session, Move's JWT), in `header`
    after `scheme`. `login(transport)` sends that call with authenticate=False and returns the token.

    The token is fetched on first use and once more when the server answers 401, because it
    expired: Move's after about 15 minutes, in the middle of a long poll; vCenter's when idle.
    """

    def __init__(self, login, header, scheme=""):
        self._login = login
        self.header = header
        self.scheme = scheme
        self._token = None
        self.logins = 0

    def headers(self, transport):
        if self._token is None:
            self._token = self._login(transport)
            self.logins += 1
        return {self.header: self.scheme + self._token}

    def renew(self):
        self._token = None
        return True


def connection_options(options):
    """The Transport keywords for the TLS and timeout options, which every doc fragment spells alike."""
    return dict(
        validate_certs=options.get("validate_certs", True),
        ca_path=options.get("ca_path"),
        timeout=options.get("request_timeout") or 30.0,
    )


def retry_after_seconds(value, now=None):
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt, base=0.5, cap=8.0):
    """Exponential backoff with equal jitter: never zero, never in lockstep with other clients."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class _Call:
    """One request as the retry loop sends it, again and again."""

    def __init__(self, method, url, action, careful, retry_statuses, **kwargs):
        self.method = method
        self.url = url
        self.action = action
        # A mutation that a server without request-id replay may have acted on: never resent blind.
        self.careful = careful
        self.retry_statuses = retry_statuses - UNSURE_STATUSES if careful else retry_statuses
        self.kwargs = kwargs
        self.request_id = kwargs["headers"].get(REQUEST_ID_HEADER)


class Transport:
    """One requests session to one server, shared by the threads that page and poll concurrently.

    `auth` is one of the auth objects above; `hint_options` are the caller's names for the server's
    address (its module options, or settings), which the hints of a call that reached nothing cite.
    """

    @classmethod
    def from_options(cls, options, prefix, default_port, auth, **kwargs):
        """The transport that `<prefix>_host`/`<prefix>_port` and the shared TLS and timeout options name
        (the doc fragments of Prism, vCenter and Move spell them alike)."""
        host = options[prefix + "_host"]
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host  # an IPv6 literal
        return cls(
            "https://%s:%s" % (host, options.get(prefix + "_port") or default_port),
            auth,
            (prefix + "_host", prefix + "_port"),
            **connection_options(options),
            **kwargs,
        )

    def __init__(
        self,
        base_url,
        auth,
        hint_options,
        validate_certs=True,
        ca_path=None,
        timeout=30.0,
        max_retries=5,
        retry_max_seconds=120.0,
        pool_size=8,
        replays_request_id=False,
    ):
        if requests is None:
            raise ApiError(
                "load the Python library 'requests'",
                "it is not installed for the Python that runs this module",
                hint="install it (pip install requests) on the host that runs the module",
            )
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.hint_options = " and ".join(hint_options)
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        # Whether the server answers a repeated NTNX-Request-Id with the first call's result (Prism).
        self.replays_request_id = replays_request_id
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        # Passed on every request: a session-wide value loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify = (ca_path or True) if validate_certs else False
        if not validate_certs:
            requests.packages.urllib3.disable_warnings(
                requests.packages.urllib3.exceptions.InsecureRequestWarning
            )
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "retries": 0}

    def _count(self, key):
        with self._lock:
            self.stats[key] += 1

    def request(
        self,
        method,
        path,
        action,
        params=None,
        body=None,
        headers=None,
        request_id=None,
        form=None,
        retry_statuses=RETRY_STATUSES,
        safe=False,
        authenticate=True,
    ):
        """Send one call, retrying what is worth retrying; return the final requests.Response.

        A status the server answered with (even an error) is returned for the client to read;
        only a server that could not be reached at all raises here. `retry_statuses` narrows the
        statuses retried for a call where one of them is an answer, not a passing state.

        A POST, PUT or DELETE to a server that does not replay request ids is resent only when it
        surely did not act (refused with 408 or 429, or no connection made), unless the caller says
        it is `safe` to repeat (a read by POST, an idempotent call). Otherwise an unsure status is
        returned, and a lost answer raises UnsureError, for the caller to read back what happened.

        The call carries the transport's credentials unless `authenticate` is False (a login call);
        a 401 is sent once more when the auth renewed them (a login token that expired).
        """
        headers = dict(headers or {})
        if method != "GET":
            headers[REQUEST_ID_HEADER] = request_id or str(uuid.uuid4())
        call = _Call(
            method,
            self.base_url + path,
            action,
            method != "GET" and not (safe or self.replays_request_id),
            retry_statuses,
            params=params,
            json=body,
            data=form,
            headers=headers,
        )
        auth = self.auth if authenticate else Auth()
        response = self._send(call, auth)
        if response.status_code == 401 and auth.renew():
            response = self._send(call, auth)
        return response

    def call(self, method, path, action, took_effect=None, **kwargs):
        """(response, effect): request(), or for a mutation with a read-back `took_effect`, the
        result of send_mutation (for servers that replay no request ids)."""
        if took_effect is None:
            return self.request(method, path, action, **kwargs), None
        return send_mutation(
            lambda: self.request(method, path, action, **kwargs), took_effect, self.max_retries + 1
        )

    def _send(self, call, auth):
        """`call` under the auth's current credentials, sent again while its answer is worth retrying."""
        headers = dict(call.kwargs["headers"], **auth.headers(self))
        deadline = time.monotonic() + self.retry_max_seconds
        attempt = 0
        while True:
            attempt += 1
            response, failure = self._attempt(call, headers)
            wait = None
            if response is not None:
                if response.status_code not in call.retry_statuses:
                    return response
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            delay = backoff_seconds(attempt) if wait is None else wait
            if attempt > self.max_retries or time.monotonic() + delay > deadline:
                return self._last(call, response, failure, attempt)
            self._count("retries")
            time.sleep(delay)

    def _attempt(self, call, headers):
        """One try: (response, None), or (None, the exception) when no connection worth retrying was made."""
        self._count("requests")
        kwargs = dict(call.kwargs, headers=headers)
        try:
            return self.session.request(
                call.method, call.url, timeout=self.timeout, verify=self.verify, **kwargs
            ), None
        except requests.exceptions.SSLError as exc:
            raise TlsError(
                call.action,
                "the TLS certificate of %s could not be verified (%s)" % (self.base_url, _reason(exc)),
                hint="set ca_path to the CA bundle that signed it, or validate_certs: false for a lab",
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if call.careful and not _never_sent(exc):
                raise UnsureError(
                    call.action,
                    "no answer from %s (%s); it may have acted" % (self.base_url, _reason(exc)),
                    request_id=call.request_id,
                ) from None
            return None, exc
        except (requests.exceptions.RequestException, OSError) as exc:
            # Not worth retrying: a bad URL, an unreadable ca_path, and the like.
            raise ApiError(
                call.action,
                "the request to %s could not be sent (%s)" % (self.base_url, _reason(exc)),
                hint="check %s, and ca_path" % self.hint_options,
            ) from None

    def _last(self, call, response, failure, attempts):
        """The answer when retries are spent: the last response, or the error of a server never reached."""
        if response is not None:
            return response
        raise ApiError(
            call.action,
            "cannot reach %s after %d attempts (%s)" % (self.base_url, attempts, _reason(failure)),
            request_id=call.request_id,
            hint="check %s, the network path, and that the server is up" % self.hint_options,
        )


def _never_sent(exc):
    """True when the connection itself failed, so the server never saw the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(
        _innermost(exc), (requests.packages.urllib3.exceptions.NewConnectionError, ConnectionRefusedError)
    )


def send_mutation(send, took_effect, max_attempts):
    """`send()` once more each time a read-back says the mutation did not act; (response, effect).

    For servers that keep no request ids to replay (Move, vCenter): after an unsure answer (see
    UNSURE_STATUSES) or none at all, `took_effect()` reads the object back and returns what the
    call would have produced if it acted, else None, and only then is the call sent again. The
    result is the final response, or None and the read-back's effect.
    """
    attempt = 0
    while True:
        attempt += 1
        failure = None
        try:
            response = send()
        except UnsureError as err:
            response, failure = None, err
        else:
            if response.status_code not in UNSURE_STATUSES:
                return response, None
        effect = took_effect()
        if effect is not None:
            return None, effect
        if attempt >= max_attempts:
            if response is None:
                raise failure
            return response, None
        time.sleep(backoff_seconds(attempt))


def _innermost(exc):
    """The innermost cause of a requests/urllib3 exception, without the chain of wrappers."""
    while exc.args and isinstance(exc.args[0], Exception):
        exc = exc.args[0]
    return getattr(exc, "reason", None) or exc


def _reason(exc):
    """The innermost message of a requests/urllib3 exception."""
    # urllib3 prefixes "<HTTPSConnection object at 0x…>: ", which tells the operator nothing.
    return re.sub(r"^<[^>]+>: ", "", str(_innermost(exc)))

"""The transport's auth objects and hints: what each sends, a login token renewed after a 401, and the
options a refused connection names, which are the caller's, never Prism's."""

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible_collections.day2ops.ahv.plugins.module_utils import _http
from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
    ApiError,
    Auth,
    BasicAuth,
    BearerAuth,
    HeaderKeyAuth,
    LoginTokenAuth,
    Transport,
)


class Server(ThreadingHTTPServer):
    """Answers 401 to a token it no longer takes, else the headers it was sent."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.expired = set()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        headers = dict(self.headers)
        status = 401 if headers.get("Authorization") in self.server.expired else 200
        body = json.dumps(headers).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    server = Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def sent(server, auth):
    return Transport(server.url, auth, ("url",)).request("GET", "/", "read").json()


def test_each_auth_sends_its_header(server):
    assert (
        sent(server, BasicAuth("admin", "pässword"))["Authorization"]
        == "Basic " + base64.b64encode("admin:pässword".encode("latin-1")).decode()
    )
    assert sent(server, HeaderKeyAuth("X-ntnx-api-key", "k1"))["X-ntnx-api-key"] == "k1"
    assert sent(server, BearerAuth("t1"))["Authorization"] == "Bearer t1"
    assert "Authorization" not in sent(server, Auth())


def test_a_login_token_is_fetched_once_and_again_after_a_401(server):
    tokens = iter(("first", "second"))

    def login(transport):
        assert "Authorization" not in transport.request("POST", "/login", "log in", authenticate=False).json()
        return next(tokens)

    auth = LoginTokenAuth(login, "Authorization", "Bearer ")
    transport = Transport(server.url, auth, ("url",))
    assert transport.request("GET", "/", "read").json()["Authorization"] == "Bearer first"
    assert transport.request("GET", "/", "read").json()["Authorization"] == "Bearer first"
    server.expired.add("Bearer first")
    assert transport.request("GET", "/", "read").json()["Authorization"] == "Bearer second"
    assert auth.logins == 2


def test_a_refused_connection_names_the_callers_options(monkeypatch):
    monkeypatch.setattr(_http, "backoff_seconds", lambda attempt: 0.01)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    transport = Transport(f"http://127.0.0.1:{port}", Auth(), ("instance_url",), max_retries=1)
    with pytest.raises(ApiError) as err:
        transport.request("GET", "/api/now/table/x", "read ServiceNow table x")
    assert "cannot reach" in str(err.value) and "after 2 attempts" in str(err.value)
    assert err.value.hint == "check instance_url, the network path, and that the server is up"

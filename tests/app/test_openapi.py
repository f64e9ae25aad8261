"""Schemathesis against the app's own OpenAPI document: whatever it sends, the app never answers 5xx.

Both as an admin (every endpoint reachable) and with no credentials at all (every endpoint refuses).
"""

import pytest
import schemathesis
from app_process import start_app
from day2ops_app.main import create_app
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error


@pytest.fixture(scope="module")
def app(sim_process, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("openapi")
    app = start_app(sim_process, workdir, f"sqlite:///{workdir / 'audit.db'}")
    yield app
    app.stop()
    # Not even a traceback in the log: a 4xx that was a crash underneath would hide there.
    assert "Traceback" not in app.log(), app.log()[-5000:]


@pytest.fixture(scope="module")
def admin_token(app):
    return app.cli("token", "create", "ada").stdout.strip()


# The document the app serves, built the same way without a server, so pytest can parametrize on it;
# every call goes to the real process.
schema = schemathesis.openapi.from_dict(create_app().openapi())
# Derandomized and with no example database: the same requests every run, nothing left in the tree.
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@schema.parametrize()
@EXAMPLES
def test_no_server_error_as_admin(case, app, admin_token):
    case.call_and_validate(
        app.url, headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error]
    )


@schema.parametrize()
@EXAMPLES
def test_no_server_error_and_no_access_without_credentials(case, app):
    response = case.call_and_validate(app.url, checks=[not_a_server_error])
    if case.path not in ("/healthz", "/api/auth/login"):
        assert response.status_code in (401, 403, 404, 405), (case.method, case.path, response.status_code)

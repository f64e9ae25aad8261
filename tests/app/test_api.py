"""The app as a real process against the simulator: auth, RBAC, forms, runs through ansible-runner."""

import json

import pytest
from app_process import USER_PASSWORD, start_app


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}")
    yield app
    app.stop()


def test_every_endpoint_needs_a_login(app):
    import requests

    spec = requests.get(f"{app.url}/openapi.json", timeout=30).json()
    checked = 0
    for path, methods in spec["paths"].items():
        if path in ("/api/auth/login", "/healthz"):
            continue
        for method in methods:
            url = app.url + path.replace("{", "").replace("}", "")
            r = requests.request(method.upper(), url, json={}, timeout=30)
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            checked += 1
    assert checked >= 20


def test_login_csrf_and_tokens(app):
    import requests

    r = requests.post(f"{app.url}/api/auth/login", json={"username": "olivia", "password": "wrong-password"})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    olivia = app.client("olivia")
    # A change without the CSRF header is refused even with a valid session cookie.
    bare = requests.Session()
    bare.cookies.update(olivia.session.cookies)
    r = bare.post(f"{app.url}/api/tokens", json={"name": "ci"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = olivia.post("/api/tokens", {"name": "ci"})
    assert r.status_code == 201
    token = r.json()["token"]
    r = requests.get(f"{app.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json()["username"] == "olivia"
    # The token is kept only as a digest: the database file never holds it.
    assert token.encode() not in (app.workdir / "audit.db").read_bytes()


def test_rbac(app):
    olivia = app.client("olivia")
    assert (
        olivia.post("/api/users", {"username": "eve", "password": "x" * 12, "roles": ["admin"]}).status_code
        == 403
    )
    alex = app.client("alex")  # an approver only: the catalog's items are for operators
    assert alex.get("/api/catalog").json() == []
    assert alex.post("/api/runs", {"item_id": "chargeback", "inputs": {}}).status_code == 403
    ada = app.client("ada")
    r = ada.post("/api/users", {"username": "eve", "password": "x" * 12, "roles": ["operator"]})
    assert r.status_code == 201
    assert r.json()["roles"] == ["operator"]
    assert "password" not in r.text


def test_form_errors_name_the_field(app):
    olivia = app.client("olivia")
    r = olivia.post(
        "/api/runs",
        {
            "item_id": "safe_patch",
            "inputs": {"department": "HR", "retention": "3 weeks", "serial": 0, "colour": "red"},
        },
    )
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"environment", "retention", "serial", "colour"}
    assert "hours or days" in errors["retention"]
    assert "greater than or equal to 1" in errors["serial"]
    assert "not an input of safe_patch" in errors["colour"]
    # A value Prism does not offer is refused, naming what it offers.
    r = olivia.post(
        "/api/runs", {"item_id": "safe_patch", "inputs": {"department": "Nope", "environment": "Test"}}
    )
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["field"] == "department" and "'Nope' is not offered by Prism" in error["message"]
    assert "HR" in error["message"]
    assert olivia.get("/api/runs").json() == []  # nothing was recorded, nothing ran


def test_live_choices(app, sim):
    olivia = app.client("olivia")
    departments = {c["value"] for c in olivia.get("/api/catalog/safe_patch/choices/department").json()}
    _vms, categories = sim.estate()
    assert departments == {value for key, value in categories.values() if key == "Department"}
    clusters = [c["value"] for c in olivia.get("/api/catalog/dr_replicate/choices/cluster").json()]
    assert "dr-ahv-01" in clusters
    assert json.dumps(clusters)  # plain JSON list


def test_users_cli_refuses_weak_password(app):
    done = app.cli("user", "add", "weak", "--role", "operator", "--password-stdin", stdin="short\n")
    assert done.returncode != 0 and "at least 12 characters" in done.stderr
    done = app.cli(
        "user", "add", "olivia", "--role", "operator", "--password-stdin", stdin=USER_PASSWORD + "\n"
    )
    assert done.returncode != 0 and "exists already" in done.stderr

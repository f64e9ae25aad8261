"""Issue 18, findings 2 and 6: logins cannot stall the app, throttling and lockouts, tokens and users,
security headers, and CSV evidence a spreadsheet cannot run."""

import csv
import io
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import requests
import yaml
from app_process import USER_PASSWORD, start_app

WRONG = "wrong user name or password"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'audit.db'}"


def login(app, username, password, **headers) -> requests.Response:
    body = {"username": username, "password": password}
    return requests.post(f"{app.url}/api/auth/login", json=body, headers=headers, timeout=60)


def bearer(app, token) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def delete(client, path) -> requests.Response:
    return client.session.delete(f"{client.url}{path}", timeout=60)


# -- finding 2: login cannot stall the app --------------------------------------------------------------


def test_wrong_logins_do_not_stall_or_break_other_requests(sim, tmp_path, sqlite_url):
    """40 concurrent wrong logins (each a full argon2 check: the lockout is set out of reach) while a
    logged-in client reads the catalog: its reads stay about as fast as when idle, nothing answers 500."""
    out_of_reach = {"login_max_failures": 10_000, "login_max_failures_per_address": 10_000}
    app = start_app(sim, tmp_path, sqlite_url, **out_of_reach)
    try:
        authorization = app.token_client("olivia").session.headers["Authorization"]

        def timed_read() -> tuple[float, int]:
            started = time.perf_counter()
            r = requests.get(f"{app.url}/api/catalog", headers={"Authorization": authorization}, timeout=120)
            return time.perf_counter() - started, r.status_code

        idle = [timed_read() for _ in range(20)]
        with ThreadPoolExecutor(40) as flood, ThreadPoolExecutor(40) as readers:
            logins = [flood.submit(login, app, "olivia", f"wrong-password-{n}") for n in range(40)]
            # A read every 100 ms, whether the last one came back or not: the samples cover the flood
            # evenly, so a stall shows in the median however few reads get through it.
            sampled = []
            while not all(f.done() for f in logins):
                sampled.append(readers.submit(timed_read))
                time.sleep(0.1)
            loaded = [f.result() for f in sampled]
        statuses = [f.result().status_code for f in logins] + [s for _, s in idle + loaded]
        assert 500 not in statuses and set(statuses) <= {200, 401}, statuses
        idle_median = statistics.median(t for t, _ in idle)
        loaded_median = statistics.median(t for t, _ in loaded)
        # Two shared cores: argon2 takes CPU from everyone; the old store queued every request behind it.
        assert loaded_median <= max(5 * idle_median, 0.3), (idle_median, loaded_median)
    finally:
        app.stop()


def test_wrong_logins_lock_the_user_out_until_an_admin_lifts_it(sim, tmp_path, db_url):
    app = start_app(sim, tmp_path, db_url, login_max_failures=3, login_lockout_seconds=600)
    try:
        refusals = [login(app, "olivia", "not-her-password") for _ in range(3)]
        assert [r.status_code for r in refusals] == [401] * 3
        locked = login(app, "olivia", USER_PASSWORD)  # the right password, during the lockout
        assert locked.status_code == 429, locked.text
        assert 0 < int(locked.headers["Retry-After"]) <= 600
        assert "lift" in locked.json()["detail"]

        # A name that does not exist answers the same, every step of the way.
        ghost = [login(app, "nobody", "not-a-password") for _ in range(3)]
        assert [(r.status_code, r.json()) for r in ghost] == [(401, {"detail": WRONG})] * 3
        assert refusals[0].json() == {"detail": WRONG}
        ghost_locked = login(app, "nobody", "not-a-password")
        assert (ghost_locked.status_code, ghost_locked.json()) == (429, locked.json())

        ada = app.client("ada")
        assert {"user": "olivia", "address": None} in [
            {k: lock[k] for k in ("user", "address")} for lock in ada.get("/api/lockouts").json()
        ]
        assert delete(app.client("alex"), "/api/users/olivia/lockout").status_code == 403
        assert delete(ada, "/api/users/olivia/lockout").status_code == 204
        assert login(app, "olivia", USER_PASSWORD).status_code == 200

        # Locked again, lifted from the command line this time.
        for _ in range(3):
            login(app, "olivia", "not-her-password")
        assert login(app, "olivia", USER_PASSWORD).status_code == 429
        done = app.cli("user", "unlock", "olivia")
        assert done.returncode == 0, done.stderr
        assert login(app, "olivia", USER_PASSWORD).status_code == 200
    finally:
        app.stop()


def test_one_address_trying_many_names_is_locked_out(sim, tmp_path, sqlite_url):
    app = start_app(sim, tmp_path, sqlite_url, login_max_failures_per_address=10, login_lockout_seconds=600)
    try:
        names = ["olivia", "alex", "sam", "ada", *(f"guess{n}" for n in range(6))]
        assert {login(app, name, "spray-password").status_code for name in names} == {401}
        for name in ("olivia", "ada"):  # every user from that address, right password or not
            r = login(app, name, USER_PASSWORD)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, r.text
        # Another address (as a reverse proxy on this host reports it) is not locked out.
        assert login(app, "olivia", USER_PASSWORD, **{"X-Forwarded-For": "192.0.2.7"}).status_code == 200
        done = app.cli("user", "unlock", "--address", "127.0.0.1")
        assert done.returncode == 0, done.stderr
        assert login(app, "olivia", USER_PASSWORD).status_code == 200
    finally:
        app.stop()


def test_an_unknown_user_takes_as_long_as_a_wrong_password(sim, tmp_path, sqlite_url):
    """Not a finding (the store already checked a dummy hash), kept so the new login flow stays so."""
    app = start_app(sim, tmp_path, sqlite_url, login_max_failures=100)
    try:

        def timed(username) -> float:
            started = time.perf_counter()
            r = login(app, username, "not-the-password")
            assert (r.status_code, r.json()) == (401, {"detail": WRONG})
            return time.perf_counter() - started

        known = statistics.median(timed("olivia") for _ in range(5))
        unknown = statistics.median(timed("nobody") for _ in range(5))
        assert 0.5 * known <= unknown <= 2 * known, (known, unknown)
    finally:
        app.stop()


# -- finding 6: tokens and users ------------------------------------------------------------------------


def _expires_in(token: dict) -> timedelta:
    return datetime.fromisoformat(token["expires_at"]).astimezone(UTC) - datetime.now(UTC)


def test_tokens_expire_are_listed_revoked_and_scoped(sim, tmp_path, db_url):
    app = start_app(sim, tmp_path, db_url)
    try:
        olivia = app.client("olivia")
        ci = olivia.post("/api/tokens", {"name": "ci"})
        assert ci.status_code == 201, ci.text
        assert timedelta(days=89.9) < _expires_in(ci.json()) <= timedelta(days=90)
        too_long = olivia.post("/api/tokens", {"name": "forever", "days": 366})
        assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "days", too_long.text
        short = olivia.post("/api/tokens", {"name": "short", "days": 7}).json()
        assert timedelta(days=6.9) < _expires_in(short) <= timedelta(days=7)

        # A token cannot mint tokens, unless its user is an admin.
        as_ci = bearer(app, ci.json()["token"])
        r = as_ci.post(f"{app.url}/api/tokens", json={"name": "child"}, timeout=60)
        assert r.status_code == 403 and "cannot create tokens" in r.text, r.text
        ada = app.client("ada")
        as_ada = bearer(app, ada.post("/api/tokens", {"name": "admin-ci"}).json()["token"])
        assert as_ada.post(f"{app.url}/api/tokens", json={"name": "child"}, timeout=60).status_code == 201

        # Listed, never with the secret; only an admin lists someone else's.
        listed = olivia.get("/api/tokens")
        assert [t["name"] for t in listed.json()] == ["ci", "short"]
        assert all("token" not in t for t in listed.json())
        assert ci.json()["token"] not in listed.text and short["token"] not in listed.text
        assert app.client("alex").get("/api/tokens?username=olivia").status_code == 403
        assert ada.get("/api/tokens?username=olivia").json() == listed.json()

        # Revoked by their owner, or an admin; another user does not even see them.
        assert delete(app.client("sam"), f"/api/tokens/{ci.json()['id']}").status_code == 404
        assert as_ci.get(f"{app.url}/api/auth/me", timeout=60).status_code == 200
        assert delete(olivia, f"/api/tokens/{ci.json()['id']}").status_code == 204
        assert as_ci.get(f"{app.url}/api/auth/me", timeout=60).status_code == 401
        assert delete(ada, f"/api/tokens/{short['id']}").status_code == 204
        assert [t["revoked"] for t in olivia.get("/api/tokens").json()] == [True, True]

        # A read-only token reads, and changes nothing.
        dashboard = olivia.post("/api/tokens", {"name": "dashboard", "scope": "read"}).json()
        as_dashboard = bearer(app, dashboard["token"])
        assert as_dashboard.get(f"{app.url}/api/runs", timeout=60).status_code == 200
        for method, path, body in (
            ("POST", "/api/runs", {"item_id": "chargeback", "inputs": {}}),
            ("DELETE", f"/api/tokens/{dashboard['id']}", None),
        ):
            r = as_dashboard.request(method, f"{app.url}{path}", json=body, timeout=60)
            assert r.status_code == 403 and "scope read" in r.text, (method, path, r.text)

        # `day2ops token create` gives the same default lifetime.
        made = app.cli("token", "create", "olivia", "--name", "from-cli")
        assert made.returncode == 0, made.stderr
        mine = bearer(app, made.stdout.strip()).get(f"{app.url}/api/tokens", timeout=60).json()
        (cli_token,) = [t for t in mine if t["name"] == "from-cli"]
        assert timedelta(days=89.9) < _expires_in(cli_token) <= timedelta(days=90)
    finally:
        app.stop()


def test_a_disabled_user_is_refused_at_once(sim, tmp_path, db_url):
    app = start_app(sim, tmp_path, db_url)
    try:
        olivia = app.client("olivia")
        as_token = bearer(app, olivia.post("/api/tokens", {"name": "ci"}).json()["token"])
        ada = app.client("ada")
        assert ada.patch("/api/users/ada", {"disabled": True}).status_code == 409
        assert olivia.patch("/api/users/sam", {"disabled": True}).status_code == 403

        r = ada.patch("/api/users/olivia", {"disabled": True})
        assert r.status_code == 200 and r.json()["disabled"] is True, r.text
        assert olivia.get("/api/auth/me").status_code == 401
        assert as_token.get(f"{app.url}/api/auth/me", timeout=60).status_code == 401
        refused = login(app, "olivia", USER_PASSWORD)
        assert (refused.status_code, refused.json()) == (401, {"detail": WRONG})

        assert ada.patch("/api/users/olivia", {"disabled": False}).status_code == 200
        # Her old browser session ended for good; a new login works.
        assert olivia.get("/api/auth/me").status_code == 401
        again = app.client("olivia")
        assert again.get("/api/auth/me").status_code == 200

        done = app.cli("user", "disable", "olivia")
        assert done.returncode == 0, done.stderr
        assert again.get("/api/auth/me").status_code == 401
    finally:
        app.stop()


# -- finding 6: security headers and cookies -------------------------------------------------------------


class _Inline(HTMLParser):
    """What a script-src 'self' / style-src 'self' policy would block in a page."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on") or name == "style"]
        if tag == "style":
            self.found.append("<style>")
        self._in_script = tag == "script"
        if self._in_script and "src" not in names:
            self.found.append("<script> without src")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script {data.strip()[:40]!r}")

    def handle_endtag(self, tag):
        self._in_script = False


def test_security_headers_on_every_answer(sim, tmp_path, sqlite_url):
    app = start_app(sim, tmp_path, sqlite_url)
    try:
        olivia = app.client("olivia")
        anonymous = requests.Session()
        pages = ["/ui/", "/ui/history", "/ui/approvals", "/ui/schedules", "/ui/chargeback"]
        pages.append("/ui/items/chargeback")
        answers = {
            "api": olivia.get("/api/catalog"),
            "refused": anonymous.get(f"{app.url}/api/runs", timeout=60),
            "not found": olivia.get("/api/runs/no-such-run"),
            "invalid": olivia.post("/api/runs", {"item_id": 7}),
            "static": anonymous.get(f"{app.url}/ui/static/app.js", timeout=60),
            "login page": anonymous.get(f"{app.url}/ui/login", timeout=60),
            **{page: olivia.get(page) for page in pages},
        }
        assert answers["refused"].status_code == 401 and answers["not found"].status_code == 404
        for what, r in answers.items():
            directives = r.headers.get("Content-Security-Policy", "").split(";")
            policy = {d.strip().split(" ", 1)[0]: d.strip() for d in directives}
            assert policy.get("frame-ancestors") == "frame-ancestors 'none'", (what, r.headers)
            assert policy.get("script-src") == "script-src 'self'", (what, r.headers)
            assert "unsafe" not in r.headers["Content-Security-Policy"], what
            assert r.headers.get("X-Frame-Options") == "DENY", what
            assert r.headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), what
            assert r.headers.get("X-Content-Type-Options") == "nosniff", what
        # The pages keep to that policy: no inline script, handler or style the browser would block.
        for what in [*pages, "login page"]:
            parser = _Inline()
            parser.feed(answers[what].text)
            assert parser.found == [], (what, parser.found)
        # Plain http: the session cookie cannot be Secure, or the browser would drop it.
        assert "secure" not in login(app, "olivia", USER_PASSWORD).headers["Set-Cookie"].lower()
    finally:
        app.stop()


def test_session_cookie_is_secure_when_the_app_is_served_over_https(sim, tmp_path, sqlite_url):
    # The test talks plain http to the app; only its announced address is https.
    app = start_app(sim, tmp_path, sqlite_url, base_url="https://day2ops.example.test")
    try:
        cookie = login(app, "olivia", USER_PASSWORD).headers["Set-Cookie"]
        assert "day2ops_session=" in cookie and "; secure" in cookie.lower(), cookie
    finally:
        app.stop()


# -- finding 6: CSV evidence ------------------------------------------------------------------------------

# The realistic path: text a user chose (a run's input) names a task, and the task's name is a cell of the
# evidence. VM names from Prism reach the host column the same way.
FORMULA_PLAYBOOK = {
    "name": "Power a VM off and on, under names the operator chose",
    "hosts": "localhost",
    "connection": "local",
    "gather_facts": False,
    "tasks": [
        {"name": "{{ off_label }}", "day2ops.ahv.vm_power": {"ext_id": "{{ vm }}", "state": "powered_off"}},
        {"name": "{{ on_label }}", "day2ops.ahv.vm_power": {"ext_id": "{{ vm }}", "state": "powered_on"}},
    ],
}
FORMULA_ITEM = {
    "id": "labelled_power",
    "title": "Power a VM off and on",
    "group": "Tests",
    "description": "Names its tasks after two inputs.",
    "playbook": "labelled_power.yml",
    "inputs": [
        {"name": "vm", "label": "VM", "type": "choice", "required": True, "choices_from": {"source": "vms"}},
        {"name": "off_label", "label": "Off step", "type": "string", "required": True, "max": 200},
        {"name": "on_label", "label": "On step", "type": "string", "required": True, "max": 200},
    ],
}


def test_csv_evidence_disarms_spreadsheet_formulas(sim, tmp_path, sqlite_url):
    catalog, playbooks = tmp_path / "catalog", tmp_path / "playbooks"
    catalog.mkdir()
    playbooks.mkdir()
    (catalog / "items.yml").write_text(yaml.safe_dump({"items": [FORMULA_ITEM]}))
    (playbooks / "labelled_power.yml").write_text(yaml.safe_dump([FORMULA_PLAYBOOK], sort_keys=False))
    app = start_app(sim, tmp_path, sqlite_url, catalog_dir=catalog, playbook_dir=playbooks)
    try:
        olivia = app.client("olivia")
        vm = olivia.get("/api/catalog/labelled_power/choices/vm").json()[0]["value"]
        labels = {"off_label": '=HYPERLINK("http://attacker.example/","click")', "on_label": "@SUM(1)"}
        execution = olivia.wait(olivia.run("labelled_power", vm=vm, **labels)["id"])
        assert execution["status"] == "successful", execution
        rows = list(
            csv.DictReader(io.StringIO(olivia.get(f"/api/runs/{execution['id']}/evidence?format=csv").text))
        )
        assert sorted(r["task"] for r in rows) == sorted(f"'{label}" for label in labels.values()), rows
        assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values()), rows
    finally:
        app.stop()
